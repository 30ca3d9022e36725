package enforcement

import (
	"context"
	"errors"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// Tests of the promises a hostile tenant or a careless admin would try to
// break (issue "Trust"). Each one failed on the code before its fix.

// deleteNamespace deletes ns the way the namespace controller (not run by
// envtest) would: its contents, then the namespace with its finalizer.
func deleteNamespace(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	for _, kind := range []client.Object{&rbacv1.RoleBinding{}, &rbacv1.Role{}, &networkingv1.NetworkPolicy{},
		&corev1.ConfigMap{}, &corev1.ResourceQuota{}, &appsv1.Deployment{}} {
		if err := admin.DeleteAllOf(ctx, kind, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := kubernetes.NewForConfig(testEnv.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	cur, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Spec.Finalizers = nil
	if _, err := cs.CoreV1().Namespaces().Finalize(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "namespace "+ns+" is gone", func() error {
		err := admin.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return errors.New("still there")
	})
}

// Item 1: a terminated account's records are never restored into a later
// namespace of the same name that belongs to someone else. The namespace
// they came from was deleted, so they can never be restored at all: they
// are discarded, and reported.
func TestRecordsAreNeverRestoredIntoAnotherNamespaceOfTheSameName(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	old := newAccount(t)
	old.UID = "uid-of-old"
	ns := tenantNamespace(t, old.Name, nil)
	create(t, admin, binding(ns, "old-admins", "ClusterRole", "admin", subject(rbacv1.UserKind, "mallory", "")))
	revoked, err := newEnforcer(admin).Enforce(ctx, revokeOnly(old))
	if err != nil {
		t.Fatal(err)
	}
	old.Status.Namespaces = revoked.Namespaces // as the controller records it
	kept := len(recordSecrets(t, ns))
	if kept != 1 {
		t.Fatalf("%d records, want 1", kept)
	}

	var oldNS corev1.Namespace
	if err := admin.Get(ctx, client.ObjectKey{Name: ns}, &oldNS); err != nil {
		t.Fatal(err)
	}
	deleteNamespace(t, ns)
	res, err := newEnforcer(admin).Release(ctx, old)
	if err != nil {
		t.Fatalf("release with the namespace gone: %v", err)
	}
	if len(res.Discarded) != 1 || !strings.Contains(res.Discarded[0], "namespace "+ns) ||
		!strings.Contains(res.Discarded[0], "was deleted, so the 1 record(s)") || !strings.Contains(res.Discarded[0], "RoleBinding old-admins") {
		t.Errorf("discarded = %q, want the record of old-admins in the deleted namespace %s reported", res.Discarded, ns)
	}
	var left corev1.SecretList
	if err := admin.List(ctx, &left, client.InNamespace(operatorNS), client.MatchingLabels{LabelRecordNamespaceUID: string(oldNS.UID)}); err != nil {
		t.Fatal(err)
	}
	if len(left.Items) != 0 {
		t.Errorf("%d records of a deleted namespace kept", len(left.Items))
	}
	// A record of the deleted namespace written late (its deletion raced a
	// write of the operator) is discarded too once the namespace of that
	// name is someone else's, and never restored there.
	rec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "late-record", Namespace: operatorNS, Labels: map[string]string{
		v1alpha1.LabelManaged: ManagedBy, v1alpha1.LabelAccount: old.Name,
		LabelRecordNamespace: ns, LabelRecordNamespaceUID: string(oldNS.UID), LabelRecordKind: "RoleBinding",
	}}, Type: RecordType, Data: map[string][]byte{RecordKey: []byte(`{"metadata":{"name":"old-admins","namespace":"` + ns + `"}}`)}}
	create(t, admin, rec)

	// A new namespace of the same name, for a different account in good standing.
	newcomer := newAccount(t)
	create(t, admin, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{v1alpha1.LabelAccount: newcomer.Name}}})
	if _, err := newEnforcer(admin).Enforce(ctx, reinstated(newcomer)); err != nil {
		t.Fatal(err)
	}
	if left := bindingsLeft(t, ns); len(left) != 0 {
		t.Fatalf("the old account's bindings were recreated in someone else's namespace: %v", left)
	}
	// Same when the old account (or a namesake) is enforced again.
	res, err = newEnforcer(admin).Enforce(ctx, reinstated(old))
	if err != nil {
		t.Fatal(err)
	}
	if left := bindingsLeft(t, ns); len(left) != 0 {
		t.Fatalf("bindings recreated in a replaced namespace: %v", left)
	}
	if len(res.Discarded) != 1 || !strings.Contains(res.Discarded[0], "is another one") {
		t.Errorf("discarded = %q, want the replaced namespace reported", res.Discarded)
	}
	var all corev1.SecretList
	if err := admin.List(ctx, &all, client.InNamespace(operatorNS), client.MatchingLabels{v1alpha1.LabelAccount: old.Name}); err != nil {
		t.Fatal(err)
	}
	if len(all.Items) != 0 {
		t.Errorf("%d records of the old account kept, want none", len(all.Items))
	}
}

