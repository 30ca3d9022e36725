package e2e

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/controller"
	"github.com/accountops/account-lifecycle-operator/internal/enforcement"
)

// A reconcile may read its account from a cache that has not yet seen the
// status the previous reconcile wrote. Here that stale view lists no
// namespace, while the last status written says a namespace is frozen; the
// namespace has meanwhile left the account, so the reconcile lifts the
// freeze. The outcome it computes equals the stale status, and skipping
// the write as "nothing changed" left the written status claiming the
// namespace frozen, with no event left to correct it (the flake
// TestNamespaceLeavingAccountIsRestored showed in CI). A reconcile that
// changed the world writes its outcome, learns from the conflict that its
// view was stale, and decides again on fresh data.
func TestActingOnAStaleAccountIsRecorded(t *testing.T) {
	t.Parallel() // drives Reconcile itself on its own control plane: no timing
	g := NewWithT(t)
	ctx := context.Background()
	_, _, admin := controlPlane(t, g)
	now := time.Now().Truncate(time.Second)
	lateInvoiceAccount(g, admin, "initech", v1alpha1.Thresholds{Warned: 1, FinalNotice: 2, Terminated: 100},
		v1alpha1.Enforcement{FinalNotice: []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges}}, now)

	// stale, when set, is what the reconciler reads for the account.
	var stale *v1alpha1.CustomerAccount
	reader := interceptor.NewClient(withoutWatch{admin}, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if a, ok := obj.(*v1alpha1.CustomerAccount); ok && stale != nil && key.Name == stale.Name {
				stale.DeepCopyInto(a)
				return nil
			}
			return c.Get(ctx, key, obj, opts...)
		},
	})
	r := directReconciler(reader, admin, now)
	req := ctrl.Request{NamespacedName: client.ObjectKey{Name: "initech"}}
	account := func(g Gomega) *v1alpha1.CustomerAccount {
		a := &v1alpha1.CustomerAccount{}
		g.Expect(admin.Get(ctx, req.NamespacedName, a)).To(Succeed())
		return a
	}
	reconcile := func() ctrl.Result {
		res, err := r.Reconcile(ctx, req)
		g.Expect(err).NotTo(HaveOccurred())
		return res
	}

	// Warned, no namespace yet: the view the cache will still hold.
	reconcile()
	reconcile()
	g.Expect(account(g).Status.Phase).To(Equal(v1alpha1.PhaseWarned))
	g.Expect(account(g).Status.Namespaces).To(BeEmpty())
	old := account(g)

	// A namespace joins and a second incident makes it FinalNotice: frozen.
	g.Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: "initech-prod", Labels: map[string]string{v1alpha1.LabelAccount: "initech"}}})).To(Succeed())
	a := account(g)
	a.Spec.Incidents = append(a.Spec.Incidents, v1alpha1.Incident{
		ID: "later-invoice", Category: v1alpha1.CategoryNonPayment, OccurredAt: metav1.NewTime(now.Add(-time.Minute)),
		ReportedBy: "billing", Summary: "A second invoice 90 days overdue.",
	})
	g.Expect(admin.Update(ctx, a)).To(Succeed())
	reconcile()
	g.Expect(account(g).Status.Namespaces).To(ConsistOf(HaveField("Name", "initech-prod")))

	// The namespace leaves the account; the next reconcile reads the old
	// account (Warned, no namespace) with the old spec. Its decision is the
	// old status: nothing to write, but it lifted the freeze.
	ns := &corev1.Namespace{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Name: "initech-prod"}, ns)).To(Succeed())
	delete(ns.Labels, v1alpha1.LabelAccount)
	g.Expect(admin.Update(ctx, ns)).To(Succeed())
	stale = old
	res := reconcile()
	g.Expect(admin.Get(ctx, client.ObjectKey{Name: "initech-prod"}, ns)).To(Succeed())
	g.Expect(ns.Labels).NotTo(HaveKey(v1alpha1.LabelFrozen), "the namespace that left is released")
	g.Expect(res.RequeueAfter).To(BeNumerically(">", 0))
	g.Expect(res.RequeueAfter).To(BeNumerically("<=", time.Second),
		"having changed the world on a stale view, the reconcile must look again at once, not in %s", res.RequeueAfter)

	// Looking again, on fresh data, records the truth.
	stale = nil
	reconcile()
	g.Expect(account(g).Status.Namespaces).To(BeEmpty(), "the status no longer claims the namespace frozen")
}

// lateInvoiceAccount creates policy "standard" and an account of one
// non-payment incident a minute before now under it.
func lateInvoiceAccount(g Gomega, admin client.Client, name string, th v1alpha1.Thresholds, enf v1alpha1.Enforcement, now time.Time) {
	ctx := context.Background()
	g.Expect(admin.Create(ctx, &v1alpha1.AccountPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "standard"},
		Spec:       v1alpha1.AccountPolicySpec{Thresholds: th, Enforcement: enf},
	})).To(Succeed())
	g.Expect(admin.Create(ctx, &v1alpha1.CustomerAccount{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.CustomerAccountSpec{PolicyName: "standard", Incidents: []v1alpha1.Incident{{
			ID: "late-invoice", Category: v1alpha1.CategoryNonPayment, OccurredAt: metav1.NewTime(now.Add(-time.Minute)),
			ReportedBy: "billing", Summary: "Invoice 90 days overdue.",
		}}},
	})).To(Succeed())
}

// directReconciler reconciles with a fixed clock, reading through reader,
// for a test that drives Reconcile itself (no manager runs).
func directReconciler(reader, admin client.Client, now time.Time) *controller.CustomerAccountReconciler {
	return &controller.CustomerAccountReconciler{
		Client: reader, Clock: clocktesting.NewFakeClock(now), Recorder: discard{},
		Enforcer: &enforcement.Enforcer{Client: admin, OperatorNamespace: operatorNamespace},
	}
}

// discard drops Events: the tests that drive Reconcile themselves.
type discard struct{}

func (discard) Eventf(_, _ runtime.Object, _, _, _, _ string, _ ...any) {}
