package enforcement

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// The reliability suite (docs/reliability.md). Every N is tried when
// RELIABILITY_LONG=1 (make test-reliability); make test tries a sample.
func longRun() bool { return os.Getenv("RELIABILITY_LONG") == "1" }

// populateAll is the round-trip fixture plus every other kind an action
// sets aside or holds: a tenant's allow-all NetworkPolicy, a DaemonSet, a
// ReplicationController and a bare pod.
func populateAll(t *testing.T, ns string) {
	t.Helper()
	populate(t, ns)
	rc := &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy-rc", Namespace: ns},
		Spec: corev1.ReplicationControllerSpec{Replicas: ptrTo(int32(2)), Selector: map[string]string{"app": "rc"},
			Template: ptrTo(podTemplate("rc", corev1.RestartPolicyAlways))},
	}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: ns},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: podTemplate("agent", corev1.RestartPolicyAlways)},
	}
	allowAll := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "allow-all", Namespace: ns},
		Spec: networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{}},
		},
	}
	bare := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: ns}, Spec: podTemplate("bare", corev1.RestartPolicyAlways).Spec}
	create(t, admin, rc, ds, allowAll, bare)
}

func ptrTo[T any](v T) *T { return &v }

// dyingClient fails its n-th write and every request after it, as a process
// killed at that moment would make no further request.
func dyingClient(t *testing.T, n int64) (client.Client, *atomic.Bool, *atomic.Int64) {
	t.Helper()
	var writes atomic.Int64
	var dead atomic.Bool
	write := func() error {
		if dead.Load() || writes.Add(1) >= n {
			dead.Store(true)
			return errCrash
		}
		return nil
	}
	read := func() error {
		if dead.Load() {
			return errCrash
		}
		return nil
	}
	return interceptClient(t, failingVerbs(func(verb string) error {
		switch verb {
		case "get", "list", "dry-run":
			return read()
		}
		return write()
	})), &dead, &writes
}

// cycles are full cycles, step by step: terminate -> reinstate, and a
// read-only notice before the termination (its records handed over to
// RevokeAccess's).
var cycles = []struct {
	name  string
	steps func(*v1alpha1.CustomerAccount) []Request
}{
	{"terminate, reinstate", func(a *v1alpha1.CustomerAccount) []Request { return []Request{terminated(a), reinstated(a)} }},
	{"read-only notice, terminate, reinstate", func(a *v1alpha1.CustomerAccount) []Request {
		notice := readOnly(a)
		notice.Actions = append(notice.Actions, v1alpha1.ActionFreezeChanges)
		return []Request{notice, terminated(a), reinstated(a)}
	}},
}

// Crash after the N-th write, for every N over a full cycle: a fresh
// process resumes the cycle at the step that was interrupted, and the world
// ends exactly as after an uninterrupted run, with no record left.
func TestCrashAfterEveryWriteOfACycle(t *testing.T) {
	testenv.Require(t)
	for _, cyc := range cycles {
		t.Run(cyc.name, func(t *testing.T) { crashAfterEveryWrite(t, cyc.steps) })
	}
}

