package enforcement

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

func readOnly(acct *v1alpha1.CustomerAccount) Request {
	return Request{Account: acct, Phase: v1alpha1.PhaseFinalNotice, Actions: []v1alpha1.EnforcementAction{v1alpha1.ActionReadOnlyAccess}}
}

// rebound are the bindings populate creates that ReadOnlyAccess sets
// aside: all but the kept one and the one already binding view.
var rebound = []string{"alice-edit", "ci-admin", "bob-app", "mixed"}

// ReadOnlyAccess: alice, bound to edit, can still read and export her data
// but is refused every change by RBAC (no freeze here, so the refusal is
// RBAC's); bob, bound to a narrow Role, gets no view in its place; the
// bindings come back exactly, the operator's binding goes, and alice can
// work again.
func TestReadOnlyAccessKeepsReadingAndRestoresExactly(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	populate(t, ns)
	create(t, admin, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "invoices", Namespace: ns}, Data: map[string]string{"2026-11": "paid"}})
	before := snapshot(t, ns)
	alice, err := client.New(userConfig(t, "alice"), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	canWrite := func() error {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "work-", Namespace: ns}}
		if err := alice.Create(ctx, cm); err != nil {
			return err
		}
		return alice.Delete(ctx, cm)
	}
	if err := canWrite(); err != nil {
		t.Fatalf("before any enforcement alice cannot write: %v", err)
	}

	res, err := newEnforcer(admin).Enforce(ctx, readOnly(acct))
	if err != nil {
		t.Fatal(err)
	}
	requireStatus(t, res, ns, []v1alpha1.EnforcementAction{v1alpha1.ActionReadOnlyAccess})
	requireEvent(t, res, ns, v1alpha1.ReasonAccessRestricted, "ReadOnlyAccess (set aside 4 RoleBindings")

	// The effect: reading and exporting work, writing is refused.
	eventually(t, "alice reads but cannot write", func() error {
		var cms corev1.ConfigMapList
		if err := alice.List(ctx, &cms, client.InNamespace(ns)); err != nil {
			return fmt.Errorf("listing configmaps: %w", err)
		}
		if !slices.ContainsFunc(cms.Items, func(c corev1.ConfigMap) bool { return c.Name == "invoices" && c.Data["2026-11"] == "paid" }) {
			return fmt.Errorf("alice cannot read the invoices: %v", cms.Items)
		}
		if err := canWrite(); !apierrors.IsForbidden(err) {
			return fmt.Errorf("creating a configmap: got %v, want Forbidden by RBAC", err)
		}
		return nil
	})
	bob, err := client.New(userConfig(t, "bob"), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	if err := bob.List(ctx, &corev1.ConfigMapList{}, client.InNamespace(ns)); !apierrors.IsForbidden(err) {
		t.Errorf("bob, bound to a narrow Role, must not be given view: listing got %v, want Forbidden", err)
	}

	// The bindings: kept and view ones untouched, the rest recorded, and
	// the operator's binding grants view to the edit and admin subjects.
	if got := bindingsLeft(t, ns); !slices.Equal(slices.Sorted(slices.Values(got)), []string{ReadOnlyBindingName, "auditors", "devs-view"}) {
		t.Errorf("bindings = %v, want the operator's, auditors and devs-view", got)
	}
	ours := get(t, ns, ReadOnlyBindingName, &rbacv1.RoleBinding{})
	wantSubjects := []rbacv1.Subject{
		subject(rbacv1.GroupKind, "ops", ""), subject(rbacv1.ServiceAccountKind, "ci", ns),
		subject(rbacv1.ServiceAccountKind, "deployer", ns), subject(rbacv1.UserKind, "alice", ""), subject(rbacv1.UserKind, "carol", ""),
	}
	if ours.RoleRef != viewRole || !slices.Equal(ours.Subjects, wantSubjects) {
		t.Errorf("read-only binding: %v for %v, want view for %v", ours.RoleRef, ours.Subjects, wantSubjects)
	}
	requireRecordsOf(t, ns, readOnlyRecords, rebound...)
	if recs := readRecordsOf(t, ns, roleBindingRecords); len(recs) != 0 {
		t.Errorf("RevokeAccess records written by ReadOnlyAccess: %v", recs)
	}

	// In force, it is stable: a second call writes nothing.
	counting, writes := countingClient(t)
	res, err = newEnforcer(counting).Enforce(ctx, readOnly(acct))
	if err != nil {
		t.Fatal(err)
	}
	requireStatus(t, res, ns, []v1alpha1.EnforcementAction{v1alpha1.ActionReadOnlyAccess})
	if n := writes.Load(); n != 0 {
		t.Errorf("a second Enforce made %d writes, want 0", n)
	}

	res, err = newEnforcer(admin).Enforce(ctx, reinstated(acct))
	if err != nil {
		t.Fatal(err)
	}
	requireEvent(t, res, ns, v1alpha1.ReasonAccessRestored, "ReadOnlyAccess (recreated 4 RoleBindings)")
	requireSameWorld(t, withPhase(before, ns, "Good"), snapshot(t, ns))
	eventually(t, "alice writes again after reinstatement", canWrite)
}

