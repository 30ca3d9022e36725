package enforcement

import (
	"context"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// WatchedKinds are the kinds in tenant namespaces whose metadata the
// manager caches and watches: a change to one wakes the account (drift),
// and enforcement asks the cache whether a namespace holds any before
// listing the kind from the API server. Pods are not among them: caching
// every pod's metadata in the cluster would cost more than it saves.
func WatchedKinds() []client.Object {
	return []client.Object{
		&appsv1.Deployment{}, &appsv1.StatefulSet{}, &appsv1.ReplicaSet{}, &appsv1.DaemonSet{},
		&corev1.ReplicationController{}, &batchv1.CronJob{}, &batchv1.Job{},
		&rbacv1.RoleBinding{}, &networkingv1.NetworkPolicy{}, &corev1.ResourceQuota{},
	}
}

// mayHold says whether namespace ns may hold objects of the list's kind. It
// is false only when the metadata cache holds the kind and has none there.
// The cache can lag: an object it has not seen yet is missed now, and its
// arrival in the cache is the watch event that reconciles the account
// again, so the object is handled then. Errors count as "may hold".
func (e *Enforcer) mayHold(ctx context.Context, proto client.ObjectList, ns string) bool {
	if e.Metadata == nil {
		return true
	}
	gvk, err := apiutil.GVKForObject(proto, e.Client.Scheme())
	if err != nil {
		return true
	}
	gvk.Kind = strings.TrimSuffix(gvk.Kind, "List")
	watched := false
	for _, o := range WatchedKinds() {
		if w, err := apiutil.GVKForObject(o, e.Client.Scheme()); err == nil && w == gvk {
			watched = true
		}
	}
	if !watched {
		return true
	}
	var list metav1.PartialObjectMetadataList
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := e.Metadata.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return true
	}
	return len(list.Items) > 0
}
