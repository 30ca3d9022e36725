package controller_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/controller"
	"github.com/accountops/account-lifecycle-operator/internal/enforcement"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// directReconciler reconciles with a fixed clock and a direct client, the
// way a test drives time without waiting (kube-green style).
func directReconciler(now time.Time) (*controller.CustomerAccountReconciler, *clocktesting.FakeClock) {
	clk := clocktesting.NewFakeClock(now)
	return &controller.CustomerAccountReconciler{
		Client:   k8s,
		Clock:    clk,
		Recorder: discardRecorder{},
		Enforcer: &enforcement.Enforcer{Client: k8s, OperatorNamespace: operatorNamespace},
	}, clk
}

// A steady account causes no writes: repeated reconciles leave its
// resourceVersion, and its namespace's, unchanged.
func TestSteadyAccountCausesNoWrites(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	policy := createPolicy(t, g, nil)
	acct := createAccount(t, g, policy.Name, abuse("a", time.Now()), abuse("b", time.Now()))
	ns := tenantNamespace(t, g, acct.Name)
	waitPhase(g, acct.Name, v1alpha1.PhaseFinalNotice)
	g.Eventually(func(g Gomega) {
		g.Expect(getNamespace(g, ns.Name).Labels).To(HaveKeyWithValue(v1alpha1.LabelFrozen, "true"))
		g.Expect(get(g, acct.Name).Status.ObservedGeneration).To(Equal(get(g, acct.Name).Generation))
	}, waitFor, pollEach).Should(Succeed())
	// Let the manager's own reconciles settle.
	g.Eventually(func(g Gomega) {
		before := get(g, acct.Name).ResourceVersion
		time.Sleep(500 * time.Millisecond)
		g.Expect(get(g, acct.Name).ResourceVersion).To(Equal(before))
	}, waitFor, pollEach).Should(Succeed())

	r, _ := directReconciler(time.Now())
	// Count write requests too: the API server does not bump resourceVersion
	// for a no-op patch, and a no-op patch is still a wasted write.
	var writes atomic.Int32
	counting, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())
	r.Client = interceptor.NewClient(counting, interceptor.Funcs{
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, o ...client.PatchOption) error {
			writes.Add(1)
			return c.Patch(ctx, obj, p, o...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, o ...client.UpdateOption) error {
			writes.Add(1)
			return c.Update(ctx, obj, o...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, o ...client.SubResourcePatchOption) error {
			writes.Add(1)
			return c.SubResource(sub).Patch(ctx, obj, p, o...)
		},
	})
	accountRV := get(g, acct.Name).ResourceVersion
	nsRV := getNamespace(g, ns.Name).ResourceVersion
	for range 5 {
		res, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Name: acct.Name}})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(res.RequeueAfter).To(BeNumerically(">", 0), "a FinalNotice account has a next evaluation")
	}
	g.Expect(get(g, acct.Name).ResourceVersion).To(Equal(accountRV))
	g.Expect(getNamespace(g, ns.Name).ResourceVersion).To(Equal(nsRV))
	g.Expect(writes.Load()).To(BeZero(), "steady reconciles sent write requests")
}

// The reconciler requeues exactly at nextEvaluation: with a fixed clock the
// requested delay is the distance to the incident's expiry.
func TestRequeueAtNextEvaluation(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	// A policy no running manager will act on quickly: window 1h.
	policy := createPolicy(t, g, func(p *v1alpha1.AccountPolicy) {
		p.Spec.Window = &metav1.Duration{Duration: time.Hour}
	})
	occurred := time.Now().Truncate(time.Second).Add(-10 * time.Minute)
	acct := createAccount(t, g, policy.Name, abuse("a", occurred))
	waitPhase(g, acct.Name, v1alpha1.PhaseWarned)

	now := occurred.Add(20 * time.Minute)
	r, _ := directReconciler(now)
	res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: acct.Name}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.RequeueAfter).To(Equal(40 * time.Minute))
	g.Expect(get(g, acct.Name).Status.NextEvaluation.Time).To(BeTemporally("==", occurred.Add(time.Hour)))
}

// Deleting an account restores its namespaces first (finalizer), then lets
// it go.
func TestDeletingAccountRestoresNamespaces(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	acct, ns := frozenAccount(t, g)

	g.Expect(k8s.Delete(context.Background(), acct)).To(Succeed())
	g.Eventually(func(g Gomega) {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(acct), &v1alpha1.CustomerAccount{})
		g.Expect(client.IgnoreNotFound(err)).To(Succeed())
		g.Expect(err).To(HaveOccurred(), "account still present")
	}, waitFor, pollEach).Should(Succeed())
	labels := getNamespace(g, ns.Name).Labels
	g.Expect(labels).NotTo(HaveKey(v1alpha1.LabelFrozen))
	g.Expect(labels).NotTo(HaveKey(v1alpha1.LabelPhase))
}

