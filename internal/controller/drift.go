package controller

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/enforcement"
)

// Drift: someone the freeze admits (an administrator, a platform
// controller) changes what enforcement holds: scales a Deployment back up,
// recreates a RoleBinding or a NetworkPolicy, edits the quota. The account
// reconciler watches the metadata of every kind enforcement changes, so such
// a change in a restricted namespace is corrected (and reported) at once,
// not whenever something else happens to trigger a reconcile. Metadata
// only: the cache holds names, labels and annotations, not specs, and
// events from namespaces with nothing in force are dropped before queuing.
// Pods are not watched (a cluster's pods are too many to cache for this);
// restricted accounts are also re-checked every driftRecheck.

// driftRecheck is how often an account with restrictions in force is
// re-enforced with no event: it bounds how long a pod recreated by someone
// the freeze admits can run.
const driftRecheck = 10 * time.Minute

// driftWatched are the kinds whose changes can undo an enforcement action.
func driftWatched() []client.Object {
	return enforcement.WatchedKinds()
}

// changedInSubstance passes creations, deletions and updates that change
// the spec (generation), labels, annotations or finalizers, not status.
func changedInSubstance() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc:  func(e event.UpdateEvent) bool { return metadataChanged(e.ObjectOld, e.ObjectNew, true) },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// accountForRestrictedNamespace enqueues the account whose enforcement has
// something in force in the object's namespace (its phase label is not
// Good, or it is frozen).
func (r *CustomerAccountReconciler) accountForRestrictedNamespace(ctx context.Context, obj client.Object) []reconcile.Request {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, client.ObjectKey{Name: obj.GetNamespace()}, ns); err != nil {
		return nil
	}
	account := ns.Labels[v1alpha1.LabelEnforcedFor]
	phase := ns.Labels[v1alpha1.LabelPhase]
	if account == "" || (phase == string(v1alpha1.PhaseGood) && ns.Labels[v1alpha1.LabelFrozen] != "true") {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: account}}}
}
