package enforcement

import (
	"context"
	"sync/atomic"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// BenchmarkEnforceSteadyState measures a steady-state Enforce (all five
// actions already in force) on one populated namespace against envtest,
// and reports the API reads it costs; it makes no writes.
func BenchmarkEnforceSteadyState(b *testing.B) {
	testenv.Require(b)
	ctx := context.Background()
	acct := newAccount(b)
	ns := tenantNamespace(b, acct.Name, nil)
	populate(b, ns)
	if _, err := newEnforcer(admin).Enforce(ctx, terminated(acct)); err != nil {
		b.Fatal(err)
	}
	var reads, writes atomic.Int64
	base, err := client.NewWithWatch(testEnv.Config, client.Options{Scheme: scheme})
	if err != nil {
		b.Fatal(err)
	}
	c := interceptor.NewClient(base, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, k client.ObjectKey, o client.Object, opts ...client.GetOption) error {
			reads.Add(1)
			return c.Get(ctx, k, o, opts...)
		},
		List: func(ctx context.Context, c client.WithWatch, l client.ObjectList, opts ...client.ListOption) error {
			reads.Add(1)
			return c.List(ctx, l, opts...)
		},
		Create: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.CreateOption) error {
			writes.Add(1)
			return c.Create(ctx, o, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, o client.Object, p client.Patch, opts ...client.PatchOption) error {
			writes.Add(1)
			return c.Patch(ctx, o, p, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.DeleteOption) error {
			writes.Add(1)
			return c.Delete(ctx, o, opts...)
		},
	})
	e := newEnforcer(c)
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Enforce(ctx, terminated(acct)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(reads.Load())/float64(b.N), "reads/op")
	b.ReportMetric(float64(writes.Load())/float64(b.N), "writes/op")
}
