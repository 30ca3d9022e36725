package enforcement

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// A tenant user, authenticated as themselves: denied changes in a frozen
// namespace with a message naming the account and phase, locked out once
// access is revoked, and back to normal after restoration.
func TestTenantIsFrozenThenRevokedThenRestored(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	populate(t, ns) // alice-edit binds user alice to edit
	alice, err := client.New(userConfig(t, "alice"), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	canWork := func() error {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "work-", Namespace: ns}}
		if err := alice.Create(ctx, cm); err != nil {
			return fmt.Errorf("create configmap: %w", err)
		}
		if err := alice.List(ctx, &corev1.PodList{}, client.InNamespace(ns)); err != nil {
			return fmt.Errorf("list pods: %w", err)
		}
		return alice.Delete(ctx, cm)
	}
	if err := canWork(); err != nil {
		t.Fatalf("before any enforcement: %v", err)
	}
	keep := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: ns}}
	create(t, alice, keep)

	finalNotice := Request{Account: acct, Phase: v1alpha1.PhaseFinalNotice, Actions: []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges}}
	if _, err := newEnforcer(admin).Enforce(ctx, finalNotice); err != nil {
		t.Fatal(err)
	}
	want := []string{"namespace " + ns + " is frozen", "account " + acct.Name, "phase FinalNotice", "contact"}
	eventually(t, "frozen namespace denies a tenant's create", func() error {
		err := alice.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "work-", Namespace: ns}})
		return deniedWith(err, want)
	})
	if err := deniedWith(alice.Delete(ctx, keep), want); err != nil {
		t.Errorf("delete in a frozen namespace: %v", err)
	}
	keep.Data = map[string]string{"k": "v"}
	if err := deniedWith(alice.Update(ctx, keep), want); err != nil {
		t.Errorf("update in a frozen namespace: %v", err)
	}
	if err := alice.List(ctx, &corev1.PodList{}, client.InNamespace(ns)); err != nil {
		t.Errorf("reading is not frozen, but listing pods failed: %v", err)
	}

	if _, err := newEnforcer(admin).Enforce(ctx, terminated(acct)); err != nil {
		t.Fatal(err)
	}
	if err := alice.List(ctx, &corev1.PodList{}, client.InNamespace(ns)); !apierrors.IsForbidden(err) {
		t.Errorf("listing pods with access revoked: got %v, want Forbidden", err)
	}

	if _, err := newEnforcer(admin).Enforce(ctx, reinstated(acct)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "tenant works again after reinstatement", canWork)
}

func deniedWith(err error, parts []string) error {
	if !apierrors.IsForbidden(err) {
		return fmt.Errorf("got %v, want Forbidden", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			return fmt.Errorf("denial %q does not mention %q", err.Error(), p)
		}
	}
	return nil
}

// Someone allowed to edit namespaces cannot lift a freeze by removing the
// label; the operator can.
func TestFrozenNamespaceCannotBeUnfrozenByOthers(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	if err := grantNamespaceEditor(ctx, "nadia"); err != nil {
		t.Fatal(err)
	}
	nadia, err := client.New(userConfig(t, "nadia"), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Account: acct, Phase: v1alpha1.PhaseFinalNotice, Actions: []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges}}
	if _, err := newEnforcer(admin).Enforce(ctx, req); err != nil {
		t.Fatal(err)
	}
	want := []string{"namespace " + ns + " is frozen", "account " + acct.Name, "phase FinalNotice"}
	for _, change := range []string{"unfreeze", "change phase", "delete"} {
		var n corev1.Namespace
		if err := nadia.Get(ctx, client.ObjectKey{Name: ns}, &n); err != nil {
			t.Fatal(err)
		}
		switch change {
		case "unfreeze":
			delete(n.Labels, v1alpha1.LabelFrozen)
			err = nadia.Update(ctx, &n)
		case "change phase":
			n.Labels[v1alpha1.LabelPhase] = "Good"
			err = nadia.Update(ctx, &n)
		case "delete":
			err = nadia.Delete(ctx, &n)
		}
		if err := deniedWith(err, want); err != nil {
			t.Errorf("%s: %v", change, err)
		}
	}

	if _, err := newEnforcer(admin).Enforce(ctx, reinstated(acct)); err != nil {
		t.Fatal(err)
	}
	n := get(t, "", ns, &corev1.Namespace{})
	if _, frozen := n.Labels[v1alpha1.LabelFrozen]; frozen {
		t.Fatalf("operator did not unfreeze: labels %v", n.Labels)
	}
	eventually(t, "an unfrozen namespace can be edited again", func() error {
		var n corev1.Namespace
		if err := nadia.Get(ctx, client.ObjectKey{Name: ns}, &n); err != nil {
			return err
		}
		n.Labels["team"] = "blue"
		return nadia.Update(ctx, &n)
	})
}

