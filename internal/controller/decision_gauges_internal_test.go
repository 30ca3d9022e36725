package controller

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// The decision gauges count what waits for people: accounts whose
// termination waits for approval (since the oldest entered FinalNotice) and
// undecided appeals (since the oldest was filed); nothing else.
func TestDecisionGaugesCountWhatWaitsForPeople(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	account := func(name string, phase v1alpha1.AccountPhase, since time.Time, reason string, appeals ...*v1alpha1.Appeal) *v1alpha1.CustomerAccount {
		a := &v1alpha1.CustomerAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}
		a.Status.Phase, a.Status.PhaseSince = phase, &metav1.Time{Time: since}
		if reason != "" {
			a.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionTerminationPending, Status: metav1.ConditionTrue, Reason: reason}}
		}
		for i, ap := range appeals {
			a.Spec.Incidents = append(a.Spec.Incidents, v1alpha1.Incident{ID: string(rune('a' + i)), Appeal: ap})
		}
		return a
	}
	appeal := func(at time.Time, decided bool) *v1alpha1.Appeal {
		a := &v1alpha1.Appeal{By: "customer", At: metav1.NewTime(at), Statement: "no"}
		if decided {
			a.Decision = v1alpha1.AppealDecision{Outcome: v1alpha1.AppealUpheld, By: "ombudsman", At: metav1.NewTime(at)}
		}
		return a
	}
	c := fake.NewClientBuilder().WithScheme(NewScheme()).WithObjects(
		account("waits-long", v1alpha1.PhaseFinalNotice, t0, v1alpha1.ReasonAwaitingApproval, appeal(t0.Add(time.Hour), false)),
		account("waits", v1alpha1.PhaseFinalNotice, t0.Add(2*time.Hour), v1alpha1.ReasonAwaitingApproval),
		account("in-notice", v1alpha1.PhaseFinalNotice, t0.Add(-time.Hour), v1alpha1.ReasonNoticePeriod, appeal(t0.Add(-time.Minute), false)),
		account("appeal-pending", v1alpha1.PhaseFinalNotice, t0.Add(-2*time.Hour), v1alpha1.ReasonAppealPending, appeal(t0.Add(-3*time.Hour), true)),
		account("warned", v1alpha1.PhaseWarned, t0.Add(-9*time.Hour), ""),
	).Build()
	n, oldest, err := awaitingApproval(context.Background(), c)
	if err != nil || n != 2 || !oldest.Equal(t0) {
		t.Errorf("awaiting approval = %d since %s (%v), want 2 since %s", n, oldest, err, t0)
	}
	n, oldest, err = pendingAppeals(context.Background(), c)
	if err != nil || n != 2 || !oldest.Equal(t0.Add(-time.Minute)) {
		t.Errorf("pending appeals = %d since %s (%v), want 2 since %s", n, oldest, err, t0.Add(-time.Minute))
	}
}
