package enforcement

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync/atomic"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// allActions are what the terminated fixture puts in force: every action
// but ReadOnlyAccess, which excludes RevokeAccess.
var allActions = slices.DeleteFunc(Actions(), func(a v1alpha1.EnforcementAction) bool {
	return a == v1alpha1.ActionReadOnlyAccess // it excludes RevokeAccess
})

func newEnforcer(c client.Client) *Enforcer {
	return &Enforcer{Client: c, OperatorNamespace: operatorNS}
}

// populatedTenant is an account with one namespace holding the round-trip
// fixture, and that namespace as it was before anything was enforced.
func populatedTenant(t testing.TB) (*v1alpha1.CustomerAccount, string, world) {
	t.Helper()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	populate(t, ns)
	return acct, ns, snapshot(t, ns)
}

// requireInterruptedRestoreIsExact reinstates acct with a client that
// crashes after two RoleBinding writes, checks the crash was reported,
// lets a fresh Enforcer finish and requires the world to be as before.
func requireInterruptedRestoreIsExact(t *testing.T, acct *v1alpha1.CustomerAccount, ns string, before world, whileCrashed func()) {
	t.Helper()
	ctx := context.Background()
	if _, err := newEnforcer(crashingClient(t, 2, isRoleBinding)).Enforce(ctx, reinstated(acct)); !errors.Is(err, errCrash) {
		t.Fatalf("restore crash: got %v", err)
	}
	if whileCrashed != nil {
		whileCrashed()
	}
	if _, err := newEnforcer(admin).Enforce(ctx, reinstated(acct)); err != nil {
		t.Fatal(err)
	}
	requireSameWorld(t, withPhase(before, ns, "Good"), snapshot(t, ns))
}

func newAccount(t testing.TB) *v1alpha1.CustomerAccount {
	t.Helper()
	return &v1alpha1.CustomerAccount{ObjectMeta: metav1.ObjectMeta{Name: uniq("acme")}}
}

func terminated(acct *v1alpha1.CustomerAccount) Request {
	return Request{Account: acct, Phase: v1alpha1.PhaseTerminated, Actions: allActions}
}

func reinstated(acct *v1alpha1.CustomerAccount) Request {
	return Request{Account: acct, Phase: v1alpha1.PhaseGood}
}

// terminatedTenant is a populated namespace of a new account with every
// action in force, and the namespace's world from before.
func terminatedTenant(t *testing.T) (*v1alpha1.CustomerAccount, string, world) {
	t.Helper()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	populate(t, ns)
	before := snapshot(t, ns)
	if _, err := newEnforcer(admin).Enforce(context.Background(), terminated(acct)); err != nil {
		t.Fatal(err)
	}
	return acct, ns, before
}

// tenantNamespace creates a namespace labelled for the account.
func tenantNamespace(t testing.TB, account string, labels map[string]string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniq(account), Labels: map[string]string{v1alpha1.LabelAccount: account}}}
	for k, v := range labels {
		ns.Labels[k] = v
	}
	create(t, admin, ns)
	return ns.Name
}

func create(t testing.TB, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := c.Create(context.Background(), o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
}

func get[T client.Object](t testing.TB, ns, name string, obj T) T {
	t.Helper()
	if err := admin.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		t.Fatalf("getting %T %s/%s: %v", obj, ns, name, err)
	}
	return obj
}

func subject(kind, name, ns string) rbacv1.Subject {
	s := rbacv1.Subject{Kind: kind, Name: name, Namespace: ns}
	if kind != rbacv1.ServiceAccountKind {
		s.APIGroup = rbacv1.GroupName
	}
	return s
}

func binding(ns, name, roleKind, role string, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Subjects:   subjects,
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: roleKind, Name: role},
	}
}

// revocable are the bindings populate creates that RevokeAccess removes.
var revocable = []string{"alice-edit", "devs-view", "ci-admin", "bob-app", "mixed"}

