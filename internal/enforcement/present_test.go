package enforcement

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// metadataCache is a started cache of the metadata of WatchedKinds, as the
// manager holds it for its drift watches.
func metadataCache(t *testing.T) cache.Cache {
	t.Helper()
	c, err := cache.New(testEnv.Config, cache.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for _, o := range WatchedKinds() {
		pom := &metav1.PartialObjectMetadata{}
		gvk, err := apiutil.GVKForObject(o, scheme)
		if err != nil {
			t.Fatal(err)
		}
		pom.SetGroupVersionKind(gvk)
		if _, err := c.GetInformer(ctx, pom); err != nil {
			t.Fatal(err)
		}
	}
	go func() { _ = c.Start(ctx) }()
	syncCtx, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()
	if !c.WaitForCacheSync(syncCtx) {
		t.Fatal("metadata cache did not sync")
	}
	return c
}

// Issue Scale: with the metadata cache, a settled terminated namespace
// lists from the API server only the workload kinds it holds.
func TestKindsANamespaceDoesNotHoldAreNotListed(t *testing.T) {
	testenv.Require(t)
	acct, _, _ := terminatedTenant(t)
	meta := metadataCache(t)
	listsOfAbsentKinds := func(withCache bool) int64 {
		var n atomic.Int64
		c := interceptClient(t, interceptor.Funcs{List: func(ctx context.Context, c client.WithWatch, l client.ObjectList, opts ...client.ListOption) error {
			switch l.(type) {
			case *appsv1.DaemonSetList, *corev1.ReplicationControllerList: // populate makes neither
				n.Add(1)
			}
			return c.List(ctx, l, opts...)
		}})
		e := newEnforcer(c)
		if withCache {
			e.Metadata = meta
		}
		if _, err := e.Enforce(context.Background(), terminated(acct)); err != nil {
			t.Fatal(err)
		}
		return n.Load()
	}
	without, with := listsOfAbsentKinds(false), listsOfAbsentKinds(true)
	if without == 0 {
		t.Fatal("without the cache nothing was listed: the test does not measure the gate")
	}
	if with != 0 {
		t.Errorf("with the metadata cache, %d lists of kinds the namespace does not hold (%d without)", with, without)
	}
}

// Issue Scale: putting the quota in force in a namespace that has none
// creates it without first reading it, when the metadata cache says so.
func TestAbsentManagedObjectIsNotRead(t *testing.T) {
	testenv.Require(t)
	meta := metadataCache(t)
	gets := func(withCache bool) int64 {
		acct := newAccount(t)
		tenantNamespace(t, acct.Name, nil)
		var n atomic.Int64
		c := interceptClient(t, interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, o client.Object, opts ...client.GetOption) error {
			if _, ok := o.(*corev1.ResourceQuota); ok {
				n.Add(1)
			}
			return c.Get(ctx, key, o, opts...)
		}})
		e := newEnforcer(c)
		if withCache {
			e.Metadata = meta
		}
		req := Request{Account: acct, Phase: v1alpha1.PhaseFinalNotice, Actions: []v1alpha1.EnforcementAction{v1alpha1.ActionBlockNewWorkloads}}
		res, err := e.Enforce(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Namespaces) != 1 || len(res.Namespaces[0].Actions) != 1 {
			t.Fatalf("the quota is not reported in force: %+v", res.Namespaces)
		}
		return n.Load()
	}
	without, with := gets(false), gets(true)
	if without == 0 {
		t.Fatal("without the cache the quota was not read: the test does not measure the gate")
	}
	if with != 0 {
		t.Errorf("with the metadata cache, %d reads of a quota the namespace does not hold (%d without)", with, without)
	}
}