// Scale gates the search for orphans (a List of the account's records) to
// reconciles where one can have appeared. A namespace deleted and created
// again under the same name by the same account between two reconciles is
// one: its records are discarded on the very next Enforce although the
// status still lists a namespace of that name.
func TestRecreatedNamespaceOfTheSameAccountDiscardsRecordsAtOnce(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	create(t, admin, binding(ns, "admins", "ClusterRole", "admin", subject(rbacv1.UserKind, "mallory", "")))
	revoked, err := newEnforcer(admin).Enforce(ctx, revokeOnly(acct))
	if err != nil {
		t.Fatal(err)
	}
	acct.Status.Namespaces = revoked.Namespaces // as the controller records it
	settled, err := newEnforcer(admin).Enforce(ctx, revokeOnly(acct))
	if err != nil || len(settled.Discarded) != 0 {
		t.Fatalf("settled: discarded %q, err %v", settled.Discarded, err)
	}

	deleteNamespace(t, ns)
	create(t, admin, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{v1alpha1.LabelAccount: acct.Name}}})
	res, err := newEnforcer(admin).Enforce(ctx, revokeOnly(acct))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Discarded) != 1 || !strings.Contains(res.Discarded[0], "is another one") {
		t.Errorf("discarded = %q, want the record of the namespace's earlier incarnation discarded", res.Discarded)
	}
	if left := bindingsLeft(t, ns); len(left) != 0 {
		t.Errorf("a record of the earlier namespace was restored into the new one: %v", left)
	}
}

// Item 2: a RoleBinding held by a tenant's finalizer is really removed (not
// left working while terminating), and a binding still terminating on
// reinstatement is not taken for restored.
func TestFinalizerHeldRoleBindingsAreRevokedAndRestored(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	rb := binding(ns, "sticky", "ClusterRole", "edit", subject(rbacv1.UserKind, "alice", ""))
	rb.Finalizers = []string{"tenant.example/hold"}
	create(t, admin, rb)
	doomed := binding(ns, "doomed", "ClusterRole", "view", subject(rbacv1.UserKind, "bob", ""))
	doomed.Finalizers = []string{"tenant.example/hold"}
	create(t, admin, doomed)
	if err := admin.Delete(ctx, doomed); err != nil { // terminating, still in effect
		t.Fatal(err)
	}

	res, err := newEnforcer(admin).Enforce(ctx, revokeOnly(acct))
	if err != nil {
		t.Fatal(err)
	}
	requireStatus(t, res, ns, []v1alpha1.EnforcementAction{v1alpha1.ActionRevokeAccess})
	if left := bindingsLeft(t, ns); len(left) != 0 {
		t.Fatalf("bindings left working while access is revoked: %v", left)
	}

	// While revoked, an admin recreates "sticky" with a finalizer and deletes
	// it: it is terminating when reinstatement comes.
	again := binding(ns, "sticky", "ClusterRole", "edit", subject(rbacv1.UserKind, "alice", ""))
	again.Finalizers = []string{"admin.example/hold"}
	create(t, admin, again)
	if err := admin.Delete(ctx, again); err != nil {
		t.Fatal(err)
	}
	if _, err := newEnforcer(admin).Enforce(ctx, reinstated(acct)); err == nil || !strings.Contains(err.Error(), "still being deleted") {
		t.Fatalf("reinstating over a terminating binding: got %v, want it reported as still being deleted", err)
	}
	requireRecorded(t, ns, "doomed", "sticky")

	cur := get(t, ns, "sticky", &rbacv1.RoleBinding{})
	cur.Finalizers = nil
	if err := admin.Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if _, err := newEnforcer(admin).Enforce(ctx, reinstated(acct)); err != nil {
		t.Fatal(err)
	}
	got := get(t, ns, "sticky", &rbacv1.RoleBinding{})
	if got.DeletionTimestamp != nil || got.Subjects[0].Name != "alice" {
		t.Errorf("sticky after reinstatement: %+v", got)
	}
	if n := len(recordSecrets(t, ns)); n != 0 {
		t.Errorf("%d records left after every binding is back", n)
	}
}

