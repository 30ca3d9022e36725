package enforcement

import (
	"context"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// The kinds every action lists as Watched (action.go) are the ones whose
// metadata the manager caches and watches: a change to one wakes the
// account (drift), and enforcement asks the cache whether a namespace
// holds any before listing the kind from the API server. Pods are not
// among them: caching every pod's metadata in the cluster would cost more
// than it saves.

// mayHold says whether namespace ns may hold objects of the list's kind. It
// is false only when the metadata cache holds the kind and has none there.
// The cache can lag: an object it has not seen yet is missed now, and its
// arrival in the cache is the watch event that reconciles the account
// again, so the object is handled then. Errors count as "may hold".
func (e *Enforcer) mayHold(ctx context.Context, proto client.ObjectList, ns string) bool {
	gvk, ok := e.cachedKind(proto)
	if !ok {
		return true
	}
	var list metav1.PartialObjectMetadataList
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := e.Metadata.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return true
	}
	return len(list.Items) > 0
}

// mayExist says whether obj's kind may have an object of that name in ns:
// false only when the metadata cache holds the kind and not that object
// (see mayHold for why a lagging cache is safe).
func (e *Enforcer) mayExist(ctx context.Context, obj client.Object, ns, name string) bool {
	gvk, ok := e.cachedKind(obj)
	if !ok {
		return true
	}
	var m metav1.PartialObjectMetadata
	m.SetGroupVersionKind(gvk)
	err := e.Metadata.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &m)
	return !apierrors.IsNotFound(err)
}

// cachedKind is the kind of o (an object or a list), if the metadata cache
// holds it.
func (e *Enforcer) cachedKind(o runtime.Object) (schema.GroupVersionKind, bool) {
	if e.Metadata == nil {
		return schema.GroupVersionKind{}, false
	}
	gvk, err := apiutil.GVKForObject(o, e.Client.Scheme())
	if err != nil {
		return gvk, false
	}
	gvk.Kind = strings.TrimSuffix(gvk.Kind, "List")
	for _, w := range WatchedKinds() {
		if wk, err := apiutil.GVKForObject(w, e.Client.Scheme()); err == nil && wk == gvk {
			return gvk, true
		}
	}
	return gvk, false
}
