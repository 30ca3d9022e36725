package enforcement

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// A quota someone loosened while restricted is replaced by the next
// Enforce; an object of the same name the operator did not create is
// never adopted: it is set aside with a record and restored exactly.
func TestManagedObjectsAreExactlyOurs(t *testing.T) {
	testenv.Require(t)
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
	requireEvent(t, res, ns, v1alpha1.ReasonAccessRestricted, "replaced a modified ResourceQuota")
	if p := get(t, ns, QuotaName, &corev1.ResourceQuota{}).Spec.Hard[corev1.ResourcePods]; !p.IsZero() {
		t.Errorf("quota pods = %s after Enforce, want 0", p.String())
	}

	// A tenant's quota squatting on the operator's name (to keep
	// BlockNewWorkloads out of force) is set aside, not adopted, and
	// restored exactly once the action is lifted.
	if _, err := newEnforcer(admin).Enforce(ctx, reinstated(acct)); err != nil {
		t.Fatal(err)
	}
	foreign := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: QuotaName, Namespace: ns, Labels: map[string]string{"team": "web"}},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1000")}},
	}
	create(t, admin, foreign)
	res, err = newEnforcer(admin).Enforce(ctx, block)
	if err != nil {
		t.Fatal(err)
	}
	requireStatus(t, res, ns, block.Actions)
	requireEvent(t, res, ns, v1alpha1.ReasonAccessRestricted, "set aside a ResourceQuota of the same name")
	q = get(t, ns, QuotaName, &corev1.ResourceQuota{})
	if p := q.Spec.Hard[corev1.ResourcePods]; !isManaged(q) || !p.IsZero() {
		t.Errorf("quota %s while blocked: managed %t, pods %s", QuotaName, isManaged(q), p.String())
	}
	if _, err := newEnforcer(admin).Enforce(ctx, reinstated(acct)); err != nil {
		t.Fatal(err)
	}
	got := get(t, ns, QuotaName, &corev1.ResourceQuota{})
	if isManaged(got) || got.Labels["team"] != "web" || !equality.Semantic.DeepEqual(got.Spec, foreign.Spec) {
		t.Errorf("the tenant's quota was not restored exactly: %+v", got)
	}
	if n := len(recordSecrets(t, ns)); n != 0 {
		t.Errorf("%d records left", n)
	}
}
