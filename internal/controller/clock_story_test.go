package controller_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/controller"
	"github.com/accountops/account-lifecycle-operator/internal/enforcement"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// Stories on a fixed clock (kube-green's pattern): the reconciler is called
// directly, at moments the test chooses, against a real API server of the
// test's own (the suite's live manager would reconcile on the real clock).
// Periods are the real ones, 14 days of notice and 90 days of window,
// served exactly and without waiting: every Reconcile's requeue is checked
// to be the exact time to the next evaluation, which is what a live manager
// sleeps on.

// clockStory is a reconciler on a fake clock and the API server it acts on.
type clockStory struct {
	t     *testing.T
	g     Gomega
	c     client.Client
	clock *clocktesting.FakeClock
	r     *controller.CustomerAccountReconciler
}

// storyStart is a fixed moment; nothing in these stories reads the real
// clock.
var storyStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// TestStoriesOnAFixedClock runs the stories below on one API server of
// their own, each with its own clock.
func TestStoriesOnAFixedClock(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	env := testenv.ForTest(t, testenv.Options{Scheme: scheme})
	if err := env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}}); err != nil {
		t.Fatal(err)
	}
	for name, story := range map[string]func(*testing.T, *testenv.Env){
		"the full notice period is served": storyServesTheFullNoticePeriod,
		"incidents expire":                 storyIncidentsExpire,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			story(t, env)
		})
	}
}

func newClockStory(t *testing.T, env *testenv.Env) *clockStory {
	t.Helper()
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(storyStart)
	return &clockStory{t: t, g: g, c: env.Client, clock: clk, r: &controller.CustomerAccountReconciler{
		Client:   env.Client,
		Clock:    clk,
		Recorder: events.NewFakeRecorder(100),
		Enforcer: &enforcement.Enforcer{Client: env.Client, OperatorNamespace: operatorNamespace},
	}}
}

// at moves the clock to storyStart+d and reconciles the account once,
// returning it as written and the time to its next evaluation.
func (s *clockStory) at(d time.Duration, name string) (*v1alpha1.CustomerAccount, time.Duration) {
	s.t.Helper()
	s.clock.SetTime(storyStart.Add(d))
	res, err := s.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKey{Name: name}})
	s.g.Expect(err).NotTo(HaveOccurred())
	a := &v1alpha1.CustomerAccount{}
	s.g.Expect(s.c.Get(context.Background(), client.ObjectKey{Name: name}, a)).To(Succeed())
	// A live manager sleeps exactly until the next evaluation, or until
	// the next look for drift while restrictions are in force.
	var want time.Duration
	if a.Status.NextEvaluation != nil {
		want = a.Status.NextEvaluation.Sub(s.clock.Now())
	}
	if meta.IsStatusConditionTrue(a.Status.Conditions, v1alpha1.ConditionAccessRestricted) && (want == 0 || want > controller.DriftRecheck) {
		want = controller.DriftRecheck
	}
	s.g.Expect(res.RequeueAfter).To(Equal(want), "requeue at %s", d)
	var next time.Duration
	if a.Status.NextEvaluation != nil {
		next = a.Status.NextEvaluation.Sub(s.clock.Now())
	}
	return a, next
}

func (s *clockStory) create(objs ...client.Object) {
	s.t.Helper()
	for _, o := range objs {
		s.g.Expect(s.c.Create(context.Background(), o)).To(Succeed())
	}
}

func (s *clockStory) update(name string, change func(*v1alpha1.CustomerAccount)) {
	s.t.Helper()
	a := &v1alpha1.CustomerAccount{}
	s.g.Expect(s.c.Get(context.Background(), client.ObjectKey{Name: name}, a)).To(Succeed())
	change(a)
	s.g.Expect(s.c.Update(context.Background(), a)).To(Succeed())
}

// storyIncident is a customer-caused incident at storyStart+d.
func storyIncident(id string, severity v1alpha1.Severity, d time.Duration) v1alpha1.Incident {
	return v1alpha1.Incident{ID: id, Category: v1alpha1.CategoryAbuse, Severity: severity,
		OccurredAt: metav1.NewTime(storyStart.Add(d)), ReportedBy: "support", Summary: "Abusive call with support."}
}

const day = 24 * time.Hour

