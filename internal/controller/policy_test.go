package controller_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// Editing a policy re-evaluates the accounts it governs, with no edit to
// the accounts themselves.
func TestPolicyEditReevaluatesAccounts(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	policy := createPolicy(t, g, nil)
	acct := createAccount(t, g, policy.Name, abuse("a", time.Now()))
	waitPhase(g, acct.Name, v1alpha1.PhaseWarned)

	g.Eventually(func() error {
		p := &v1alpha1.AccountPolicy{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(policy), p); err != nil {
			return err
		}
		p.Spec.Thresholds = v1alpha1.Thresholds{Warned: 1, FinalNotice: 2, Terminated: 3}
		return k8s.Update(context.Background(), p)
	}, waitFor, pollEach).Should(Succeed())

	a := waitPhase(g, acct.Name, v1alpha1.PhaseFinalNotice)
	g.Expect(a.Status.History[0].From).To(Equal(v1alpha1.PhaseWarned))
}

// A policy the schema accepts but the operator cannot use (an invalid
// selector operator) reports Ready=False with the reason, and the accounts
// it would select are not evaluated under it.
func TestUnusablePolicyIsReported(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	tier := unique("tier")
	policy := createPolicy(t, g, func(p *v1alpha1.AccountPolicy) {
		p.Spec.AccountSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "tier", Operator: "Near", Values: []string{tier}},
		}}
	})
	g.Eventually(func(g Gomega) {
		p := &v1alpha1.AccountPolicy{}
		g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(policy), p)).To(Succeed())
		c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Reason).To(Equal(v1alpha1.ReasonPolicyInvalid))
		g.Expect(c.Message).To(ContainSubstring("accountSelector"))
		g.Expect(p.Status.ObservedGeneration).To(Equal(p.Generation))
	}, waitFor, pollEach).Should(Succeed())

	a := &v1alpha1.CustomerAccount{
		ObjectMeta: metav1.ObjectMeta{Name: unique("acct"), Labels: map[string]string{"tier": tier}},
		Spec:       v1alpha1.CustomerAccountSpec{Incidents: []v1alpha1.Incident{abuse("a", time.Now())}},
	}
	g.Expect(k8s.Create(context.Background(), a)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), a) })
	g.Eventually(func(g Gomega) {
		c := condition(get(g, a.Name), v1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(v1alpha1.ReasonNoPolicy))
	}, waitFor, pollEach).Should(Succeed())
	g.Expect(get(g, a.Name).Status.Phase).To(BeEmpty())
}
