package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/lifecycle"
)

var appealCmd = command{
	writes: true,
	name:   "appeal", args: "ACCOUNT INCIDENT-ID --statement TEXT [--by WHO]",
	short: "File the customer's appeal of an incident (once); termination waits for its decision.",
	long: "While a counted incident's appeal is undecided (and was filed within the policy's appealWindow),\n" +
		"the account is not terminated. The appeal is decided with kubectl account decide-appeal.\n\n" +
		"Example:\n  kubectl account appeal initech abuse-2026-1019-email --by bill.lumbergh@initech.example \\\n" +
		"    --statement 'The email was sent by a former employee.'\n",
	setup: func(a *app, fs *pflag.FlagSet) func(context.Context, []string) error {
		statement := fs.String("statement", "", "the customer's side of the story (required)")
		by := fs.String("by", "", "who appeals (default: your cluster user name, else $USER)")
		return func(ctx context.Context, args []string) error {
			if err := checkText("statement", *statement, 2048); err != nil {
				return err
			}
			return a.editIncident(ctx, args, *by, "appealed", func(acct *v1alpha1.CustomerAccount, old *v1alpha1.Incident, who string) (*v1alpha1.Incident, error) {
				if old.Appeal.IsDefined() {
					return nil, fmt.Errorf("incident %q on account %q was already appealed by %s at %s; an appeal is filed once",
						old.ID, acct.Name, old.Appeal.By, old.Appeal.At.UTC().Format(timeFmt))
				}
				appealed := old.DeepCopy()
				appealed.Appeal = &v1alpha1.Appeal{By: who, At: metav1.NewTime(a.now), Statement: *statement}
				return appealed, nil
			})
		}
	},
}

var decideAppealCmd = command{
	writes: true,
	name:   "decide-appeal", args: "ACCOUNT INCIDENT-ID --outcome Upheld|Overturned --reason TEXT [--by WHO]",
	short: "Decide an incident's appeal (once): Upheld stands, Overturned stops it counting.",
	long: "The decider must have neither reported the incident nor filed the appeal.\n\n" +
		"Example:\n  kubectl account decide-appeal initech abuse-2026-1019-email --outcome Overturned \\\n" +
		"    --reason 'The sender had left the company a month before.'\n",
	setup: func(a *app, fs *pflag.FlagSet) func(context.Context, []string) error {
		outcome := fs.String("outcome", "", "Upheld (the incident stands) or Overturned (it stops counting) (required)")
		reason := fs.String("reason", "", "why (required)")
		by := fs.String("by", "", "who decides (default: your cluster user name, else $USER)")
		return func(ctx context.Context, args []string) error {
			o := v1alpha1.AppealOutcome(*outcome)
			if o != v1alpha1.AppealUpheld && o != v1alpha1.AppealOverturned {
				return usagef("--outcome %q: use Upheld or Overturned", *outcome)
			}
			if err := checkText("reason", *reason, v1alpha1.MaxTextLength); err != nil {
				return err
			}
			return a.editIncident(ctx, args, *by, "decided on appeal: "+string(o), func(acct *v1alpha1.CustomerAccount, old *v1alpha1.Incident, who string) (*v1alpha1.Incident, error) {
				if err := lifecycle.CanDecideAppeal(acct, old.ID, who); err != nil {
					return nil, fmt.Errorf("%w, so nothing was recorded", err)
				}
				decided := old.DeepCopy()
				decided.Appeal.Decision = v1alpha1.AppealDecision{Outcome: o, By: who, At: metav1.NewTime(a.now), Reason: *reason}
				return decided, nil
			})
		}
	},
}

// noIncident says the account has no such incident and lists those it has.
func noIncident(acct *v1alpha1.CustomerAccount, id string) error {
	ids := make([]string, len(acct.Spec.Incidents))
	for i, inc := range acct.Spec.Incidents {
		ids[i] = inc.ID
	}
	return fmt.Errorf("account %q has no incident %q (recorded: %s)", acct.Name, id, orNone(strings.Join(ids, ", ")))
}
