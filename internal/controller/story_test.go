package controller_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/metrics"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// A customer swears at staff twice and keeps going: Warned, FinalNotice, a
// notice period that ends on its own (exact requeue, no edit), a wait for
// approval, the approval, and termination, with Events and history to match.
func TestStoryAbuseToTermination(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	policy := createPolicy(t, g, nil)
	now := time.Now()
	acct := createAccount(t, g, policy.Name)
	ns := tenantNamespace(t, g, acct.Name)

	a := waitPhase(g, acct.Name, v1alpha1.PhaseGood)
	g.Expect(condition(a, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
	g.Expect(a.Finalizers).To(ContainElement(v1alpha1.Finalizer))

	addIncident(g, acct.Name, abuse("swore-at-support-1", now))
	a = waitPhase(g, acct.Name, v1alpha1.PhaseWarned)
	g.Expect(a.Status.Score).To(HaveValue(Equal(int32(2))))
	g.Expect(a.Status.PrimaryConcern).To(Equal(v1alpha1.CategoryAbuse))

	addIncident(g, acct.Name, abuse("swore-at-support-2", now))
	a = waitPhase(g, acct.Name, v1alpha1.PhaseFinalNotice)
	g.Expect(a.Status.Score).To(HaveValue(Equal(int32(4))))
	// FinalNotice freezes the tenant namespace by default.
	waitFrozen(g, ns.Name)

	// It keeps going: the score reaches the termination threshold while the
	// notice period runs.
	addIncident(g, acct.Name, abuse("swore-at-support-3", now))
	g.Eventually(func(g Gomega) {
		a = get(g, acct.Name)
		c := condition(a, v1alpha1.ConditionTerminationPending)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Reason).To(BeElementOf(v1alpha1.ReasonNoticePeriod, v1alpha1.ReasonAwaitingApproval))
	}, waitFor, pollEach).Should(Succeed())
	g.Expect(a.Status.Phase).To(Equal(v1alpha1.PhaseFinalNotice))

	// Nobody edits anything: the notice period ends and the requeue at
	// nextEvaluation switches the condition to AwaitingApproval.
	g.Eventually(func(g Gomega) {
		a = get(g, acct.Name)
		g.Expect(condition(a, v1alpha1.ConditionTerminationPending).Reason).To(Equal(v1alpha1.ReasonAwaitingApproval))
	}, waitFor, pollEach).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(get(g, acct.Name).Status.Phase).To(Equal(v1alpha1.PhaseFinalNotice))
	}, time.Second, pollEach).Should(Succeed())

	update(g, acct.Name, func(a *v1alpha1.CustomerAccount) {
		a.Spec.TerminationApprovals = []v1alpha1.Decision{{By: "head-of-support", At: metav1.Now(), Note: "Three documented incidents."}}
	})
	a = waitPhase(g, acct.Name, v1alpha1.PhaseTerminated)
	g.Expect(condition(a, v1alpha1.ConditionTerminationPending).Status).To(Equal(metav1.ConditionFalse))

	g.Expect(a.Status.History).To(HaveLen(3))
	g.Expect([]v1alpha1.AccountPhase{a.Status.History[0].To, a.Status.History[1].To, a.Status.History[2].To}).
		To(Equal([]v1alpha1.AccountPhase{v1alpha1.PhaseTerminated, v1alpha1.PhaseFinalNotice, v1alpha1.PhaseWarned}))
	g.Expect(a.Status.History[0].From).To(Equal(v1alpha1.PhaseFinalNotice))
	g.Expect(a.Status.History[0].Reason).To(Equal(v1alpha1.ReasonTerminated))
	g.Expect(a.Status.History[0].Score).To(HaveValue(Equal(int32(6))))
	g.Expect(a.Status.History[0].At.Sub(a.Status.History[1].At.Time)).To(BeNumerically(">=", 3*time.Second),
		"terminated before the notice period was served")
	// The metric is counted once the status write returns, which may be
	// just after the test sees it.
	g.Eventually(func() float64 {
		return testutil.ToFloat64(metrics.Transitions.WithLabelValues("FinalNotice", "Terminated"))
	}, waitFor, pollEach).Should(BeNumerically(">=", 1))

	g.Eventually(func(g Gomega) {
		evs := eventsFor(g, acct.Name)
		g.Expect(reasons(evs)).To(ContainElements(v1alpha1.ReasonEscalated, v1alpha1.ReasonTerminated))
		var termination bool
		for _, e := range evs {
			if e.Reason == v1alpha1.ReasonTerminated {
				termination = true
				g.Expect(e.Type).To(Equal("Warning"))
				g.Expect(e.Note).To(ContainSubstring("Example Corp may be a better fit"))
				// The statement of reasons: what counted, and how to appeal.
				g.Expect(e.Note).To(ContainSubstring("Counted: swore-at-support-1 (Abuse, "))
				g.Expect(e.Note).To(ContainSubstring("To contest an incident listed, appeal it (kubectl account appeal " + acct.Name))
			}
		}
		g.Expect(termination).To(BeTrue())
	}, waitFor, pollEach).Should(Succeed())
}

