package enforcement

import (
	"context"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// readCountingClient counts gets and lists.
func readCountingClient(t *testing.T) (client.Client, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	return interceptClient(t, failingVerbs(func(verb string) error {
		if verb == "get" || verb == "list" {
			n.Add(1)
		}
		return nil
	})), &n
}

// Issue Scale: a settled account with nothing in force costs the same few
// reads whatever the number of its namespaces (the in-force mark says there
// is nothing to reverse), where every action used to be looked for in
// every namespace.
func TestNothingInForceCostsNoReadsPerNamespace(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	reads := func(namespaces int, forget bool) int64 {
		acct := newAccount(t)
		var names []string
		for range namespaces {
			ns := tenantNamespace(t, acct.Name, nil)
			populate(t, ns)
			names = append(names, ns)
		}
		if _, err := newEnforcer(admin).Enforce(ctx, reinstated(acct)); err != nil {
			t.Fatal(err)
		}
		if forget { // as before the mark existed
			for _, ns := range names {
				n := get(t, "", ns, &corev1.Namespace{})
				delete(n.Annotations, AnnotationInForce)
				if err := admin.Update(ctx, n); err != nil {
					t.Fatal(err)
				}
			}
		}
		c, n := readCountingClient(t)
		if _, err := newEnforcer(c).Enforce(ctx, reinstated(acct)); err != nil {
			t.Fatal(err)
		}
		return n.Load()
	}
	one, five := reads(1, false), reads(5, false)
	if one != five || one > 4 {
		t.Errorf("settled Good account: %d reads with 1 namespace, %d with 5; want the same few", one, five)
	}
	t.Logf("reads of a settled Good account: %d with 1 namespace, %d with 5; without the mark: %d with 5", one, five, reads(5, true))
}

// A careless admin removes the in-force mark of a restricted namespace:
// the operator does not trust its absence and reverses everything, exactly.
func TestMissingMarkMeansReverseEverything(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct, ns, before := terminatedTenant(t)
	n := get(t, "", ns, &corev1.Namespace{})
	if n.Annotations[AnnotationInForce] == "" {
		t.Fatalf("no in-force mark on a terminated namespace: %v", n.Annotations)
	}
	delete(n.Annotations, AnnotationInForce)
	if err := admin.Update(ctx, n); err != nil {
		t.Fatal(err)
	}
	if _, err := newEnforcer(admin).Enforce(ctx, reinstated(acct)); err != nil {
		t.Fatal(err)
	}
	requireSameWorld(t, withPhase(before, ns, "Good"), snapshot(t, ns))
}

// Issue Scale: enforcing a namespace whose every action is already in force
// lists its records once, not once per action that keeps records.
func TestSettledRestrictedNamespaceListsItsRecordsOnce(t *testing.T) {
	testenv.Require(t)
	acct, _, _ := terminatedTenant(t)
	var lists atomic.Int64
	c := interceptClient(t, interceptor.Funcs{List: func(ctx context.Context, c client.WithWatch, l client.ObjectList, opts ...client.ListOption) error {
		if _, ok := l.(*corev1.SecretList); ok {
			lists.Add(1)
		}
		return c.List(ctx, l, opts...)
	}})
	if _, err := newEnforcer(c).Enforce(context.Background(), terminated(acct)); err != nil {
		t.Fatal(err)
	}
	if n := lists.Load(); n != 1 {
		t.Errorf("a settled terminated namespace listed Secrets %d times, want 1", n)
	}
}