// Item 3: bindings a tenant inflated with large annotations neither exceed
// a record's size limit nor stop the other actions.
func TestLargeRoleBindingsDoNotBlockTermination(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	filler := strings.Repeat("x", 200<<10)
	for _, name := range []string{"big-1", "big-2", "big-3", "big-4", "big-5", "big-6"} {
		rb := binding(ns, name, "ClusterRole", "view", subject(rbacv1.UserKind, name, ""))
		rb.Annotations = map[string]string{"filler": filler}
		create(t, admin, rb)
	}
	create(t, admin, deployment(ns, "web", 2))

	res, err := newEnforcer(admin).Enforce(ctx, terminated(acct))
	if err != nil {
		t.Fatal(err)
	}
	requireStatus(t, res, ns, allActions)
	if left := bindingsLeft(t, ns); len(left) != 0 {
		t.Errorf("bindings left: %v", left)
	}
	if r := get(t, ns, "web", &appsv1.Deployment{}).Spec.Replicas; r == nil || *r != 0 {
		t.Errorf("web not scaled to zero: %v", r)
	}
	get(t, ns, QuotaName, &corev1.ResourceQuota{})
	get(t, ns, NetworkPolicyName, &networkingv1.NetworkPolicy{})

	if _, err := newEnforcer(admin).Enforce(ctx, reinstated(acct)); err != nil {
		t.Fatal(err)
	}
	if got := get(t, ns, "big-6", &rbacv1.RoleBinding{}); got.Annotations["filler"] != filler {
		t.Error("big-6 not restored exactly")
	}
}

// Item 3: one action failing does not stop the others; the errors are
// joined and what is in force is reported as it is.
func TestOneFailingActionDoesNotStopTheOthers(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	populate(t, ns)
	errQuota := errors.New("injected quota failure")
	c := interceptClient(t, interceptorFailingCreate(func(o client.Object) error {
		if _, ok := o.(*corev1.ResourceQuota); ok {
			return errQuota
		}
		return nil
	}))
	res, err := newEnforcer(c).Enforce(ctx, terminated(acct))
	if !errors.Is(err, errQuota) {
		t.Fatalf("got %v, want the quota failure", err)
	}
	requireStatus(t, res, ns, []v1alpha1.EnforcementAction{
		v1alpha1.ActionFreezeChanges, v1alpha1.ActionRevokeAccess, v1alpha1.ActionScaleToZero, v1alpha1.ActionIsolateNetwork,
	})
	if r := get(t, ns, "web", &appsv1.Deployment{}).Spec.Replicas; *r != 0 {
		t.Errorf("web at %d replicas: ScaleToZero did not run after the quota failed", *r)
	}
}

// interceptorFailingCreate fails the creates for which fail returns an error.
func interceptorFailingCreate(fail func(client.Object) error) interceptor.Funcs {
	return interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.CreateOption) error {
			if err := fail(o); err != nil {
				return err
			}
			return c.Create(ctx, o, opts...)
		},
	}
}

// Item 4: a tenant's own NetworkPolicies (an allow-all, one squatting on
// the operator's policy name) cannot widen IsolateNetwork: they are set
// aside while isolated and restored exactly afterwards; one labelled keep
// stays.
func TestTenantNetworkPoliciesCannotWidenIsolation(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	allowAll := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "allow-all", Namespace: ns, Labels: map[string]string{"team": "web"}},
		Spec: networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{}},
			Egress:      []networkingv1.NetworkPolicyEgressRule{{}},
		},
	}
	allowAll.Finalizers = []string{"tenant.example/hold"}
	squatter := allowAll.DeepCopy()
	squatter.Name, squatter.Finalizers = NetworkPolicyName, nil
	platform := allowAll.DeepCopy()
	platform.Name, platform.Finalizers = "platform-dns", nil
	platform.Labels = map[string]string{v1alpha1.LabelKeep: "true"}
	create(t, admin, allowAll, squatter, platform)
	before := snapshot(t, ns)
	isolate := Request{Account: acct, Phase: v1alpha1.PhaseTerminated, Actions: []v1alpha1.EnforcementAction{v1alpha1.ActionIsolateNetwork}}

	res, err := newEnforcer(admin).Enforce(ctx, isolate)
	if err != nil {
		t.Fatal(err)
	}
	requireStatus(t, res, ns, isolate.Actions)
	var list networkingv1.NetworkPolicyList
	if err := admin.List(ctx, &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, np := range list.Items {
		names = append(names, np.Name)
		if np.Name == NetworkPolicyName && (!isManaged(&np) || len(np.Spec.Ingress)+len(np.Spec.Egress) != 0) {
			t.Errorf("%s is not the operator's deny-all: %+v", np.Name, np.Spec)
		}
	}
	if strings.Join(names, ",") != NetworkPolicyName+",platform-dns" {
		t.Fatalf("NetworkPolicies while isolated: %v, want only the deny-all and the kept one", names)
	}
	if _, err := newEnforcer(admin).Enforce(ctx, isolate); err != nil {
		t.Fatal(err)
	}
	if _, err := newEnforcer(admin).Enforce(ctx, reinstated(acct)); err != nil {
		t.Fatal(err)
	}
	// Recreated policies have a new identity, and the tenant's finalizer was
	// removed to set its policy aside.
	forgetIdentity := func(w world) world {
		for _, o := range w {
			if _, ok := o.(*networkingv1.NetworkPolicy); ok {
				o.SetUID("")
				o.SetCreationTimestamp(metav1.Time{})
				o.SetFinalizers(nil)
			}
		}
		return w
	}
	after := forgetIdentity(snapshot(t, ns))
	before = forgetIdentity(before)
	requireSameWorld(t, withPhase(before, ns, "Good"), after)
}

