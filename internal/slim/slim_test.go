package slim

import (
	"os"
	"runtime"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/diff"
	kjson "sigs.k8s.io/json"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// testdata/account.json is an account as the API server sent it during
// make bench-scale: 21 incidents, Warned then FinalNotice.
func decoded(t testing.TB) *v1alpha1.CustomerAccount {
	t.Helper()
	raw, err := os.ReadFile("testdata/account.json")
	if err != nil {
		t.Fatal(err)
	}
	a := &v1alpha1.CustomerAccount{}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(raw, a); err != nil {
		t.Fatal(err)
	}
	return a
}

// Compacting keeps the content: what the operator reads is unchanged.
func TestAccountKeepsEveryValue(t *testing.T) {
	want := decoded(t)
	want.ManagedFields = nil
	got := decoded(t)
	if _, err := Transform()(got); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(want, got) {
		t.Errorf("compacted account differs (-want +got):\n%s", diff.Diff(want, got))
	}
	for _, l := range []int{cap(got.Spec.Incidents) - len(got.Spec.Incidents), cap(got.Status.History) - len(got.Status.History), cap(got.Status.Conditions) - len(got.Status.Conditions)} {
		if l != 0 {
			t.Errorf("spare capacity %d left in a list", l)
		}
	}
	// The compacted object is still independent of others: a copy can be
	// changed without touching the cache.
	c := got.DeepCopy()
	c.Spec.Incidents[0].ReportedBy = "someone else"
	if got.Spec.Incidents[0].ReportedBy == "someone else" {
		t.Error("a copy shares its incidents with the cached object")
	}
}

// BenchmarkCachedAccount reports the heap one cached account holds, as
// the API server's JSON decodes (less managed fields, as before this
// package) and compacted.
func BenchmarkCachedAccount(b *testing.B) {
	raw, err := os.ReadFile("testdata/account.json")
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		transform func(*v1alpha1.CustomerAccount)
	}{
		{"decoded", func(a *v1alpha1.CustomerAccount) { a.ManagedFields = nil }},
		{"slim", func(a *v1alpha1.CustomerAccount) { _, _ = Transform()(a) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			const n = 2000
			var perAccount float64
			for b.Loop() {
				keep := make([]*v1alpha1.CustomerAccount, n)
				before := heapInUse()
				for i := range keep {
					a := &v1alpha1.CustomerAccount{}
					if err := kjson.UnmarshalCaseSensitivePreserveInts(raw, a); err != nil {
						b.Fatal(err)
					}
					tc.transform(a)
					keep[i] = a
				}
				perAccount = float64(heapInUse()-before) / n
				runtime.KeepAlive(keep)
			}
			b.ReportMetric(perAccount, "heap-B/account")
		})
	}
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