// The freeze exempts the platform's admins and Kubernetes' own components,
// so the cluster keeps working in a frozen namespace.
func TestFrozenNamespaceAdmitsAdminsAndKubernetes(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	populate(t, ns)
	exempt := map[string][]string{
		"system:serviceaccount:kube-system:replicaset-controller": {"system:serviceaccounts", "system:serviceaccounts:kube-system"},
		"system:kube-controller-manager":                          nil,
		"system:kube-scheduler":                                   nil,
		"system:node:worker-1":                                    {"system:nodes"},
		"pat":                                                     {"platform:admins"},
	}
	clients := map[string]client.Client{}
	for user, groups := range exempt {
		// envtest authorizes by RBAC only (no Node authorizer), so each
		// identity gets edit here; the point is what admission does.
		create(t, admin, editBinding("exempt-"+strings.NewReplacer(":", "-").Replace(user), ns, user))
		c, err := client.New(userConfig(t, user, groups...), client.Options{Scheme: scheme})
		if err != nil {
			t.Fatal(err)
		}
		clients[user] = c
	}
	alice, err := client.New(userConfig(t, "alice"), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Account: acct, Phase: v1alpha1.PhaseFinalNotice, Actions: []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges}}
	if _, err := newEnforcer(admin).Enforce(ctx, req); err != nil {
		t.Fatal(err)
	}
	eventually(t, "freeze in force for a tenant", func() error {
		err := alice.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "work-", Namespace: ns}})
		return deniedWith(err, []string{"is frozen"})
	})
	for user, c := range clients {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "sys-", Namespace: ns}}
		if err := c.Create(ctx, cm); err != nil {
			t.Errorf("%s in a frozen namespace: %v", user, err)
			continue
		}
		if err := c.Delete(ctx, cm); err != nil {
			t.Errorf("%s deleting in a frozen namespace: %v", user, err)
		}
	}
}

// Item 7 of issue Trust: a frozen tenant cannot exec, attach or port-forward
// into its pods (CONNECT requests), which it can before the freeze.
func TestFrozenNamespaceRefusesConnect(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	create(t, admin, binding(ns, "alice-edit", "ClusterRole", "edit", subject(rbacv1.UserKind, "alice", "")),
		&corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "registry.example/app:1"}}},
		})
	alice, err := kubernetes.NewForConfig(userConfig(t, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	connect := func(sub string) error {
		req := alice.CoreV1().RESTClient().Post().Namespace(ns).Resource("pods").Name("app").SubResource(sub)
		if sub != "portforward" {
			req = req.Param("container", "main").Param("stdout", "true")
		}
		if sub == "exec" {
			req = req.Param("command", "true")
		}
		return req.Do(ctx).Error()
	}
	for _, sub := range []string{"exec", "attach", "portforward"} {
		// Before the freeze the request passes admission and fails later,
		// for want of a node: anything but a freeze denial.
		if err := connect(sub); isFrozenDenial(err) || apierrors.IsForbidden(err) {
			t.Fatalf("pods/%s before the freeze: %v", sub, err)
		}
	}
	freeze := Request{Account: acct, Phase: v1alpha1.PhaseFinalNotice, Actions: []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges}}
	if _, err := newEnforcer(admin).Enforce(ctx, freeze); err != nil {
		t.Fatal(err)
	}
	want := []string{"namespace " + ns + " is frozen", "account " + acct.Name}
	for _, sub := range []string{"exec", "attach", "portforward"} {
		eventually(t, "pods/"+sub+" refused in a frozen namespace", func() error { return deniedWith(connect(sub), want) })
	}
}

