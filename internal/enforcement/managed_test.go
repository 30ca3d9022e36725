package enforcement

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// A quota someone loosened while restricted is replaced by the next
// Enforce; an object of the same name the operator did not create is
// neither adopted nor removed, and the namespace reports the error.
func TestManagedObjectsAreExactlyOurs(t *testing.T) {
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	block := Request{Account: acct, Phase: v1alpha1.PhaseTerminated, Actions: []v1alpha1.EnforcementAction{v1alpha1.ActionBlockNewWorkloads}}
	if _, err := newEnforcer(admin).Enforce(ctx, block); err != nil {
		t.Fatal(err)
	}
	q := get(t, ns, QuotaName, &corev1.ResourceQuota{})
	q.Spec.Hard[corev1.ResourcePods] = resource.MustParse("10")
	if err := admin.Update(ctx, q); err != nil {
		t.Fatal(err)
	}
	res, err := newEnforcer(admin).Enforce(ctx, block)
	if err != nil {
		t.Fatal(err)
	}
	requireEvent(t, res, ns, ReasonAccessRestricted, "replaced a modified ResourceQuota")
	if p := get(t, ns, QuotaName, &corev1.ResourceQuota{}).Spec.Hard[corev1.ResourcePods]; !p.IsZero() {
		t.Errorf("quota pods = %s after Enforce, want 0", p.String())
	}

	foreign := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: NetworkPolicyName, Namespace: ns},
		Spec:       networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}},
	}
	create(t, admin, foreign)
	isolate := block
	isolate.Actions = []v1alpha1.EnforcementAction{v1alpha1.ActionIsolateNetwork}
	res, err = newEnforcer(admin).Enforce(ctx, isolate)
	if err == nil || !strings.Contains(err.Error(), "was not created by the operator") {
		t.Fatalf("Enforce over a foreign NetworkPolicy: err %v", err)
	}
	st := requireStatus(t, res, ns, nil) // the quota went (no longer wanted); isolation is not in force
	if !strings.Contains(st.Message, "error:") {
		t.Errorf("status message %q does not report the error", st.Message)
	}
	if _, err := newEnforcer(admin).Enforce(ctx, reinstated(acct)); err != nil {
		t.Fatal(err)
	}
	got := get(t, ns, NetworkPolicyName, &networkingv1.NetworkPolicy{})
	if got.UID != foreign.UID {
		t.Error("a NetworkPolicy the operator did not create was removed or replaced")
	}
}
