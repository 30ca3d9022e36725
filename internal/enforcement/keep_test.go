package enforcement

import (
	"context"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// A tenant admin preparing its termination cannot label its own bindings
// or network policies keep (which exempts them from RevokeAccess,
// ReadOnlyAccess and IsolateNetwork): the shipped admission policy refuses
// setting, changing or removing the label to anyone but the platform
// team, so the tenant's access is revoked all the same.
func TestTenantCannotExemptItsOwnObjects(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	create(t, admin, binding(ns, "tina-admin", "ClusterRole", "admin", subject(rbacv1.UserKind, "tina", "")))
	tina, err := client.New(userConfig(t, "tina"), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	keep := map[string]string{v1alpha1.LabelKeep: "true"}
	want := []string{"only the platform team (platform:admins) may set, change or remove the label accounts.lifecycle.dev/keep", "in namespace " + ns}

	labelled := binding(ns, "escape", "ClusterRole", "edit", subject(rbacv1.UserKind, "tina", ""))
	labelled.Labels = keep
	eventually(t, "a keep-labelled binding by the tenant is refused", func() error {
		return deniedWith(tina.Create(ctx, labelled), append(want, "rolebindings escape"))
	})
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "open", Namespace: ns, Labels: keep},
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{}}}}
	if err := deniedWith(tina.Create(ctx, np), append(want, "networkpolicies open")); err != nil {
		t.Error(err)
	}
	// Unlabelled it is the tenant's to make; labelling it later is refused.
	plain := binding(ns, "later", "ClusterRole", "edit", subject(rbacv1.UserKind, "tina", ""))
	create(t, tina, plain)
	plain.Labels = keep
	if err := deniedWith(tina.Update(ctx, plain), want); err != nil {
		t.Error(err)
	}
	// The platform team may.
	platform := binding(ns, "auditors", "ClusterRole", "view", subject(rbacv1.GroupKind, "auditors", ""))
	platform.Labels = keep
	create(t, admin, platform)

	if _, err := newEnforcer(admin).Enforce(ctx, terminated(acct)); err != nil {
		t.Fatal(err)
	}
	if got := bindingsLeft(t, ns); len(got) != 1 || got[0] != "auditors" {
		t.Errorf("bindings left after termination: %v, want only the platform's auditors", got)
	}
}
