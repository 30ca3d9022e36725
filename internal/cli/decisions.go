package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/lifecycle"
)

const timeFmt = time.RFC3339

var holdCmd = command{
	writes: true,
	name:   "hold", args: "ACCOUNT (--until RFC3339 | --for DURATION | --lift) --reason TEXT [--by WHO]",
	short: "Pause escalation (not de-escalation) until a moment, e.g. to present the issue to the customer.",
	long: "--lift ends the hold in place now, before its time.\n\n" +
		"Example:\n  kubectl account hold initech --for 168h --reason 'Presenting the ticket load to their CTO.'\n" +
		"  kubectl account hold initech --lift --reason 'The CTO declined to meet.'\n",
	setup: func(a *app, fs *pflag.FlagSet) func(context.Context, []string) error {
		until := fs.String("until", "", "when the hold ends, RFC3339")
		period := fs.Duration("for", 0, "how long the hold lasts from now, e.g. 72h")
		lift := fs.Bool("lift", false, "end the hold in place now")
		reason := fs.String("reason", "", "why escalation is paused, or why the hold ends early (required)")
		by := fs.String("by", "", "who places the hold (default: your cluster user name, else $USER)")
		return func(ctx context.Context, args []string) error {
			if err := exactArgs(args, "ACCOUNT"); err != nil {
				return err
			}
			if *lift {
				if *until != "" || fs.Changed("for") {
					return usagef("--lift ends the hold now: give no --until or --for with it")
				}
				if err := checkText("reason", *reason, v1alpha1.MaxTextLength); err != nil {
					return err
				}
				return a.decide(ctx, *by, args[0], "hold", func(acct *v1alpha1.CustomerAccount, who string) (any, string, error) {
					h := acct.Spec.Hold
					if !h.IsDefined() || !h.Until.After(a.now) {
						return nil, "", fmt.Errorf("account %q has no hold in effect to lift", acct.Name)
					}
					return v1alpha1.Hold{Until: metav1.NewTime(a.now), By: who, Reason: "lifted early: " + *reason},
						fmt.Sprintf("the hold by %s (until %s) is lifted as of now; escalation resumes", h.By, h.Until.UTC().Format(timeFmt)), nil
				})
			}
			var end time.Time
			switch {
			case *until != "" && fs.Changed("for"):
				return usagef("give either --until or --for, not both")
			case *until != "":
				t, err := parseTime("until", *until)
				if err != nil {
					return err
				}
				end = t
			case fs.Changed("for"):
				end = a.now.Add(*period)
			default:
				return usagef("--until or --for is required")
			}
			if !end.After(a.now) {
				return usagef("the hold would end at %s, which is not in the future", end.Format(timeFmt))
			}
			if err := checkText("reason", *reason, v1alpha1.MaxTextLength); err != nil {
				return err
			}
			return a.decide(ctx, *by, args[0], "hold", func(acct *v1alpha1.CustomerAccount, who string) (any, string, error) {
				msg := fmt.Sprintf("escalation paused until %s (de-escalation continues)", end.Format(timeFmt))
				if h := acct.Spec.Hold; h.IsDefined() && h.Until.After(a.now) {
					msg += fmt.Sprintf("; replaces the hold by %s until %s", h.By, h.Until.UTC().Format(timeFmt))
				}
				return v1alpha1.Hold{Until: metav1.NewTime(end), By: who, Reason: *reason}, msg, nil
			})
		}
	},
}

