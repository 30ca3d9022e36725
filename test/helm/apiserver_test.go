package helm

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// A real kube-apiserver accepts the chart: its crds/ install as Helm would
// install them, every rendered object passes a strict server-side dry-run
// apply, and the admission policy of a release with a custom adminGroup
// exempts that group, and no longer platform:admins, in a frozen namespace.
func TestChartOnAPIServer(t *testing.T) {
	env := testenv.ForTest(t, testenv.Options{CRDDirs: []string{filepath.Join("charts", "account-lifecycle-operator", "crds")}})
	c, cfg := env.Client, env.Config
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	const ns = "tenancy"
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	objs, err := render(t, "ops", ns, map[string]any{"adminGroup": "acme:sre"})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, obj := range objs {
		//nolint:staticcheck // SSA of arbitrary unstructured YAML has no typed apply configuration.
		if err := c.Patch(ctx, obj.DeepCopy(), client.Apply, client.FieldOwner("helm"), client.ForceOwnership,
			client.DryRunAll, client.FieldValidation("Strict")); err != nil {
			t.Errorf("dry-run apply of %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
		kinds[obj.GetKind()] = true
	}
	for _, k := range []string{"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
		"Deployment", "Service", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"} {
		if !kinds[k] {
			t.Errorf("the chart renders no %s", k)
		}
	}
	if t.Failed() {
		return
	}

	// Install the admission policies for real and check whom they exempt.
	for _, obj := range objs {
		if strings.HasPrefix(obj.GetKind(), "ValidatingAdmissionPolicy") {
			//nolint:staticcheck // as above
			if err := c.Patch(ctx, obj, client.Apply, client.FieldOwner("helm"), client.ForceOwnership); err != nil {
				t.Fatal(err)
			}
		}
	}
	tenant := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "initech-prod", Labels: map[string]string{
		"accounts.lifecycle.dev/account": "initech", "accounts.lifecycle.dev/phase": "FinalNotice",
		"accounts.lifecycle.dev/frozen": "true",
	}}}
	// envtest runs no controller-manager to aggregate the "edit" ClusterRole.
	configMaps := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "configmaps", Namespace: tenant.Name},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"create"}}},
	}
	editors := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "editors", Namespace: tenant.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: configMaps.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "editors"}},
	}
	for _, o := range []client.Object{tenant, configMaps, editors} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	as := func(user string, groups ...string) client.Client {
		ic := rest.CopyConfig(cfg)
		ic.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: append(groups, "editors", "system:authenticated")}
		cl, err := client.New(ic, client.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	create := func(cl client.Client) error {
		return cl.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "cm-", Namespace: tenant.Name}})
	}

	// The policy takes effect a moment after it is created.
	bob := as("bob", "platform:admins")
	denied := create(bob)
	for ; (denied == nil || !strings.Contains(denied.Error(), "is frozen")) && ctx.Err() == nil; denied = create(bob) {
		time.Sleep(200 * time.Millisecond)
	}
	if denied == nil || !strings.Contains(denied.Error(), "account initech is in phase FinalNotice") ||
		!strings.Contains(denied.Error(), "(acme:sre)") {
		t.Fatalf("platform:admins, not exempt in this release, was not denied with the freeze message: %v", denied)
	}
	if err := create(as("alice", "acme:sre")); err != nil {
		t.Errorf("a member of adminGroup acme:sre was not exempt from the freeze: %v", err)
	}
}
