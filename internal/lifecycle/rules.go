package lifecycle

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// The rules about human decisions, for whoever records one (the kubectl
// plugin) to check before writing, judged the way Evaluate judges them.

// CanApprove says whether a termination approval given at `at` counts for
// the account as last recorded: only one given during its current
// FinalNotice does. The error says why not.
func CanApprove(account *v1alpha1.CustomerAccount, at time.Time) error {
	st := currentState(account, at)
	if st.phase != finalNotice {
		return fmt.Errorf("account %q is %s, not in FinalNotice: a termination approval only counts when given during the account's current FinalNotice",
			account.Name, phaseOrNew(account.Status.Phase))
	}
	return nil
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
		acct.Status.ApprovalObservation = d.ApprovalObservation
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