// The real notice period: FinalNotice, the score past termination, 14 days
// of notice served to the second, then a wait for approval, and the
// termination when a person approves, with the tenant frozen throughout.
func storyServesTheFullNoticePeriod(t *testing.T, env *testenv.Env) {
	s := newClockStory(t, env)
	g := s.g
	s.create(&v1alpha1.AccountPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "standard"},
		Spec: v1alpha1.AccountPolicySpec{
			Thresholds:     v1alpha1.Thresholds{Warned: 2, FinalNotice: 4, Terminated: 6},
			Window:         &metav1.Duration{Duration: 90 * day},
			NoticePeriod:   &metav1.Duration{Duration: 14 * day},
			RecoveryPeriod: &metav1.Duration{},
		},
	}, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "acme-prod", Labels: map[string]string{v1alpha1.LabelAccount: "acme"}}},
		&v1alpha1.CustomerAccount{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: v1alpha1.CustomerAccountSpec{PolicyName: "standard",
			Incidents: []v1alpha1.Incident{storyIncident("call-1", v1alpha1.SeverityMajor, -time.Hour), storyIncident("call-2", v1alpha1.SeverityMajor, -time.Hour)}}})

	a, _ := s.at(0, "acme")
	g.Expect(a.Status.Phase).To(Equal(v1alpha1.PhaseFinalNotice))
	g.Expect(a.Status.Score).To(HaveValue(Equal(int32(4))))
	g.Expect(a.Status.NextEvaluation.Time).To(BeTemporally("==", storyStart.Add(90*day-time.Hour)), "next: the incidents expire")
	ns := &corev1.Namespace{}
	g.Expect(s.c.Get(context.Background(), client.ObjectKey{Name: "acme-prod"}, ns)).To(Succeed())
	g.Expect(ns.Labels).To(HaveKeyWithValue(v1alpha1.LabelFrozen, "true"))

	// A day later the score passes the termination threshold: the notice
	// period that began at storyStart still runs.
	s.update("acme", func(a *v1alpha1.CustomerAccount) {
		a.Spec.Incidents = append(a.Spec.Incidents, storyIncident("call-3", v1alpha1.SeverityCritical, day))
	})
	a, requeue := s.at(day, "acme")
	g.Expect(a.Status.Phase).To(Equal(v1alpha1.PhaseFinalNotice))
	g.Expect(requeue).To(Equal(13*day), "next evaluation when the notice period ends")
	g.Expect(condition(a, v1alpha1.ConditionTerminationPending).Reason).To(Equal(v1alpha1.ReasonNoticePeriod))

	// One second before the end nothing happens; at the end termination
	// waits for a person.
	a, requeue = s.at(14*day-time.Second, "acme")
	g.Expect(a.Status.Phase).To(Equal(v1alpha1.PhaseFinalNotice))
	g.Expect(requeue).To(Equal(time.Second))
	a, _ = s.at(14*day, "acme")
	g.Expect(a.Status.Phase).To(Equal(v1alpha1.PhaseFinalNotice))
	g.Expect(condition(a, v1alpha1.ConditionTerminationPending).Reason).To(Equal(v1alpha1.ReasonAwaitingApproval))

	// A person approves two hours later: Terminated at that moment.
	approved := storyStart.Add(14*day + 2*time.Hour)
	s.update("acme", func(a *v1alpha1.CustomerAccount) {
		a.Spec.TerminationApprovals = []v1alpha1.Decision{{By: "head-of-support", At: metav1.NewTime(approved), Note: "Three documented incidents."}}
	})
	a, _ = s.at(14*day+2*time.Hour, "acme")
	g.Expect(a.Status.Phase).To(Equal(v1alpha1.PhaseTerminated))
	g.Expect(a.Status.PhaseSince.Time).To(BeTemporally("==", approved))
	g.Expect(a.Status.History).To(HaveLen(2))
	g.Expect(a.Status.History[0].From).To(Equal(v1alpha1.PhaseFinalNotice))
	g.Expect(a.Status.History[0].At.Time).To(BeTemporally("==", approved))
	g.Expect(a.Status.History[0].At.Sub(a.Status.History[1].At.Time)).To(Equal(14*day+2*time.Hour), "the whole notice period was served")
	g.Expect(a.Status.Namespaces).To(ConsistOf(HaveField("Actions", ContainElement(v1alpha1.ActionRevokeAccess))))
}

// The real window: an incident stops counting 90 days after it occurred,
// and the account steps back down to Good at that very second, with no
// edit and nothing left to evaluate.
func storyIncidentsExpire(t *testing.T, env *testenv.Env) {
	s := newClockStory(t, env)
	g := s.g
	s.create(&v1alpha1.AccountPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "ninety-days"},
		Spec: v1alpha1.AccountPolicySpec{
			Thresholds:     v1alpha1.Thresholds{Warned: 2, FinalNotice: 4, Terminated: 6},
			Window:         &metav1.Duration{Duration: 90 * day},
			RecoveryPeriod: &metav1.Duration{},
		},
	}, &v1alpha1.CustomerAccount{ObjectMeta: metav1.ObjectMeta{Name: "initech"}, Spec: v1alpha1.CustomerAccountSpec{PolicyName: "ninety-days",
		Incidents: []v1alpha1.Incident{storyIncident("rude-email", v1alpha1.SeverityMajor, 0)}}})

	a, requeue := s.at(0, "initech")
	g.Expect(a.Status.Phase).To(Equal(v1alpha1.PhaseWarned))
	g.Expect(requeue).To(Equal(90 * day))

	a, _ = s.at(90*day-time.Second, "initech")
	g.Expect(a.Status.Phase).To(Equal(v1alpha1.PhaseWarned), "a second before expiry the incident still counts")

	a, _ = s.at(90*day, "initech")
	g.Expect(a.Status.Phase).To(Equal(v1alpha1.PhaseGood))
	g.Expect(a.Status.Score).To(HaveValue(BeZero()))
	g.Expect(a.Status.History[0].Reason).To(Equal(v1alpha1.ReasonRecovered))
	g.Expect(a.Status.History[0].From).To(Equal(v1alpha1.PhaseWarned))
	g.Expect(a.Status.History[0].At.Time).To(BeTemporally("==", storyStart.Add(90*day)))
	g.Expect(a.Status.NextEvaluation).To(BeNil())
}