// An incident the vendor caused is recorded and shown and changes nothing.
func TestStoryVendorIncidentChangesNothing(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	policy := createPolicy(t, g, nil)
	acct := createAccount(t, g, policy.Name)
	waitPhase(g, acct.Name, v1alpha1.PhaseGood)

	addIncident(g, acct.Name, vendorIncident("our-outage", time.Now()))
	g.Eventually(func(g Gomega) {
		g.Expect(get(g, acct.Name).Status.VendorIncidents).To(HaveValue(Equal(int32(1))))
	}, waitFor, pollEach).Should(Succeed())
	a := get(g, acct.Name)
	g.Expect(a.Status.Phase).To(Equal(v1alpha1.PhaseGood))
	g.Expect(a.Status.Score).To(HaveValue(BeZero()))
	g.Expect(a.Status.History).To(BeEmpty())
}

// Reinstatement returns a Terminated account to Good, and its namespaces to
// how they were.
func TestStoryReinstatement(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	policy := createPolicy(t, g, func(p *v1alpha1.AccountPolicy) {
		p.Spec.NoticePeriod = &metav1.Duration{}
		p.Spec.Approvals.Required = ptr.To[int32](0)
	})
	now := time.Now()
	acct := createAccount(t, g, policy.Name, abuse("a", now), abuse("b", now), abuse("c", now))
	ns := tenantNamespace(t, g, acct.Name)

	a := waitPhase(g, acct.Name, v1alpha1.PhaseTerminated)
	g.Expect(a.Status.History[0].From).To(Equal(v1alpha1.PhaseFinalNotice), "never skips FinalNotice")
	g.Eventually(func(g Gomega) {
		a := get(g, acct.Name)
		g.Expect(condition(a, v1alpha1.ConditionAccessRestricted)).NotTo(BeNil())
		g.Expect(condition(a, v1alpha1.ConditionAccessRestricted).Status).To(Equal(metav1.ConditionTrue))
		g.Expect(getNamespace(g, ns.Name).Labels).To(HaveKeyWithValue(v1alpha1.LabelPhase, string(v1alpha1.PhaseTerminated)))
	}, waitFor, pollEach).Should(Succeed())

	update(g, acct.Name, func(a *v1alpha1.CustomerAccount) {
		a.Spec.Reinstatement = v1alpha1.Reinstatement{By: "ceo", At: metav1.NewTime(time.Now().Add(time.Second)), Reason: "Apologised; new contract."}
	})
	a = waitPhase(g, acct.Name, v1alpha1.PhaseGood)
	g.Expect(a.Status.Score).To(HaveValue(BeZero()))
	g.Expect(a.Status.History[0].Reason).To(Equal(v1alpha1.ReasonReinstated))
	g.Eventually(func(g Gomega) {
		labels := getNamespace(g, ns.Name).Labels
		g.Expect(labels).NotTo(HaveKey(v1alpha1.LabelFrozen))
		g.Expect(labels).To(HaveKeyWithValue(v1alpha1.LabelPhase, string(v1alpha1.PhaseGood)))
		a := get(g, acct.Name)
		g.Expect(condition(a, v1alpha1.ConditionAccessRestricted).Status).To(Equal(metav1.ConditionFalse))
	}, waitFor, pollEach).Should(Succeed())
	g.Eventually(func(g Gomega) {
		evs := eventsFor(g, acct.Name)
		g.Expect(reasons(evs)).To(ContainElements(v1alpha1.ReasonReinstated,
			v1alpha1.ReasonAccessRestricted, v1alpha1.ReasonAccessRestored))
		for _, e := range evs {
			if e.Reason == v1alpha1.ReasonAccessRestricted || e.Reason == v1alpha1.ReasonAccessRestored {
				g.Expect(e.Related).NotTo(BeNil())
				g.Expect(e.Related.Kind).To(Equal("Namespace"))
				g.Expect(e.Related.Name).To(Equal(ns.Name))
			}
		}
	}, waitFor, pollEach).Should(Succeed())
}