// Item 5: every workload kind that runs pods is stopped by ScaleToZero and
// restored exactly: a ReplicaSet whose owner reference names a ConfigMap,
// a ReplicationController, a DaemonSet (held off every node by a node
// selector), and pods no workload controls (recorded, deleted, recreated).
func TestEveryWorkloadKindIsScaledToZero(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "decoy", Namespace: ns}}
	create(t, admin, cm)
	sneaky := replicaSet(ns, "sneaky", 4)
	sneaky.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: cm.Name, UID: cm.UID, Controller: ptr.To(true)}}
	rc := &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy-rc", Namespace: ns},
		Spec: corev1.ReplicationControllerSpec{Replicas: ptr.To(int32(2)), Selector: map[string]string{"app": "rc"},
			Template: ptr.To(podTemplate("rc", corev1.RestartPolicyAlways))},
	}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "miner", Namespace: ns},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "miner"}},
			Template: podTemplate("miner", corev1.RestartPolicyAlways)},
	}
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	bare := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: ns, Labels: map[string]string{"app": "bare"}, Annotations: map[string]string{"note": "hand-made"}},
		Spec:       podTemplate("bare", corev1.RestartPolicyAlways).Spec,
	}
	fake := bare.DeepCopy()
	fake.Name = "fake-owned"
	fake.OwnerReferences = sneaky.OwnerReferences
	create(t, admin, sneaky, rc, ds, bare, fake)
	owned := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "miner-x1", Namespace: ns,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: ds.Name, UID: ds.UID, Controller: ptr.To(true)}}},
		Spec: podTemplate("miner", corev1.RestartPolicyAlways).Spec}
	create(t, admin, owned)
	pods := func() []string {
		var l corev1.PodList
		if err := admin.List(ctx, &l, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range l.Items {
			names = append(names, p.Name)
		}
		return names
	}
	before := snapshot(t, ns)
	bareBefore := get(t, ns, "bare", &corev1.Pod{})
	scale := Request{Account: acct, Phase: v1alpha1.PhaseTerminated, Actions: []v1alpha1.EnforcementAction{v1alpha1.ActionScaleToZero}}

	res, err := newEnforcer(admin).Enforce(ctx, scale)
	if err != nil {
		t.Fatal(err)
	}
	requireStatus(t, res, ns, scale.Actions)
	if r := get(t, ns, "sneaky", &appsv1.ReplicaSet{}).Spec.Replicas; *r != 0 {
		t.Errorf("ReplicaSet owned by a ConfigMap at %d replicas", *r)
	}
	if r := get(t, ns, "legacy-rc", &corev1.ReplicationController{}).Spec.Replicas; *r != 0 {
		t.Errorf("ReplicationController at %d replicas", *r)
	}
	if sel := get(t, ns, "miner", &appsv1.DaemonSet{}).Spec.Template.Spec.NodeSelector; sel[LabelScaledToZero] != "true" {
		t.Errorf("DaemonSet node selector %v does not hold it off every node", sel)
	}
	// The DaemonSet's own pod is its controller's to remove; the others are gone.
	if got := strings.Join(pods(), ","); got != "miner-x1" {
		t.Errorf("pods while scaled to zero: %s, want only the DaemonSet's (its controller removes it)", got)
	}
	if _, err := newEnforcer(admin).Enforce(ctx, scale); err != nil {
		t.Fatal(err)
	}

	if _, err := newEnforcer(admin).Enforce(ctx, reinstated(acct)); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(pods(), ","); got != "bare,fake-owned,miner-x1" {
		t.Errorf("pods after restore: %s", got)
	}
	after := get(t, ns, "bare", &corev1.Pod{})
	if !equality.Semantic.DeepEqual(after.Spec, bareBefore.Spec) || !equality.Semantic.DeepEqual(after.Labels, bareBefore.Labels) ||
		!equality.Semantic.DeepEqual(after.Annotations, bareBefore.Annotations) {
		t.Errorf("bare pod not recreated as it was:\n%+v\n%+v", bareBefore, after)
	}
	got := snapshot(t, ns)
	requireSameWorld(t, withPhase(before, ns, "Good"), got)
	if n := len(recordSecrets(t, ns)); n != 0 {
		t.Errorf("%d records left", n)
	}
}