var approveCmd = command{
	writes: true,
	name:   "approve", args: "ACCOUNT [--note TEXT] [--by WHO]",
	short: "Record the human approval to terminate an account in FinalNotice.",
	long: "The approval is dated now and only counts during the account's current FinalNotice;\n" +
		"the operator terminates once the notice period has ended and the score still\n" +
		"reaches the termination threshold.\n\nExample:\n  kubectl account approve initech --note 'Reviewed with legal.'\n",
	setup: func(a *app, fs *pflag.FlagSet) func(context.Context, []string) error {
		note := fs.String("note", "", "why termination is approved")
		by := fs.String("by", "", "who approves (default: your cluster user name, else $USER)")
		return func(ctx context.Context, args []string) error {
			if err := exactArgs(args, "ACCOUNT"); err != nil {
				return err
			}
			if len(*note) > v1alpha1.MaxTextLength {
				return usagef("--note is %d characters long; at most %d are allowed", len(*note), v1alpha1.MaxTextLength)
			}
			return a.decide(ctx, *by, args[0], "terminationApprovals", func(acct *v1alpha1.CustomerAccount, who string) (any, string, error) {
				if err := lifecycle.CanApprove(acct, who, a.now); err != nil {
					return nil, "", fmt.Errorf("%w, so nothing was recorded (see kubectl account explain %s)", err, acct.Name)
				}
				// One approval per person: this one replaces any the same
				// person gave in an earlier FinalNotice.
				approvals := []v1alpha1.Decision{{By: who, At: metav1.NewTime(a.now), Note: *note}}
				for _, d := range acct.Spec.TerminationApprovals {
					if d.By != who {
						approvals = append(approvals, d)
					}
				}
				return approvals,
					fmt.Sprintf("termination approved by %s at %s; it happens once the notice period has ended, the policy's approvals are all given and the score still reaches the termination threshold", who, a.now.Format(timeFmt)), nil
			})
		}
	},
}

var reinstateCmd = command{
	writes: true,
	name:   "reinstate", args: "ACCOUNT --reason TEXT [--at RFC3339] [--by WHO]",
	short: "Lift an account's termination; incidents before the reinstatement stop counting.",
	long:  "Example:\n  kubectl account reinstate initech --reason 'New management; fresh start agreed.'\n",
	setup: func(a *app, fs *pflag.FlagSet) func(context.Context, []string) error {
		reason := fs.String("reason", "", "why the account is reinstated (required)")
		at := fs.String("at", "", "when the reinstatement takes effect, RFC3339 (default now)")
		by := fs.String("by", "", "who reinstates (default: your cluster user name, else $USER)")
		return func(ctx context.Context, args []string) error {
			if err := exactArgs(args, "ACCOUNT"); err != nil {
				return err
			}
			when := a.now
			if *at != "" {
				t, err := parseTime("at", *at)
				if err != nil {
					return err
				}
				when = t
			}
			if err := checkText("reason", *reason, v1alpha1.MaxTextLength); err != nil {
				return err
			}
			return a.decide(ctx, *by, args[0], "reinstatement", func(acct *v1alpha1.CustomerAccount, who string) (any, string, error) {
				when, err := lifecycle.ReinstatementAt(acct, when, *at != "")
				switch {
				case err != nil && *at != "" && acct.Status.Phase == v1alpha1.PhaseTerminated:
					return nil, "", usagef("--at %s", err)
				case err != nil:
					return nil, "", fmt.Errorf("%w, so nothing was recorded (to stop an incident counting, waive it)", err)
				}
				return v1alpha1.Reinstatement{By: who, At: metav1.NewTime(when), Reason: *reason},
					fmt.Sprintf("reinstated as of %s; incidents before then no longer count", when.Format(timeFmt)), nil
			})
		}
	},
}

// decide writes one spec field with a JSON merge patch that carries the
// resourceVersion read, so the check made on what was read still holds when
// the write lands; on a conflict it reads and checks again.
func (a *app) decide(ctx context.Context, by, name, field string,
	value func(*v1alpha1.CustomerAccount, string) (any, string, error)) error {
	c, who, err := a.clientAs(ctx, by)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		acct, err := getAccount(ctx, c, name)
		if err != nil {
			return err
		}
		v, msg, err := value(acct, who)
		if err != nil {
			return err
		}
		patch, err := json.Marshal(map[string]any{
			"metadata": map[string]any{"resourceVersion": acct.ResourceVersion},
			"spec":     map[string]any{field: v},
		})
		if err != nil {
			return err
		}
		err = c.Patch(ctx, acct, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(FieldManager))
		switch {
		case err == nil:
			return a.wrote(ctx, c, name, "%s", msg)
		case apierrors.IsConflict(err) && attempt < 5:
			continue
		case apierrors.IsInvalid(err):
			return fmt.Errorf("the API server refused the change: %w", err)
		}
		return err
	}
}