// populate fills ns with the round-trip fixture: RoleBindings of every
// kind, workloads at various scales, suspended and active jobs.
func populate(t testing.TB, ns string) {
	t.Helper()
	mixed := binding(ns, "mixed", "ClusterRole", "edit",
		subject(rbacv1.UserKind, "carol", ""), subject(rbacv1.GroupKind, "ops", ""), subject(rbacv1.ServiceAccountKind, "deployer", ns))
	mixed.Labels = map[string]string{"team": "platform"}
	mixed.Annotations = map[string]string{"owner": "carol@example.com"}
	keep := binding(ns, "auditors", "ClusterRole", "view", subject(rbacv1.GroupKind, "auditors", ""))
	keep.Labels = map[string]string{v1alpha1.LabelKeep: "true"}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list"}}},
	}
	create(t, admin, role)
	// Owned by its Role, so garbage collection removes it with the Role; a
	// restore must keep that (issue Trust, item 11).
	bobApp := binding(ns, "bob-app", "Role", "app", subject(rbacv1.UserKind, "bob", ""))
	bobApp.OwnerReferences = []metav1.OwnerReference{{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role", Name: role.Name, UID: role.UID}}
	create(t, admin,
		binding(ns, "alice-edit", "ClusterRole", "edit", subject(rbacv1.UserKind, "alice", "")),
		binding(ns, "devs-view", "ClusterRole", "view", subject(rbacv1.GroupKind, "devs", "")),
		binding(ns, "ci-admin", "ClusterRole", "admin", subject(rbacv1.ServiceAccountKind, "ci", ns)),
		bobApp, mixed, keep,
	)
	dep3 := deployment(ns, "web", 3)
	create(t, admin, deployment(ns, "idle", 0), dep3)
	owned := replicaSet(ns, "web-5d9c", 3)
	owned.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: "apps/v1", Kind: "Deployment", Name: dep3.Name, UID: dep3.UID, Controller: ptr.To(true),
	}}
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To(int32(2)), ServiceName: "db",
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			Template: podTemplate("db", corev1.RestartPolicyAlways),
		},
	}
	create(t, admin, sts, replicaSet(ns, "legacy", 2), owned,
		cronJob(ns, "report", true), cronJob(ns, "backup", false),
		&batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: "migrate", Namespace: ns, Annotations: map[string]string{"note": "one-off"}},
			Spec:       batchv1.JobSpec{Template: podTemplate("migrate", corev1.RestartPolicyNever)},
		},
	)
}

func podTemplate(app string, restart corev1.RestartPolicy) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec: corev1.PodSpec{
			RestartPolicy: restart,
			Containers:    []corev1.Container{{Name: "main", Image: "registry.example/" + app + ":1"}},
		},
	}
}

func deployment(ns, name string, replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"tier": name}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: podTemplate(name, corev1.RestartPolicyAlways),
		},
	}
}

func replicaSet(ns, name string, replicas int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: podTemplate(name, corev1.RestartPolicyAlways),
		},
	}
}

func cronJob(ns, name string, suspended bool) *batchv1.CronJob {
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: batchv1.CronJobSpec{
			Schedule: "*/5 * * * *", Suspend: ptr.To(suspended),
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: podTemplate(name, corev1.RestartPolicyOnFailure)}},
		},
	}
}

// world is every object of a tenant namespace the operator may touch, and
// its record Secret, keyed "Kind/name".
type world map[string]client.Object

var worldKinds = []client.ObjectList{
	&rbacv1.RoleBindingList{}, &rbacv1.RoleList{}, &appsv1.DeploymentList{}, &appsv1.StatefulSetList{},
	&appsv1.ReplicaSetList{}, &appsv1.DaemonSetList{}, &corev1.ReplicationControllerList{},
	&batchv1.CronJobList{}, &batchv1.JobList{}, &corev1.ResourceQuotaList{}, &corev1.PodList{},
	&networkingv1.NetworkPolicyList{}, &corev1.ConfigMapList{},
}