func crashAfterEveryWrite(t *testing.T, cycle func(*v1alpha1.CustomerAccount) []Request) {
	ctx := context.Background()
	// An uninterrupted run counts the writes of the cycle.
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	populateAll(t, ns)
	c, _, writes := dyingClient(t, 1<<62)
	for _, req := range cycle(acct) {
		if _, err := newEnforcer(c).Enforce(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	total := writes.Load()
	if total < 20 {
		t.Fatalf("only %d writes in a cycle", total)
	}
	step := int64(7)
	if longRun() {
		step = 1
	}
	tried := 0
	for n := int64(1); n <= total; n += step {
		t.Run(fmt.Sprintf("crash at write %d of %d", n, total), func(t *testing.T) {
			acct := newAccount(t)
			ns := tenantNamespace(t, acct.Name, nil)
			populateAll(t, ns)
			before := snapshot(t, ns)
			dying, dead, _ := dyingClient(t, n)
			steps := cycle(acct)
			resume := len(steps)
			for i, req := range steps {
				if _, err := newEnforcer(dying).Enforce(ctx, req); err != nil {
					if !errors.Is(err, errCrash) {
						t.Fatalf("step %d: %v", i, err)
					}
					resume = i
					break
				}
			}
			if !dead.Load() {
				t.Fatalf("the cycle never reached write %d", n)
			}
			for _, req := range steps[resume:] {
				if _, err := newEnforcer(admin).Enforce(ctx, req); err != nil {
					t.Fatalf("resuming after the crash: %v", err)
				}
			}
			requireSameWorld(t, withPhase(before, ns, "Good"), snapshot(t, ns))
		})
		tried++
	}
	t.Logf("crashed at %d of the %d writes of a cycle; the world was exact every time", tried, total)
}

// API errors per verb (429, 500, a timeout, a conflict) injected on the
// first call of that verb: enforcement reports the failure (naming it),
// keeps every record, and the next call finishes the cycle exactly, with
// no more writes than an undisturbed cycle.
func TestAPIErrorMatrix(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	gr := schema.GroupResource{Resource: "test"}
	errs := map[string]error{
		"429":      apierrors.NewTooManyRequests("slow down", 1),
		"500":      apierrors.NewInternalError(errors.New("etcd hiccup")),
		"timeout":  apierrors.NewTimeoutError("request timed out", 1),
		"conflict": apierrors.NewConflict(gr, "x", errors.New("changed meanwhile")),
	}
	verbs := []string{"get", "list", "create", "patch", "update", "delete"}
	kinds := []string{"429", "500", "timeout", "conflict"}
	for i, verb := range verbs {
		for j, name := range kinds {
			if !longRun() && j != i%len(kinds) {
				continue // make test: one error kind per verb, rotating
			}
			injected := errs[name]
			t.Run(verb+"/"+name, func(t *testing.T) {
				acct := newAccount(t)
				ns := tenantNamespace(t, acct.Name, nil)
				populateAll(t, ns)
				before := snapshot(t, ns)
				var fired atomic.Bool
				fail := func(v string) error {
					if v == verb && fired.CompareAndSwap(false, true) {
						return injected
					}
					return nil
				}
				c := interceptClient(t, failingVerbs(fail))
				for _, req := range cycles[0].steps(acct) {
					_, err := newEnforcer(c).Enforce(ctx, req)
					if err != nil && !errors.Is(err, injected) {
						t.Fatalf("%s: error %v does not carry the injected failure", req.Phase, err)
					}
					if err != nil {
						// The next reconcile retries with a working API server.
						if _, err := newEnforcer(admin).Enforce(ctx, req); err != nil {
							t.Fatalf("retry of %s: %v", req.Phase, err)
						}
					}
				}
				if !fired.Load() && verb != "update" {
					t.Fatalf("no %s was made in a whole cycle", verb)
				}
				requireSameWorld(t, withPhase(before, ns, "Good"), snapshot(t, ns))
			})
		}
	}
}

// failingVerbs injects fail(verb)'s error before a request of that verb
// (get, list, create, dry-run (a dry-run create), update, patch, delete).
func failingVerbs(fail func(verb string) error) interceptor.Funcs {
	return interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, o client.Object, opts ...client.GetOption) error {
			if err := fail("get"); err != nil {
				return err
			}
			return c.Get(ctx, key, o, opts...)
		},
		List: func(ctx context.Context, c client.WithWatch, l client.ObjectList, opts ...client.ListOption) error {
			if err := fail("list"); err != nil {
				return err
			}
			return c.List(ctx, l, opts...)
		},
		Create: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.CreateOption) error {
			verb := "create"
			if isDryRun(opts) {
				verb = "dry-run"
			}
			if err := fail(verb); err != nil {
				return err
			}
			return c.Create(ctx, o, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.UpdateOption) error {
			if err := fail("update"); err != nil {
				return err
			}
			return c.Update(ctx, o, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, o client.Object, p client.Patch, opts ...client.PatchOption) error {
			if err := fail("patch"); err != nil {
				return err
			}
			return c.Patch(ctx, o, p, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.DeleteOption) error {
			if err := fail("delete"); err != nil {
				return err
			}
			return c.Delete(ctx, o, opts...)
		},
	}
}
