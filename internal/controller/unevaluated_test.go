package controller_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/enforcement"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// Issue Trust, item 12: a frozen namespace relabelled to an account that
// has no policy stays as it is (nothing is enforced or lifted for an
// account that is not evaluated) but is reported in that account's status.
func TestUnevaluatedAccountReportsWhatIsInForce(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	_, ns := frozenAccount(t, g)
	orphanOwner := createAccount(t, g, "no-such-policy")
	g.Eventually(func(g Gomega) {
		c := condition(get(g, orphanOwner.Name), v1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(v1alpha1.ReasonNoPolicy))
	}, waitFor, pollEach).Should(Succeed())

	cur := getNamespace(g, ns.Name)
	cur.Labels[v1alpha1.LabelAccount] = orphanOwner.Name
	g.Expect(k8s.Update(context.Background(), cur)).To(Succeed())

	g.Eventually(func(g Gomega) {
		a := get(g, orphanOwner.Name)
		g.Expect(a.Status.Namespaces).To(ConsistOf(And(
			HaveField("Name", ns.Name),
			HaveField("Actions", ConsistOf(v1alpha1.ActionFreezeChanges)),
			HaveField("Message", ContainSubstring("not evaluated (NoPolicy)")),
		)))
		c := condition(a, v1alpha1.ConditionAccessRestricted)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
	}, waitFor, pollEach).Should(Succeed())
	g.Expect(getNamespace(g, ns.Name).Labels).To(HaveKeyWithValue(v1alpha1.LabelFrozen, "true"), "nothing is lifted for an account that is not evaluated")
}

// Issue Trust, item 14: an account whose deletion waits on a namespace it
// cannot restore (here an unreadable record) says so in Ready and in a
// Warning Event, and goes once the obstacle is gone.
func TestBlockedDeletionIsReported(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	policy := createPolicy(t, g, func(p *v1alpha1.AccountPolicy) {
		p.Spec.Enforcement.Warned = []v1alpha1.EnforcementAction{v1alpha1.ActionRevokeAccess}
	})
	acct := createAccount(t, g, policy.Name)
	ns := tenantNamespace(t, g, acct.Name)
	g.Expect(k8s.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "admins", Namespace: ns.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice"}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
	})).To(Succeed())
	addIncident(g, acct.Name, abuse("a", time.Now()))
	// Access revoked; then the record is torn.
	bad := &corev1.Secret{}
	g.Eventually(func() error {
		return k8s.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: enforcement.RecordName("rb", ns.UID, "admins")}, bad)
	}, waitFor, pollEach).Should(Succeed())
	bad.Data = map[string][]byte{enforcement.RecordKey: []byte("{torn")}
	g.Expect(k8s.Update(ctx, bad)).To(Succeed())
	g.Expect(k8s.Delete(ctx, get(g, acct.Name))).To(Succeed())

	g.Eventually(func(g Gomega) {
		c := condition(get(g, acct.Name), v1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(v1alpha1.ReasonDeletionBlocked))
		g.Expect(c.Message).To(ContainSubstring("unreadable"))
		g.Expect(reasons(eventsFor(g, acct.Name))).To(ContainElement(v1alpha1.ReasonDeletionBlocked))
	}, waitFor, pollEach).Should(Succeed())

	g.Expect(k8s.Delete(ctx, bad)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(acct), &v1alpha1.CustomerAccount{}))
	}, waitFor, pollEach).Should(BeTrue())
	// The lost record was reported and the namespace was released.
	n := getNamespace(g, ns.Name)
	g.Expect(n.Annotations).NotTo(HaveKey(enforcement.AnnotationSetAside))
	g.Expect(n.Labels).NotTo(HaveKey(v1alpha1.LabelPhase))
}

// Issue Trust, item 15: a decision with no effect is reported as a Warning
// Event (and in Ready's message), not ignored silently.
func TestIgnoredDecisionIsReported(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	policy := createPolicy(t, g, nil)
	acct := createAccount(t, g, policy.Name)
	waitPhase(g, acct.Name, v1alpha1.PhaseGood)
	update(g, acct.Name, func(a *v1alpha1.CustomerAccount) {
		a.Spec.TerminationApprovals = []v1alpha1.Decision{{By: "eager-manager", At: metav1.Now()}}
	})
	g.Eventually(func(g Gomega) {
		var notes []string
		for _, e := range eventsFor(g, acct.Name) {
			if e.Reason == v1alpha1.ReasonDecisionIgnored {
				notes = append(notes, e.Note)
			}
		}
		g.Expect(notes).To(ContainElement(ContainSubstring("approval by eager-manager was given while the account is Good")))
		g.Expect(condition(get(g, acct.Name), v1alpha1.ConditionReady).Message).To(ContainSubstring("Ignored: "))
	}, waitFor, pollEach).Should(Succeed())
}

