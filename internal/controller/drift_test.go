package controller_test

import (
	"context"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/enforcement"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// Issue Trust, item 13: an administrator (exempt from the freeze) scales a
// held Deployment back up; nothing else happens to the account, yet the
// operator holds it at zero again at once and says so.
func TestDriftByAnExemptWriterIsCorrectedAndReported(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	policy := createPolicy(t, g, func(p *v1alpha1.AccountPolicy) {
		p.Spec.Enforcement.Warned = []v1alpha1.EnforcementAction{v1alpha1.ActionScaleToZero}
	})
	acct := createAccount(t, g, policy.Name)
	ns := tenantNamespace(t, g, acct.Name)
	web := testenv.Deployment(ns.Name, "web", 3)
	g.Expect(k8s.Create(ctx, web)).To(Succeed())
	addIncident(g, acct.Name, abuse("a", time.Now()))
	replicas := func(g Gomega) int32 {
		d := &appsv1.Deployment{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(web), d)).To(Succeed())
		return *d.Spec.Replicas
	}
	g.Eventually(replicas, waitFor, pollEach).Should(BeZero())

	// The suite's client is system:masters, which the freeze admits.
	g.Eventually(func() error {
		d := &appsv1.Deployment{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(web), d); err != nil {
			return err
		}
		d.Spec.Replicas = ptr.To(int32(5))
		return k8s.Update(ctx, d)
	}, waitFor, pollEach).Should(Succeed())
	g.Eventually(replicas, waitFor, pollEach).Should(BeZero())
	g.Eventually(func(g Gomega) {
		var found bool
		for _, e := range eventsFor(g, acct.Name) {
			found = found || e.Reason == v1alpha1.ReasonDriftCorrected && strings.Contains(e.Note, "Deployment web was changed to 5")
		}
		g.Expect(found).To(BeTrue(), "a DriftCorrected event naming the Deployment")
	}, waitFor, pollEach).Should(Succeed())
}

// Issue Scale: enforcement skips listing a kind the metadata cache says a
// namespace does not hold. A Deployment created after the namespace settled
// (absent from the cache when it was last enforced) is still held at zero:
// its arrival in the cache is the event that reconciles the account.
func TestWorkloadCreatedInASettledNamespaceIsHeld(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	policy := createPolicy(t, g, func(p *v1alpha1.AccountPolicy) {
		p.Spec.Enforcement.Warned = []v1alpha1.EnforcementAction{v1alpha1.ActionScaleToZero}
	})
	acct := createAccount(t, g, policy.Name)
	ns := tenantNamespace(t, g, acct.Name)
	addIncident(g, acct.Name, abuse("a", time.Now()))
	g.Eventually(func(g Gomega) {
		a := get(g, acct.Name)
		g.Expect(a.Status.Phase).To(Equal(v1alpha1.PhaseWarned))
		g.Expect(a.Status.Namespaces).To(ConsistOf(HaveField("Actions", ConsistOf(v1alpha1.ActionScaleToZero))))
	}, waitFor, pollEach).Should(Succeed())

	late := testenv.Deployment(ns.Name, "late", 2)
	g.Expect(k8s.Create(ctx, late)).To(Succeed()) // system:masters: admitted by the freeze
	g.Eventually(func(g Gomega) {
		d := &appsv1.Deployment{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(late), d)).To(Succeed())
		g.Expect(*d.Spec.Replicas).To(BeZero())
		g.Expect(d.Annotations).To(HaveKeyWithValue(enforcement.AnnotationPriorReplicas, "2"))
	}, waitFor, pollEach).Should(Succeed())
}
