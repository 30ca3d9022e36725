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
	"github.com/accountops/account-lifecycle-operator/internal/text"
)

var explainCmd = command{
	name: "explain", args: "ACCOUNT",
	short: "Explain why an account is in its phase, which incidents count, and what happens next and when.",
	long: "Reads the account and its policy (resolved as the operator does) and evaluates\n" +
		"them with the lifecycle engine now, offline: nothing is written.\n\nExample:\n  kubectl account explain initech\n",
	setup: func(a *app, fs *pflag.FlagSet) func(context.Context, []string) error {
		output := outputFlag(fs)
		return func(ctx context.Context, args []string) error {
			if err := exactArgs(args, "ACCOUNT"); err != nil {
				return err
			}
			if err := checkOutput(*output); err != nil {
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
			if *output != "" {
				return writeStructured(a.stdout, *output, explanation(&acct, res, a.now))
			}
			return explain(a.stdout, &acct, res, a.now)
		}
	},
}

// explain writes the human-readable explanation of acct under the resolved
// policy at now.
func explain(w io.Writer, acct *v1alpha1.CustomerAccount, res resolve.Resolution, now time.Time) error {
	p := &printer{w: w}
	st := &acct.Status
	title := acct.Name
	if acct.Spec.DisplayName != "" {
		title += " (" + acct.Spec.DisplayName + ")"
	}
	p.printf("Account:  %s\n", title)
	if st.Phase == "" {
		p.printf("Phase:    not yet evaluated by the operator\n")
	} else {
		p.printf("Phase:    %s since %s\n", st.Phase, stamp(st.PhaseSince, now))
	}
	policy := res.Policy
	if policy == nil {
		p.printf("Policy:   none usable (%s): %s\n", res.Reason, res.Message)
		p.printf("          The account is not evaluated; nothing is enforced or restored because of it.\n")
	} else {
		th := policy.Spec.Thresholds
		p.printf("Policy:   %s (window %s, notice period %s, approval required: %t)\n", policy.Name,
			policy.Spec.EffectiveWindow(), policy.Spec.EffectiveNoticePeriod(), policy.Spec.EffectiveRequireApproval())
		d := lifecycle.Evaluate(acct, policy, now)
		p.printf("Score:    %d (thresholds: Warned %d, FinalNotice %d, Terminated %d; reached: %s)\n",
			d.Score, th.Warned, th.FinalNotice, th.Terminated, orNone(joinPhases(d.Thresholds)))
		if d.PrimaryConcern != "" {
			p.printf("Concern:  %s\n", d.PrimaryConcern)
		}
		if d.Transition != nil {
			p.printf("Due now:  %s -> %s (%s): %s\n", d.Transition.From, d.Transition.To, d.Transition.Reason, d.Transition.Message)
		}
		p.printf("Next:     %s\n", d.Explanation)
		if d.NextEvaluation != nil {
			p.printf("          next evaluation %s\n", stampTime(*d.NextEvaluation, now))
		}
	}

	p.printf("\nIncidents (%d):\n", len(acct.Spec.Incidents))
	if len(acct.Spec.Incidents) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		t := &printer{w: tw}
		t.printf("  ID\tCATEGORY\tSEVERITY\tOCCURRED\tPOINTS\tCOUNTS\tSUMMARY\n")
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
			t.printf("  %s\t%s\t%s\t%s\t%d\t%s\t%s\n", inc.ID, inc.Category, inc.Severity,
				inc.OccurredAt.UTC().Format(timeFmt), lifecycle.Points(policy, inc), counts, text.Truncate(inc.Summary, 60))
		}
		if t.err == nil {
			t.err = tw.Flush()
		}
		if t.err != nil {
			return t.err
		}
	}

	if policy != nil {
		if err := writeDecisions(p, acct, policy, now); err != nil {
			return err
		}
	}

	p.printf("\nConditions:\n")
	if len(st.Conditions) == 0 {
		p.printf("  none reported yet\n")
	}
	for _, c := range st.Conditions {
		p.printf("  %s=%s (%s): %s\n", c.Type, c.Status, c.Reason, c.Message)
	}
	if acct.Spec.Hold.IsDefined() {
		h := acct.Spec.Hold
		p.printf("  hold by %s until %s: %s\n", h.By, h.Until.UTC().Format(timeFmt), h.Reason)
	}

	p.printf("\nEnforcement (from status):\n")
	if acct.Labels[v1alpha1.LabelExempt] == "true" {
		p.printf("  the account is exempt: nothing is ever enforced on it\n")
	}
	if len(st.Namespaces) == 0 {
		p.printf("  no tenant namespaces reported\n")
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
		p.printf("%s\n", line)
	}
	return p.err
}

func joinPhases(ps []v1alpha1.AccountPhase) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

// writeDecisions shows the termination approvals (which count, how many
// are needed) and the appeals (decided or not, and who may still decide).
func writeDecisions(p *printer, acct *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, now time.Time) error {
	needed, verdicts := lifecycle.Approvals(acct, policy, now)
	p.printf("\nApprovals (termination needs %d from different people who reported no counted incident):\n", needed)
	if len(verdicts) == 0 {
		p.printf("  none recorded\n")
	}
	for _, v := range verdicts {
		status := "counts"
		if v.Why != "" {
			status = "does not count: " + v.Why
		}
		p.printf("  %s at %s: %s\n", v.By, v.At.UTC().Format(timeFmt), status)
	}
	var appeals []string
	for i := range acct.Spec.Incidents {
		inc := &acct.Spec.Incidents[i]
		a := inc.Appeal
		if !a.IsDefined() {
			continue
		}
		line := fmt.Sprintf("  %s: appealed by %s at %s: %q; ", inc.ID, a.By, a.At.UTC().Format(timeFmt), text.Truncate(a.Statement, 80))
		if d := &a.Decision; d.IsDefined() {
			line += fmt.Sprintf("%s by %s at %s (%s)", d.Outcome, d.By, d.At.UTC().Format(timeFmt), d.Reason)
		} else {
			excluded := []string{inc.ReportedBy, a.By}
			if inc.RelayedBy != "" {
				excluded = append(excluded, inc.RelayedBy)
			}
			line += "undecided; anyone with decide-appeals may decide it except " + strings.Join(excluded, ", ")
		}
		appeals = append(appeals, line)
	}
	p.printf("\nAppeals (%d):\n", len(appeals))
	for _, l := range appeals {
		p.printf("%s\n", l)
	}
	return p.err
}
