package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/lifecycle"
	"github.com/accountops/account-lifecycle-operator/internal/resolve"
)

var explainCmd = command{
	name: "explain", args: "ACCOUNT",
	short: "Explain why an account is in its phase, which incidents count, and what happens next and when.",
	long: "Reads the account and its policy (resolved as the operator does) and evaluates\n" +
		"them with the lifecycle engine now, offline: nothing is written.\n\nExample:\n  kubectl account explain initech\n",
	setup: func(a *app, _ *pflag.FlagSet) func(context.Context, []string) error {
		return func(ctx context.Context, args []string) error {
			if err := exactArgs(args, "ACCOUNT"); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			var acct v1alpha1.CustomerAccount
			if err := c.Get(ctx, client.ObjectKey{Name: args[0]}, &acct); err != nil {
				if apierrors.IsNotFound(err) {
					return fmt.Errorf("customer account %q not found", args[0])
				}
				return err
			}
			res, err := resolve.Policy(ctx, c, &acct)
			if err != nil {
				return err
			}
			explain(a.stdout, &acct, res, a.now)
			return nil
		}
	},
}

// explain writes the human-readable explanation of acct under the resolved
// policy at now.
func explain(w io.Writer, acct *v1alpha1.CustomerAccount, res resolve.Resolution, now time.Time) {
	st := &acct.Status
	title := acct.Name
	if acct.Spec.DisplayName != "" {
		title += " (" + acct.Spec.DisplayName + ")"
	}
	fmt.Fprintf(w, "Account:  %s\n", title)
	if st.Phase == "" {
		fmt.Fprintf(w, "Phase:    not yet evaluated by the operator\n")
	} else {
		fmt.Fprintf(w, "Phase:    %s since %s\n", st.Phase, stamp(st.PhaseSince, now))
	}
	policy := res.Policy
	if policy == nil {
		fmt.Fprintf(w, "Policy:   none usable (%s): %s\n", res.Reason, res.Message)
		fmt.Fprintln(w, "          The account is not evaluated; nothing is enforced or restored because of it.")
	} else {
		th := policy.Spec.Thresholds
		fmt.Fprintf(w, "Policy:   %s (window %s, notice period %s, approval required: %t)\n", policy.Name,
			policy.Spec.EffectiveWindow(), policy.Spec.EffectiveNoticePeriod(), policy.Spec.EffectiveRequireApproval())
		d := lifecycle.Evaluate(acct, policy, now)
		fmt.Fprintf(w, "Score:    %d (thresholds: Warned %d, FinalNotice %d, Terminated %d; reached: %s)\n",
			d.Score, th.Warned, th.FinalNotice, th.Terminated, orNone(joinPhases(d.Thresholds)))
		if d.PrimaryConcern != "" {
			fmt.Fprintf(w, "Concern:  %s\n", d.PrimaryConcern)
		}
		if d.Transition != nil {
			fmt.Fprintf(w, "Due now:  %s -> %s (%s): %s\n", d.Transition.From, d.Transition.To, d.Transition.Reason, d.Transition.Message)
		}
		fmt.Fprintf(w, "Next:     %s\n", d.Explanation)
		if d.NextEvaluation != nil {
			fmt.Fprintf(w, "          next evaluation %s\n", stampTime(*d.NextEvaluation, now))
		}
	}

	fmt.Fprintf(w, "\nIncidents (%d):\n", len(acct.Spec.Incidents))
	if len(acct.Spec.Incidents) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  ID\tCATEGORY\tSEVERITY\tOCCURRED\tPOINTS\tCOUNTS\tSUMMARY")
		for i := range acct.Spec.Incidents {
			inc := &acct.Spec.Incidents[i]
			counts := "-"
			if policy != nil {
				if ok, why := lifecycle.Counts(acct, policy, inc, now); ok {
					counts = "yes"
				} else {
					counts = "no: " + why
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%s\t%s\n", inc.ID, inc.Category, inc.Severity,
				inc.OccurredAt.UTC().Format(timeFmt), lifecycle.Points(policy, inc), counts, truncate(inc.Summary, 60))
		}
		_ = tw.Flush()
	}

	fmt.Fprintf(w, "\nConditions:\n")
	if len(st.Conditions) == 0 {
		fmt.Fprintln(w, "  none reported yet")
	}
	for _, c := range st.Conditions {
		fmt.Fprintf(w, "  %s=%s (%s): %s\n", c.Type, c.Status, c.Reason, c.Message)
	}
	if acct.Spec.Hold != nil {
		h := acct.Spec.Hold
		fmt.Fprintf(w, "  hold by %s until %s: %s\n", h.By, h.Until.UTC().Format(timeFmt), h.Reason)
	}

	fmt.Fprintf(w, "\nEnforcement (from status):\n")
	if acct.Labels[v1alpha1.LabelExempt] == "true" {
		fmt.Fprintln(w, "  the account is exempt: nothing is ever enforced on it")
	}
	if len(st.Namespaces) == 0 {
		fmt.Fprintln(w, "  no tenant namespaces reported")
	}
	for _, ns := range st.Namespaces {
		actions := make([]string, len(ns.Actions))
		for i, x := range ns.Actions {
			actions[i] = string(x)
		}
		line := fmt.Sprintf("  %s: %s", ns.Name, orNone(strings.Join(actions, ", ")))
		if ns.Message != "" {
			line += " (" + ns.Message + ")"
		}
		fmt.Fprintln(w, line)
	}
}

func joinPhases(ps []v1alpha1.AccountPhase) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
