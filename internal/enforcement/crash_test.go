package enforcement

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// A crash is simulated by a client that fails every write of one kind of
// object after the first `allow` of them; the next call uses a fresh
// Enforcer with a plain client, as a restarted operator would.

var errCrash = errors.New("injected crash")

func crashingClient(t *testing.T, allow int64, match func(client.Object) bool) client.Client {
	t.Helper()
	var n atomic.Int64
	gate := func(o client.Object) error {
		if match(o) && n.Add(1) > allow {
			return errCrash
		}
		return nil
	}
	return interceptClient(t, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.CreateOption) error {
			if isDryRun(opts) {
				return c.Create(ctx, o, opts...)
			}
			if err := gate(o); err != nil {
				return err
			}
			return c.Create(ctx, o, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.DeleteOption) error {
			if err := gate(o); err != nil {
				return err
			}
			return c.Delete(ctx, o, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, o client.Object, p client.Patch, opts ...client.PatchOption) error {
			if err := gate(o); err != nil {
				return err
			}
			return c.Patch(ctx, o, p, opts...)
		},
	})
}

func isDryRun(opts []client.CreateOption) bool {
	var o client.CreateOptions
	o.ApplyOptions(opts)
	return len(o.DryRun) > 0
}

func isRoleBinding(o client.Object) bool { _, ok := o.(*rbacv1.RoleBinding); return ok }

func isWorkload(o client.Object) bool {
	switch o.(type) {
	case *appsv1.Deployment, *appsv1.StatefulSet, *appsv1.ReplicaSet, *batchv1.CronJob, *batchv1.Job:
		return true
	}
	return false
}

func revokeOnly(acct *v1alpha1.CustomerAccount) Request {
	return Request{Account: acct, Phase: v1alpha1.PhaseTerminated, Actions: []v1alpha1.EnforcementAction{v1alpha1.ActionRevokeAccess}}
}

func bindingsLeft(t *testing.T, ns string) []string {
	t.Helper()
	var l rbacv1.RoleBindingList
	if err := admin.List(context.Background(), &l, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, rb := range l.Items {
		names = append(names, rb.Name)
	}
	return names
}

// Crash after the record is written, before any binding is deleted; and
// after some are deleted, followed by a second partial run. The record is
// never overwritten with less, a fresh Enforcer finishes, and the restore,
// itself interrupted once, is exact.
func TestRevokeAccessSurvivesCrashes(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		crashes   []int64 // bindings deleted before each crash
		remaining []int   // bindings left after each crash (6 incl. auditors at start)
	}{
		{"after record, before any delete", []int64{0}, []int{6}},
		{"after some deletes, twice", []int64{2, 1}, []int{4, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acct := newAccount(t)
			ns := tenantNamespace(t, acct.Name, nil)
			populate(t, ns)
			before := snapshot(t, ns)
			for i, allow := range tc.crashes {
				_, err := newEnforcer(crashingClient(t, allow, isRoleBinding)).Enforce(ctx, revokeOnly(acct))
				if !errors.Is(err, errCrash) {
					t.Fatalf("crash %d: got %v, want the injected crash", i, err)
				}
				requireRecorded(t, ns, revocable...)
				if got := len(bindingsLeft(t, ns)); got != tc.remaining[i] {
					t.Fatalf("crash %d: %d bindings left, want %d", i, got, tc.remaining[i])
				}
			}
			res, err := newEnforcer(admin).Enforce(ctx, revokeOnly(acct))
			if err != nil {
				t.Fatal(err)
			}
			requireStatus(t, res, ns, []v1alpha1.EnforcementAction{v1alpha1.ActionRevokeAccess})
			requireRecorded(t, ns, revocable...)
			if got := bindingsLeft(t, ns); len(got) != 1 || got[0] != "auditors" {
				t.Fatalf("after finishing: bindings %v, want only auditors", got)
			}

			// Restore crashes after recreating two bindings: the record stays.
			requireInterruptedRestoreIsExact(t, acct, ns, before, func() { requireRecorded(t, ns, revocable...) })
		})
	}
}