// Item 12: a restricted namespace relabelled to an account that does not
// exist, or labelled protected, or relabelled out of its account before
// the account's status recorded it, is not left restricted with nobody to
// lift it: everything is restored and reported.
func TestRestrictedNamespaceLeftToNobodyIsRestored(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		relabel func(labels map[string]string)
		// statusLost: the status write that would have listed the
		// namespace failed, so only the namespace itself says who
		// restricted it.
		statusLost bool
	}{
		{"relabelled to an account that does not exist", func(l map[string]string) { l[v1alpha1.LabelAccount] = "no-such-account" }, false},
		{"labelled protected", func(l map[string]string) { l[v1alpha1.LabelProtected] = "true" }, false},
		{"account label removed, status never written", func(l map[string]string) { delete(l, v1alpha1.LabelAccount) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acct := newAccount(t)
			ns := tenantNamespace(t, acct.Name, nil)
			populate(t, ns)
			before := snapshot(t, ns)
			res, err := newEnforcer(admin).Enforce(ctx, terminated(acct))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.statusLost {
				acct.Status.Namespaces = res.Namespaces
			}
			n := get(t, "", ns, &corev1.Namespace{})
			tc.relabel(n.Labels)
			if err := admin.Update(ctx, n); err != nil {
				t.Fatal(err)
			}
			res, err = newEnforcer(admin).Enforce(ctx, terminated(acct))
			if err != nil {
				t.Fatal(err)
			}
			requireEvent(t, res, ns, v1alpha1.ReasonAccessRestored, "RevokeAccess")
			for _, st := range res.Namespaces {
				if st.Name == ns && len(st.Actions) != 0 {
					t.Errorf("status says %v still in force in %s", st.Actions, ns)
				}
			}
			after := snapshot(t, ns)
			want := before["Namespace/"+ns].DeepCopyObject().(*corev1.Namespace)
			tc.relabel(want.Labels)
			before["Namespace/"+ns] = want
			requireSameWorld(t, before, after)
		})
	}
}

// Item 8: a record Secret deleted while access is revoked is noticed: the
// namespace reports it (RecordsLost, an enforcement error) instead of
// claiming all is well, and reinstatement restores the rest and says what
// it could not restore.
func TestDeletedRecordIsReported(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	populate(t, ns)
	if _, err := newEnforcer(admin).Enforce(ctx, revokeOnly(acct)); err != nil {
		t.Fatal(err)
	}
	recs := recordSecrets(t, ns)
	var victim string
	for _, s := range recs {
		obj, err := roleBindingRecords.decode(&s)
		if err != nil {
			t.Fatal(err)
		}
		if obj.GetName() == "devs-view" {
			victim = obj.GetName()
			if err := admin.Delete(ctx, &s); err != nil {
				t.Fatal(err)
			}
		}
	}
	if victim == "" {
		t.Fatal("no record of devs-view")
	}

	res, err := newEnforcer(admin).Enforce(ctx, revokeOnly(acct))
	if err == nil || !strings.Contains(err.Error(), "1 of the 5 RoleBinding records") {
		t.Fatalf("Enforce with a record deleted: %v, want the loss reported", err)
	}
	requireEvent(t, res, ns, v1alpha1.ReasonRecordsLost, "cannot be restored")

	res, err = newEnforcer(admin).Enforce(ctx, reinstated(acct))
	if err != nil {
		t.Fatalf("reinstatement stopped by the lost record: %v", err)
	}
	requireEvent(t, res, ns, v1alpha1.ReasonRecordsLost, "1 RoleBinding objects set aside from namespace "+ns+" could not be restored")
	if got := bindingsLeft(t, ns); strings.Join(got, ",") != "alice-edit,auditors,bob-app,ci-admin,mixed" {
		t.Errorf("bindings after reinstatement: %v", got)
	}
	if a := get(t, "", ns, &corev1.Namespace{}).Annotations[AnnotationSetAside]; a != "" {
		t.Errorf("witness left on the namespace: %q", a)
	}
}