// Deleting the policy freezes the account where it is: Ready=False NoPolicy,
// phase and enforcement exactly as they were.
func TestStoryPolicyDeletedFreezesAccount(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	policy := createPolicy(t, g, func(p *v1alpha1.AccountPolicy) {
		p.Spec.Enforcement.Warned = []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges}
	})
	acct := createAccount(t, g, policy.Name, abuse("a", time.Now()))
	ns := tenantNamespace(t, g, acct.Name)
	waitPhase(g, acct.Name, v1alpha1.PhaseWarned)
	waitFrozen(g, ns.Name)

	g.Expect(k8s.Delete(context.Background(), policy)).To(Succeed())
	g.Eventually(func(g Gomega) {
		c := condition(get(g, acct.Name), v1alpha1.ConditionReady)
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Reason).To(Equal(v1alpha1.ReasonNoPolicy))
	}, waitFor, pollEach).Should(Succeed())

	// A waiver now would drop the score, but with no policy nothing is
	// evaluated, so nothing is restored.
	update(g, acct.Name, func(a *v1alpha1.CustomerAccount) {
		a.Spec.Incidents[0].Waiver = &v1alpha1.Waiver{By: "support-lead", At: metav1.Now(), Reason: "Misunderstanding."}
	})
	g.Consistently(func(g Gomega) {
		a := get(g, acct.Name)
		g.Expect(a.Status.Phase).To(Equal(v1alpha1.PhaseWarned))
		g.Expect(getNamespace(g, ns.Name).Labels).To(HaveKeyWithValue(v1alpha1.LabelFrozen, "true"))
	}, 2*time.Second, pollEach).Should(Succeed())
}

// Two policies selecting the same account: PolicyConflict, not evaluated.
func TestPolicyConflict(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"tier": unique("tier")}}
	createPolicy(t, g, func(p *v1alpha1.AccountPolicy) { p.Spec.AccountSelector = sel })
	second := createPolicy(t, g, func(p *v1alpha1.AccountPolicy) { p.Spec.AccountSelector = sel })

	a := &v1alpha1.CustomerAccount{
		ObjectMeta: metav1.ObjectMeta{Name: unique("acct"), Labels: sel.MatchLabels},
		Spec:       v1alpha1.CustomerAccountSpec{Incidents: []v1alpha1.Incident{abuse("a", time.Now())}},
	}
	g.Expect(k8s.Create(context.Background(), a)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), a) })

	g.Eventually(func(g Gomega) {
		c := condition(get(g, a.Name), v1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(v1alpha1.ReasonPolicyConflict))
		g.Expect(c.Message).To(ContainSubstring(second.Name))
	}, waitFor, pollEach).Should(Succeed())
	g.Expect(get(g, a.Name).Status.Phase).To(BeEmpty(), "a conflicted account is not evaluated")

	// Removing the conflict lets the selector's single policy govern it.
	g.Expect(k8s.Delete(context.Background(), second)).To(Succeed())
	got := waitPhase(g, a.Name, v1alpha1.PhaseWarned)
	g.Expect(got.Status.Policy).NotTo(Equal(second.Name))
}