// The tenant matrix (issue Trust): a tenant administrator (bound to admin in
// its namespace, so RBAC allows all of this) tries every way around a
// restriction once the namespace is frozen; each attempt is refused by the
// freeze, naming the account.
func TestTenantMatrixIsRefused(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	populate(t, ns)
	create(t, admin, binding(ns, "tenant-admin", "ClusterRole", "admin", subject(rbacv1.UserKind, "mallory", "")),
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns}, Spec: podTemplate("app", corev1.RestartPolicyAlways).Spec})
	// Not ScaleToZero, which would delete the bare pod tried below.
	restrict := Request{Account: acct, Phase: v1alpha1.PhaseFinalNotice, Actions: []v1alpha1.EnforcementAction{
		v1alpha1.ActionFreezeChanges, v1alpha1.ActionBlockNewWorkloads, v1alpha1.ActionIsolateNetwork}}
	if _, err := newEnforcer(admin).Enforce(ctx, restrict); err != nil {
		t.Fatal(err)
	}
	cfg := userConfig(t, "mallory")
	mallory, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mergePatch := func(o client.Object, patch string) error {
		return mallory.Patch(ctx, o, client.RawPatch(types.MergePatchType, []byte(patch)))
	}
	attempts := map[string]func() error{
		"create a ConfigMap": func() error {
			return mallory.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: ns}})
		},
		"create a bare Pod": func() error {
			return mallory.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "miner", Namespace: ns}, Spec: podTemplate("miner", corev1.RestartPolicyAlways).Spec})
		},
		"create a RoleBinding": func() error {
			return mallory.Create(ctx, binding(ns, "backdoor", "ClusterRole", "admin", subject(rbacv1.UserKind, "mallory-2", "")))
		},
		"create an allow-all NetworkPolicy": func() error {
			return mallory.Create(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "open", Namespace: ns},
				Spec: networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{}}}})
		},
		"delete the isolating NetworkPolicy": func() error {
			return mallory.Delete(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: NetworkPolicyName, Namespace: ns}})
		},
		"delete the blocking quota": func() error {
			return mallory.Delete(ctx, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: QuotaName, Namespace: ns}})
		},
		"scale a Deployment through /scale": func() error {
			_, err := cs.AppsV1().Deployments(ns).UpdateScale(ctx, "web", &autoscalingv1.Scale{
				ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}, Spec: autoscalingv1.ScaleSpec{Replicas: 3}}, metav1.UpdateOptions{})
			return err
		},
		"drop the prior-replicas annotation": func() error {
			return mergePatch(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}},
				`{"metadata":{"annotations":{"`+AnnotationPriorReplicas+`":null}}}`)
		},
		"add a finalizer to a RoleBinding": func() error {
			return mergePatch(&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-edit", Namespace: ns}},
				`{"metadata":{"finalizers":["tenant.example/hold"]}}`)
		},
		"unsuspend a CronJob": func() error {
			return mergePatch(&batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "backup", Namespace: ns}}, `{"spec":{"suspend":false}}`)
		},
		"evict a pod": func() error {
			return cs.CoreV1().Pods(ns).EvictV1(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns}})
		},
		"delete a pod": func() error {
			return mallory.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns}})
		},
		"exec into a pod": func() error {
			return cs.CoreV1().RESTClient().Post().Namespace(ns).Resource("pods").Name("app").SubResource("exec").
				Param("command", "true").Param("stdout", "true").Do(ctx).Error()
		},
		"port-forward to a pod": func() error {
			return cs.CoreV1().RESTClient().Post().Namespace(ns).Resource("pods").Name("app").SubResource("portforward").Do(ctx).Error()
		},
	}
	want := []string{"namespace " + ns + " is frozen", "account " + acct.Name, "phase FinalNotice"}
	// Kubernetes' admin role grants no write on quotas: RBAC refuses first.
	byRBAC := map[string][]string{"delete the blocking quota": {`cannot delete resource "resourcequotas"`}}
	for name, attempt := range attempts {
		w := want
		if r, ok := byRBAC[name]; ok {
			w = r
		}
		eventually(t, name, func() error { return deniedWith(attempt(), w) })
	}
	// The namespace itself is not the tenant's to relabel.
	n := get(t, "", ns, &corev1.Namespace{})
	delete(n.Labels, v1alpha1.LabelFrozen)
	if err := mallory.Update(ctx, n); !apierrors.IsForbidden(err) {
		t.Errorf("unfreezing the namespace: %v, want Forbidden", err)
	}
}
