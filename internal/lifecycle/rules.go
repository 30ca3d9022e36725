package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// The rules about human decisions, for whoever records one (the kubectl
// plugin) to check before writing, judged the way Evaluate judges them.

// CanApprove says whether a termination approval by `by` given at `at`
// can count for the account as last recorded: only one given during its
// current FinalNotice, by someone who reported (or relayed) none of its
// incidents still standing (not waived, overturned or vendor-caused), and
// who has not approved already. The error says why not.
func CanApprove(account *v1alpha1.CustomerAccount, by string, at time.Time) error {
	st := currentState(account, at)
	if st.phase != finalNotice {
		return fmt.Errorf("account %q is %s, not in FinalNotice: a termination approval only counts when given during the account's current FinalNotice",
			account.Name, phaseOrNew(account.Status.Phase))
	}
	if ids := reportedBy(account, by); len(ids) > 0 {
		return fmt.Errorf("%s reported incident(s) %s of account %q and cannot also approve its termination: it is approved by someone who did not bring the complaint",
			by, strings.Join(ids, ", "), account.Name)
	}
	for _, a := range account.Spec.TerminationApprovals {
		if a.By == by && !a.At.Time.Before(st.since) {
			return fmt.Errorf("%s already approved the termination of account %q at %s; another approval must come from someone else", by, account.Name, fmtTime(a.At.Time))
		}
	}
	return nil
}

// CanDecideAppeal says whether `by` may decide the appeal of incident id:
// it is filed, undecided, and `by` neither reported (nor relayed) the
// incident nor filed the appeal. The error says why not.
func CanDecideAppeal(account *v1alpha1.CustomerAccount, id, by string) error {
	i := slices.IndexFunc(account.Spec.Incidents, func(inc v1alpha1.Incident) bool { return inc.ID == id })
	if i < 0 {
		return fmt.Errorf("account %q has no incident %q", account.Name, id)
	}
	inc := &account.Spec.Incidents[i]
	switch {
	case !inc.Appeal.IsDefined():
		return fmt.Errorf("incident %q of account %q has no appeal to decide", id, account.Name)
	case inc.Appeal.Decision.IsDefined():
		return fmt.Errorf("the appeal of incident %q was already decided (%s by %s); a decision is final", id, inc.Appeal.Decision.Outcome, inc.Appeal.Decision.By)
	case by == inc.ReportedBy || by == inc.RelayedBy:
		return fmt.Errorf("%s reported incident %q and cannot decide its appeal", by, id)
	case by == inc.Appeal.By:
		return fmt.Errorf("%s filed the appeal of incident %q and cannot decide it", by, id)
	}
	return nil
}

// reportedBy are the ids of the account's standing incidents that `by`
// reported or relayed.
func reportedBy(account *v1alpha1.CustomerAccount, by string) []string {
	var ids []string
	for i := range account.Spec.Incidents {
		inc := &account.Spec.Incidents[i]
		standing := inc.Attribution != v1alpha1.AttributionVendor && !inc.Waiver.IsDefined() && overturnedAt(inc) == nil
		if standing && (inc.ReportedBy == by || inc.RelayedBy == by) {
			ids = append(ids, inc.ID)
		}
	}
	return ids
}

// ReinstatementAt is the moment a reinstatement asked for at `at` is dated,
// in whole seconds as stored, so that it lifts the account's termination:
// a reinstatement lifts only a termination it follows. When the termination
// happened in that very second, an unchosen moment (chosen false) is dated
// the next second; a chosen one is refused. The error says why it cannot.
func ReinstatementAt(account *v1alpha1.CustomerAccount, at time.Time, chosen bool) (time.Time, error) {
	if p := account.Status.Phase; p != v1alpha1.PhaseTerminated {
		return time.Time{}, fmt.Errorf("account %q is %s, not Terminated: only a terminated account can be reinstated", account.Name, phaseOrNew(p))
	}
	at = at.Truncate(time.Second)
	st := currentState(account, at)
	if liftsTermination(st.since, at) {
		return at, nil
	}
	if chosen {
		return time.Time{}, fmt.Errorf("%s is not after the termination at %s; a reinstatement only lifts a termination it follows", fmtTime(at), fmtTime(st.since))
	}
	return st.since.Truncate(time.Second).Add(time.Second), nil
}

// liftsTermination: a reinstatement dated at lifts a termination since.
func liftsTermination(since, at time.Time) bool { return since.Before(at) }

// Settle evaluates the account and follows the transitions that are due at
// once (a reinstatement stepping straight down, say), as the operator does
// on its immediate requeue, on a copy: the decision it settles on.
func Settle(account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, now time.Time) Decision {
	acct := account.DeepCopy()
	d := Evaluate(acct, policy, now)
	for range v1alpha1.Phases {
		if d.Transition == nil || d.NextEvaluation == nil || !d.NextEvaluation.Equal(now) {
			break
		}
		acct.Status.Phase, acct.Status.PhaseSince = d.Phase, &metav1.Time{Time: d.PhaseSince}
		acct.Status.ApprovalObservations = d.ApprovalObservations
		d = Evaluate(acct, policy, now)
	}
	return d
}

func phaseOrNew(p v1alpha1.AccountPhase) string {
	if p == "" {
		return "not yet evaluated"
	}
	return string(p)
}