// Scaling interrupted midway: every workload is either untouched or at
// zero with its prior value recorded, never one without the other; a
// fresh Enforcer finishes, and an interrupted restore is finished exactly.
func TestScaleToZeroSurvivesCrashes(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	populate(t, ns)
	before := snapshot(t, ns)
	scale := Request{Account: acct, Phase: v1alpha1.PhaseTerminated, Actions: []v1alpha1.EnforcementAction{v1alpha1.ActionScaleToZero}}

	_, err := newEnforcer(crashingClient(t, 3, isWorkload)).Enforce(ctx, scale)
	if !errors.Is(err, errCrash) {
		t.Fatalf("got %v, want the injected crash", err)
	}
	if held := requireConsistentWorkloads(t, ns, before); held != 3 {
		t.Errorf("%d workloads held after the crash, want 3", held)
	}
	res, err := newEnforcer(admin).Enforce(ctx, scale)
	if err != nil {
		t.Fatal(err)
	}
	requireStatus(t, res, ns, scale.Actions)
	if held := requireConsistentWorkloads(t, ns, before); held != 7 {
		t.Errorf("%d workloads held after finishing, want 7", held)
	}

	_, err = newEnforcer(crashingClient(t, 2, isWorkload)).Enforce(ctx, reinstated(acct))
	if !errors.Is(err, errCrash) {
		t.Fatalf("restore: got %v, want the injected crash", err)
	}
	if held := requireConsistentWorkloads(t, ns, before); held != 5 {
		t.Errorf("%d workloads still held after a restore crash, want 5", held)
	}
	if _, err := newEnforcer(admin).Enforce(ctx, reinstated(acct)); err != nil {
		t.Fatal(err)
	}
	requireSameWorld(t, withPhase(before, ns, "Good"), snapshot(t, ns))
}

// requireConsistentWorkloads checks each workload is either as it was or
// held with its original value recorded, and counts the held ones.
func requireConsistentWorkloads(t *testing.T, ns string, before world) int {
	t.Helper()
	held := 0
	for key, o := range listWorld(t, ns) {
		if !isWorkload(o) {
			continue
		}
		orig := before[key]
		k := kindOf(o)
		prior, recorded := o.GetAnnotations()[k.annotation]
		switch {
		case !recorded && k.value(o) == k.value(orig):
		case recorded && k.value(o) == k.held && prior == k.value(orig):
			held++
		default:
			t.Errorf("%s inconsistent: value %s, annotation %q (recorded %t), originally %s",
				key, k.value(o), prior, recorded, k.value(orig))
		}
	}
	return held
}

func kindOf(o client.Object) workloadKind {
	for _, k := range workloadKinds {
		if k.kind == kindOfObject(o) {
			return k
		}
	}
	panic("no kind for " + o.GetName())
}

// A record that cannot be read is never overwritten or dropped.
func TestUnreadableRecordIsLeftAlone(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	populate(t, ns)
	nsObj := get(t, "", ns, &corev1.Namespace{})
	bad := &corev1.Secret{}
	bad.Name, bad.Namespace = RecordName("rb", nsObj.UID, "alice-edit"), operatorNS
	bad.Labels = map[string]string{LabelRecordNamespaceUID: string(nsObj.UID), LabelRecordKind: "RoleBinding"}
	bad.Data = map[string][]byte{RecordKey: []byte("{not json")}
	create(t, admin, bad)
	for _, req := range []Request{revokeOnly(acct), reinstated(acct)} {
		if _, err := newEnforcer(admin).Enforce(ctx, req); err == nil {
			t.Errorf("%s: Enforce succeeded over an unreadable record", req.Phase)
		}
	}
	got := get(t, operatorNS, bad.Name, &corev1.Secret{})
	if string(got.Data[RecordKey]) != "{not json" {
		t.Errorf("unreadable record was changed: %q", got.Data[RecordKey])
	}
	if n := len(bindingsLeft(t, ns)); n != 6 {
		t.Errorf("%d bindings left, want all 6 untouched", n)
	}
	if err := admin.Delete(ctx, got); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
}