// A namespace that joins a restricted account later is restricted too.
func TestNamespaceJoiningLaterIsRestricted(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	policy := createPolicy(t, g, nil)
	acct := createAccount(t, g, policy.Name, abuse("a", time.Now()), abuse("b", time.Now()))
	waitPhase(g, acct.Name, v1alpha1.PhaseFinalNotice)

	late := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: unique("late")}}
	g.Expect(k8s.Create(context.Background(), late)).To(Succeed())
	late.Labels = map[string]string{v1alpha1.LabelAccount: acct.Name}
	g.Expect(k8s.Update(context.Background(), late)).To(Succeed())
	g.Eventually(func(g Gomega) {
		labels := getNamespace(g, late.Name).Labels
		g.Expect(labels).To(HaveKeyWithValue(v1alpha1.LabelFrozen, "true"))
		g.Expect(labels).To(HaveKeyWithValue(v1alpha1.LabelPhase, string(v1alpha1.PhaseFinalNotice)))
		a := get(g, acct.Name)
		var names []string
		for _, n := range a.Status.Namespaces {
			names = append(names, n.Name)
		}
		g.Expect(names).To(ContainElement(late.Name))
	}, waitFor, pollEach).Should(Succeed())
}

// Dry-run policies and exempt accounts are evaluated and reported, never
// enforced.
func TestDryRunAndExemptEnforceNothing(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	dry := createPolicy(t, g, func(p *v1alpha1.AccountPolicy) { p.Spec.Mode = v1alpha1.ModeDryRun })
	normal := createPolicy(t, g, nil)

	dryAcct := createAccount(t, g, dry.Name, abuse("a", time.Now()), abuse("b", time.Now()))
	exempt := &v1alpha1.CustomerAccount{
		ObjectMeta: metav1.ObjectMeta{Name: unique("acct"), Labels: map[string]string{v1alpha1.LabelExempt: "true"}},
		Spec: v1alpha1.CustomerAccountSpec{PolicyName: normal.Name,
			Incidents: []v1alpha1.Incident{abuse("a", time.Now()), abuse("b", time.Now())}},
	}
	g.Expect(k8s.Create(context.Background(), exempt)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), exempt) })

	for _, tc := range []struct {
		account, reason string
	}{{dryAcct.Name, v1alpha1.ReasonDryRun}, {exempt.Name, v1alpha1.ReasonExempt}} {
		ns := tenantNamespace(t, g, tc.account)
		waitPhase(g, tc.account, v1alpha1.PhaseFinalNotice)
		g.Eventually(func(g Gomega) {
			a := get(g, tc.account)
			c := condition(a, v1alpha1.ConditionAccessRestricted)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(tc.reason))
			g.Expect(a.Status.Namespaces).To(ContainElement(HaveField("Actions",
				ConsistOf(v1alpha1.ActionFreezeChanges))), "status shows what would be in force")
		}, waitFor, pollEach).Should(Succeed())
		g.Expect(getNamespace(g, ns.Name).Labels).NotTo(HaveKey(v1alpha1.LabelFrozen))
	}
}

// The policy's status counts the accounts it governs per phase.
func TestPolicyStatusCountsAccounts(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	policy := createPolicy(t, g, nil)
	createAccount(t, g, policy.Name)
	createAccount(t, g, policy.Name, abuse("a", time.Now()))
	createAccount(t, g, policy.Name, abuse("a", time.Now()), abuse("b", time.Now()))

	g.Eventually(func(g Gomega) {
		p := &v1alpha1.AccountPolicy{}
		g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(policy), p)).To(Succeed())
		g.Expect(p.Status.Accounts).To(HaveValue(Equal(int32(3))))
		g.Expect(p.Status.Phases).To(Equal(v1alpha1.PhaseCounts{Good: ptr.To[int32](1), Warned: ptr.To[int32](1), FinalNotice: ptr.To[int32](1), Terminated: ptr.To[int32](0)}))
		c := p.Status.Conditions
		g.Expect(c).To(ContainElement(And(HaveField("Type", v1alpha1.ConditionReady), HaveField("Status", metav1.ConditionTrue))))
	}, waitFor, pollEach).Should(Succeed())
}

// discardRecorder drops events; used where a test drives Reconcile itself.
type discardRecorder struct{}

func (discardRecorder) Eventf(_, _ runtime.Object, _, _, _, _ string, _ ...any) {}

// A namespace relabelled out of a restricted account is restored, not left
// restricted with nobody to lift it.
func TestNamespaceLeavingAccountIsRestored(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	acct, ns := frozenAccount(t, g)

	current := getNamespace(g, ns.Name)
	delete(current.Labels, v1alpha1.LabelAccount)
	g.Expect(k8s.Update(context.Background(), current)).To(Succeed())
	g.Eventually(func(g Gomega) {
		labels := getNamespace(g, ns.Name).Labels
		g.Expect(labels).NotTo(HaveKey(v1alpha1.LabelFrozen))
		g.Expect(labels).NotTo(HaveKey(v1alpha1.LabelPhase))
		g.Expect(get(g, acct.Name).Status.Namespaces).To(BeEmpty())
	}, waitFor, pollEach).Should(Succeed())
}