// A read-only notice followed by termination: the bindings are restored
// from the read-only records and set aside again by RevokeAccess, the
// operator's view binding is neither left granting view nor recorded, and
// reinstatement is exact.
func TestReadOnlyNoticeThenTerminationThenReinstatement(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct, ns, before := populatedTenant(t)
	for _, req := range []Request{readOnly(acct), terminated(acct)} {
		if _, err := newEnforcer(admin).Enforce(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	requireTerminatedWorld(t, ns, acct.Name)
	if recs := readRecordsOf(t, ns, readOnlyRecords); len(recs) != 0 {
		t.Errorf("read-only records left after termination: %v", recs)
	}
	if _, err := newEnforcer(admin).Enforce(ctx, reinstated(acct)); err != nil {
		t.Fatal(err)
	}
	requireSameWorld(t, withPhase(before, ns, "Good"), snapshot(t, ns))
}

// Crashes while rebinding, after every number of RoleBinding writes, then
// once while restoring: no binding is ever neither present nor recorded, a
// fresh Enforcer finishes, and the restore is exact.
func TestReadOnlyAccessSurvivesCrashes(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	// The view binding and four removals: five RoleBinding writes.
	for allow := range int64(5) {
		t.Run(fmt.Sprintf("crash after %d binding writes", allow), func(t *testing.T) {
			acct, ns, before := populatedTenant(t)
			_, err := newEnforcer(crashingClient(t, allow, isRoleBinding)).Enforce(ctx, readOnly(acct))
			if !errors.Is(err, errCrash) {
				t.Fatalf("got %v, want the injected crash", err)
			}
			recs := readRecordsOf(t, ns, readOnlyRecords)
			left := bindingsLeft(t, ns)
			for _, name := range rebound {
				if _, ok := recs[name]; !ok && !slices.Contains(left, name) {
					t.Errorf("binding %s is neither present nor recorded after the crash", name)
				}
			}
			res, err := newEnforcer(admin).Enforce(ctx, readOnly(acct))
			if err != nil {
				t.Fatal(err)
			}
			requireStatus(t, res, ns, []v1alpha1.EnforcementAction{v1alpha1.ActionReadOnlyAccess})
			requireRecordsOf(t, ns, readOnlyRecords, rebound...)

			requireInterruptedRestoreIsExact(t, acct, ns, before, func() { requireRecordsOf(t, ns, readOnlyRecords, rebound...) })
		})
	}
}

// A tenant binding squatting on the operator's binding name is recorded
// and set aside like any other, and comes back once the operator's is gone.
func TestReadOnlySquatterIsSetAsideAndRestored(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	create(t, admin, binding(ns, ReadOnlyBindingName, "ClusterRole", "edit", subject(rbacv1.UserKind, "mallory", "")))
	before := snapshot(t, ns)
	for range 2 { // once in force, a second call changes nothing
		if _, err := newEnforcer(admin).Enforce(ctx, readOnly(acct)); err != nil {
			t.Fatal(err)
		}
	}
	ours := get(t, ns, ReadOnlyBindingName, &rbacv1.RoleBinding{})
	if !isManaged(ours) || ours.RoleRef != viewRole {
		t.Errorf("the binding of the operator's name is %v (labels %v), want the operator's view binding", ours.RoleRef, ours.Labels)
	}
	requireRecordsOf(t, ns, readOnlyRecords, ReadOnlyBindingName)
	if _, err := newEnforcer(admin).Enforce(ctx, reinstated(acct)); err != nil {
		t.Fatal(err)
	}
	requireSameWorld(t, withPhase(before, ns, "Good"), snapshot(t, ns))
}

func readRecordsOf(t *testing.T, ns string, k recordKind) records {
	t.Helper()
	r := &nsRun{ns: get(t, "", ns, &corev1.Namespace{})}
	recs, err := newEnforcer(admin).readRecords(context.Background(), r, k)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// requireRecordsOf checks the kind's records hold exactly the named objects.
func requireRecordsOf(t *testing.T, ns string, k recordKind, names ...string) {
	t.Helper()
	var got []string
	for n := range readRecordsOf(t, ns, k) {
		got = append(got, n)
	}
	if want := slices.Sorted(slices.Values(names)); !slices.Equal(slices.Sorted(slices.Values(got)), want) {
		t.Errorf("%s records of %s hold %v, want %v", k.id, ns, got, want)
	}
}

// As the operator's service account with exactly the generated RBAC:
// ReadOnlyAccess binds view (which that RBAC lets it bind), updates its
// binding's subjects and restores exactly, with no permission to spare.
func TestReadOnlyAccessWithGeneratedRBAC(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	op := operatorClient(t)
	acct, ns, before := populatedTenant(t)
	res, err := newEnforcer(op).Enforce(ctx, readOnly(acct))
	if err != nil {
		t.Fatal(err)
	}
	requireStatus(t, res, ns, []v1alpha1.EnforcementAction{v1alpha1.ActionReadOnlyAccess})
	// A new admin binding while read-only widens the view binding's subjects
	// (an update of it), and is itself set aside.
	create(t, admin, binding(ns, "erin-admin", "ClusterRole", "admin", subject(rbacv1.UserKind, "erin", "")))
	if _, err := newEnforcer(op).Enforce(ctx, readOnly(acct)); err != nil {
		t.Fatal(err)
	}
	ours := get(t, ns, ReadOnlyBindingName, &rbacv1.RoleBinding{})
	if !slices.Contains(ours.Subjects, subject(rbacv1.UserKind, "erin", "")) {
		t.Errorf("the view binding's subjects %v do not include erin", ours.Subjects)
	}
	if _, err := newEnforcer(op).Enforce(ctx, reinstated(acct)); err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, ns)
	if after["RoleBinding/erin-admin"] == nil {
		t.Error("erin-admin, set aside while read-only, was not restored")
	}
	delete(after, "RoleBinding/erin-admin") // created by the test meanwhile
	requireSameWorld(t, withPhase(before, ns, "Good"), after)
}