func listWorld(t testing.TB, ns string) world {
	t.Helper()
	ctx := context.Background()
	w := world{}
	add := func(list client.ObjectList, opts ...client.ListOption) {
		if err := admin.List(ctx, list, opts...); err != nil {
			t.Fatal(err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			o := it.(client.Object)
			gvk, err := apiutil.GVKForObject(o, scheme)
			if err != nil {
				t.Fatal(err)
			}
			w[gvk.Kind+"/"+o.GetName()] = o
		}
	}
	for _, proto := range worldKinds {
		add(proto.DeepCopyObject().(client.ObjectList), client.InNamespace(ns))
	}
	add(&corev1.SecretList{}, client.InNamespace(operatorNS), client.MatchingLabels{LabelRecordNamespace: ns})
	var n corev1.Namespace
	if err := admin.Get(ctx, client.ObjectKey{Name: ns}, &n); err != nil {
		t.Fatal(err)
	}
	w["Namespace/"+ns] = &n
	return w
}

// snapshot is the world with what a round trip may legitimately change
// blanked out: versions, managed fields, generation (and a DaemonSet's
// template generation), and the identity of objects set aside and
// recreated (RoleBindings, NetworkPolicies, a squatting quota, pods).
func snapshot(t testing.TB, ns string) world {
	t.Helper()
	w := listWorld(t, ns)
	for _, o := range w {
		o.SetResourceVersion("")
		o.SetManagedFields(nil)
		o.SetGeneration(0)
		if ds, ok := o.(*appsv1.DaemonSet); ok {
			// The API server counts template changes here, like generation.
			delete(ds.Annotations, "deprecated.daemonset.template.generation")
		}
		switch p := o.(type) {
		case *rbacv1.RoleBinding, *networkingv1.NetworkPolicy, *corev1.ResourceQuota:
			// Set aside and recreated: a new identity.
			o.SetUID("")
			o.SetCreationTimestamp(metav1.Time{})
		case *corev1.Pod:
			o.SetUID("")
			o.SetCreationTimestamp(metav1.Time{})
			p.Status = corev1.PodStatus{}
		}
	}
	return w
}

func resourceVersions(t testing.TB, ns string) map[string]string {
	t.Helper()
	rv := map[string]string{}
	for k, o := range listWorld(t, ns) {
		rv[k] = o.GetResourceVersion()
	}
	return rv
}

func requireSameWorld(t testing.TB, want, got world) {
	t.Helper()
	keys := slices.Collect(maps.Keys(want))
	for k := range got {
		if want[k] == nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		w, g := want[k], got[k]
		switch {
		case w == nil:
			t.Errorf("%s: left behind: %+v", k, g)
		case g == nil:
			t.Errorf("%s: missing after restore", k)
		case !equality.Semantic.DeepEqual(w, g):
			t.Errorf("%s differs from the original (-want +got):\n%s", k, diff.Diff(w, g))
		}
	}
}

// withPhase returns w with the namespace's phase and enforced-for labels
// and an empty in-force mark set for phase ("": absent), for comparing
// after a round trip back to no restriction, which leaves them.
func withPhase(w world, ns, phase string) world {
	n := w["Namespace/"+ns].DeepCopyObject().(*corev1.Namespace)
	if phase == "" {
		delete(n.Labels, v1alpha1.LabelPhase)
		delete(n.Labels, v1alpha1.LabelEnforcedFor)
		delete(n.Annotations, AnnotationInForce)
	} else {
		n.Labels[v1alpha1.LabelPhase] = phase
		n.Labels[v1alpha1.LabelEnforcedFor] = n.Labels[v1alpha1.LabelAccount]
		if n.Annotations == nil {
			n.Annotations = map[string]string{}
		}
		n.Annotations[AnnotationInForce] = "" // nothing in force
	}
	out := maps.Clone(w)
	out["Namespace/"+ns] = n
	return out
}

// countingClient counts writes (dry runs included) made through it.
func countingClient(t testing.TB) (client.Client, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	count := func() { n.Add(1) }
	c := interceptClient(t, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.CreateOption) error {
			count()
			return c.Create(ctx, o, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.UpdateOption) error {
			count()
			return c.Update(ctx, o, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, o client.Object, p client.Patch, opts ...client.PatchOption) error {
			count()
			return c.Patch(ctx, o, p, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.DeleteOption) error {
			count()
			return c.Delete(ctx, o, opts...)
		},
		Apply: func(ctx context.Context, c client.WithWatch, o runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			count()
			return c.Apply(ctx, o, opts...)
		},
	})
	return c, &n
}

// interceptClient wraps a real client talking to envtest as admin.
func interceptClient(t testing.TB, funcs interceptor.Funcs) client.Client {
	t.Helper()
	base, err := client.NewWithWatch(testEnv.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return interceptor.NewClient(base, funcs)
}
