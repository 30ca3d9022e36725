package enforcement

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// installGeneratedRBAC creates the ClusterRole and Roles of the generated
// config/rbac/role.yaml and binds them to the operator's service account,
// as config/rbac does in a real install. It returns the ClusterRole.
func installGeneratedRBAC(t *testing.T) *rbacv1.ClusterRole {
	t.Helper()
	ctx := context.Background()
	objs, err := readObjects(filepath.Join("..", "..", "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sa := rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "account-lifecycle-operator-controller-manager", Namespace: operatorNS}
	var clusterRole *rbacv1.ClusterRole
	for _, u := range objs {
		var binding client.Object
		switch u.GetKind() {
		case "ClusterRole":
			clusterRole = &rbacv1.ClusterRole{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, clusterRole); err != nil {
				t.Fatal(err)
			}
			binding = &rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: "test-" + u.GetName()},
				Subjects:   []rbacv1.Subject{sa},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: u.GetName()},
			}
		case "Role":
			binding = &rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: "test-" + u.GetName(), Namespace: u.GetNamespace()},
				Subjects:   []rbacv1.Subject{sa},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: u.GetName()},
			}
		default:
			t.Fatalf("unexpected %s in role.yaml", u.GetKind())
		}
		for _, o := range []client.Object{u, binding} {
			if err := admin.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatal(err)
			}
		}
	}
	if clusterRole == nil {
		t.Fatal("role.yaml has no ClusterRole")
	}
	return clusterRole
}

// The generated ClusterRole grants no way to hand out more than admin,
// edit, view or a namespace Role.
func TestGeneratedRBACCannotEscalate(t *testing.T) {
	testenv.Require(t)
	cr := installGeneratedRBAC(t)
	for _, r := range cr.Rules {
		if slices.Contains(r.Verbs, "*") || slices.Contains(r.Verbs, "escalate") || slices.Contains(r.Resources, "*") {
			t.Errorf("rule grants too much: %+v", r)
		}
		if slices.Contains(r.Verbs, "bind") && slices.Contains(r.Resources, "clusterroles") &&
			!slices.Equal(slices.Sorted(slices.Values(r.ResourceNames)), []string{"admin", "edit", "view"}) {
			t.Errorf("bind on clusterroles beyond admin/edit/view: %+v", r)
		}
		if slices.Contains(r.Resources, "secrets") {
			t.Errorf("cluster-wide access to secrets: %+v", r)
		}
		if slices.Contains(r.Resources, "clusterrolebindings") {
			t.Errorf("access to clusterrolebindings: %+v", r)
		}
	}
}

// operatorClient is the operator's service account, with exactly the
// generated RBAC installed.
func operatorClient(t *testing.T) client.Client {
	t.Helper()
	installGeneratedRBAC(t)
	op, err := client.New(userConfig(t, operatorUser, "system:serviceaccounts", "system:serviceaccounts:"+operatorNS),
		client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// The Enforcer running as the operator's service account with exactly the
// generated RBAC restricts and restores bindings to admin, edit, view and a
// namespace Role; it keeps (and reports) a binding to cluster-admin it
// could not recreate, and it cannot create one itself.
func TestOperatorIdentityRestoresWithGeneratedRBAC(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	op := operatorClient(t)
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	populate(t, ns)
	create(t, admin, binding(ns, "root", "ClusterRole", "cluster-admin", subject(rbacv1.UserKind, "dave", "")))
	before := snapshot(t, ns)

	res, err := newEnforcer(op).Enforce(ctx, terminated(acct))
	if err != nil {
		t.Fatal(err)
	}
	requireStatus(t, res, ns, allActions)
	requireEvent(t, res, ns, v1alpha1.ReasonRevokeIncomplete, "RoleBinding root was kept")
	requireRecorded(t, ns, revocable...)
	var left rbacv1.RoleBindingList
	if err := admin.List(ctx, &left, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if got := bindingNames(left.Items); got != "auditors, root" {
		t.Errorf("bindings left = %s, want auditors, root", got)
	}

	acct.Status.Namespaces = res.Namespaces
	res, err = newEnforcer(op).Enforce(ctx, terminated(acct))
	if err != nil || len(res.Events) != 0 {
		t.Errorf("steady state: err %v, events %+v", err, res.Events)
	}

	if _, err := newEnforcer(op).Enforce(ctx, reinstated(acct)); err != nil {
		t.Fatal(err)
	}
	requireSameWorld(t, withPhase(before, ns, "Good"), snapshot(t, ns))
	if _, err := newEnforcer(op).Release(ctx, acct); err != nil {
		t.Fatal(err)
	}
	requireSameWorld(t, before, snapshot(t, ns))

	for what, obj := range map[string]client.Object{
		"RoleBinding to cluster-admin": binding(ns, "mine", "ClusterRole", "cluster-admin", subject(rbacv1.UserKind, "op", "")),
		"ClusterRoleBinding to cluster-admin": &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "mine"},
			Subjects:   []rbacv1.Subject{subject(rbacv1.UserKind, "op", "")},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		},
	} {
		if err := op.Create(ctx, obj); !apierrors.IsForbidden(err) {
			t.Errorf("operator creating a %s: got %v, want Forbidden", what, err)
		}
	}
	if err := op.List(ctx, &corev1.SecretList{}, client.InNamespace(ns)); !apierrors.IsForbidden(err) {
		t.Errorf("operator listing a tenant's secrets: got %v, want Forbidden", err)
	}
}