// Issue Trust, item 9: a Terminated account whose status is wiped (a backup
// restored without status) resumes Terminated from what its namespaces
// record, without restoring the tenant in between.
func TestWipedStatusIsRecoveredFromTheWorld(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	policy := createPolicy(t, g, func(p *v1alpha1.AccountPolicy) {
		p.Spec.NoticePeriod = &metav1.Duration{}
		p.Spec.Approvals.Required = ptr.To[int32](0)
	})
	acct := createAccount(t, g, policy.Name)
	ns := tenantNamespace(t, g, acct.Name)
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "tenant-admins", Namespace: ns.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice"}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
	}
	g.Expect(k8s.Create(ctx, rb)).To(Succeed())
	for _, id := range []string{"a", "b", "c"} {
		addIncident(g, acct.Name, abuse(id, time.Now()))
	}
	waitPhase(g, acct.Name, v1alpha1.PhaseTerminated)
	bindingGone := func(g Gomega) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(rb), &rbacv1.RoleBinding{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the tenant's binding is back: %v", err)
	}
	g.Eventually(bindingGone, waitFor, pollEach).Should(Succeed())

	g.Eventually(func() error {
		a := get(g, acct.Name)
		a.Status = v1alpha1.CustomerAccountStatus{}
		return k8s.Status().Update(ctx, a)
	}, waitFor, pollEach).Should(Succeed())

	g.Eventually(func(g Gomega) {
		a := get(g, acct.Name)
		g.Expect(a.Status.Phase).To(Equal(v1alpha1.PhaseTerminated))
		g.Expect(a.Status.History).To(ConsistOf(And(HaveField("To", v1alpha1.PhaseTerminated), HaveField("Reason", v1alpha1.ReasonStateRecovered))),
			"no transition but the recovery itself: the tenant was never restored in between")
		var notes []string
		for _, e := range eventsFor(g, acct.Name) {
			if e.Reason == v1alpha1.ReasonStateRecovered {
				notes = append(notes, e.Note)
			}
		}
		g.Expect(notes).To(ContainElement(ContainSubstring("Terminated since")), "events: %v; ready: %v", reasons(eventsFor(g, acct.Name)), condition(a, v1alpha1.ConditionReady))
		g.Expect(notes).To(ContainElement(ContainSubstring("recovered from namespace " + ns.Name)))
	}, waitFor, pollEach).Should(Succeed())
	bindingGone(g)
	g.Expect(getNamespace(g, ns.Name).Labels).To(HaveKeyWithValue(v1alpha1.LabelFrozen, "true"))
}

// Issue Trust, item 10: an account with more namespaces than its status can
// list is still evaluated, enforced and recorded.
func TestAccountWithManyNamespacesIsRecorded(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	policy := createPolicy(t, g, func(p *v1alpha1.AccountPolicy) {
		p.Spec.Enforcement.Warned = []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges}
	})
	// The namespaces first, so the account is enforced over all of them at once.
	name := unique("acct")
	const n = 70 // more than the 64 status.namespaces lists
	for range n {
		tenantNamespace(t, g, name)
	}
	acct := &v1alpha1.CustomerAccount{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       v1alpha1.CustomerAccountSpec{PolicyName: policy.Name, Incidents: []v1alpha1.Incident{abuse("a", time.Now())}},
	}
	g.Expect(k8s.Create(context.Background(), acct)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), acct) })
	g.Eventually(func(g Gomega) {
		a := get(g, acct.Name)
		g.Expect(a.Status.Phase).To(Equal(v1alpha1.PhaseWarned))
		g.Expect(condition(a, v1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
		g.Expect(a.Status.NamespaceSummary).NotTo(BeNil())
		g.Expect(*a.Status.NamespaceSummary).To(Equal(v1alpha1.NamespaceSummary{Total: ptr.To[int32](n), Restricted: ptr.To[int32](n), WithMessages: ptr.To[int32](0), Omitted: ptr.To[int32](n - 64)}))
		g.Expect(a.Status.Namespaces).To(HaveLen(64))
	}, 2*waitFor, pollEach).Should(Succeed())
}
