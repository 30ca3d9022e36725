package controller

import (
	"cmp"
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// DefaultAccountWorkers is how many accounts are reconciled at once unless
// the manager is told otherwise (--account-workers). A reconcile mostly
// waits on the API server, so more workers than cores keep it busy; see
// docs/performance.md for the measurement behind the figure.
const DefaultAccountWorkers = 8

// EventRecorder emits events.k8s.io Events.
type EventRecorder = events.EventRecorder

// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// SetupWithManager watches accounts, the policies that govern them and the
// namespaces labelled for them.
func (r *CustomerAccountReconciler) SetupWithManager(mgr ctrl.Manager) error {
	b := ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.CustomerAccount{}, builder.WithPredicates(specOrMetadataChanged())).
		// Only what can change a decision: a policy's spec (generation),
		// labels, creation and deletion; never its status, which the policy
		// reconciler rewrites as accounts change (that would fan every
		// account change out to every account).
		Watches(&v1alpha1.AccountPolicy{}, handler.EnqueueRequestsFromMapFunc(r.accountsForPolicy),
			builder.WithPredicates(predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(accountForNamespace),
			builder.WithPredicates(predicate.Or[client.Object](predicate.LabelChangedPredicate{}, createOrDelete())))
	for _, kind := range driftWatched() {
		b = b.WatchesMetadata(kind, handler.EnqueueRequestsFromMapFunc(r.accountForRestrictedNamespace),
			builder.WithPredicates(changedInSubstance()))
	}
	return b.Named("customeraccount").
		// Accounts are independent; a few workers keep one slow webhook or
		// a large tenant from holding up every other account.
		WithOptions(controller.Options{MaxConcurrentReconciles: cmp.Or(r.Workers, DefaultAccountWorkers)}).
		Complete(r)
}

// specOrMetadataChanged ignores the reconciler's own status writes: the
// status is an output, and reacting to it would loop. A status wiped by
// someone else (a restore from a backup without status) is let through, to
// be recovered from the world at once.
func specOrMetadataChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			return metadataChanged(e.ObjectOld, e.ObjectNew, false) || statusWiped(e.ObjectOld, e.ObjectNew)
		},
	}
}

// metadataChanged: the spec (generation), labels, finalizers or deletion
// changed, and the annotations too when withAnnotations.
func metadataChanged(o, n client.Object, withAnnotations bool) bool {
	return o.GetGeneration() != n.GetGeneration() ||
		!equalStrings(o.GetLabels(), n.GetLabels()) ||
		withAnnotations && !equalStrings(o.GetAnnotations(), n.GetAnnotations()) ||
		len(o.GetFinalizers()) != len(n.GetFinalizers()) ||
		!o.GetDeletionTimestamp().Equal(n.GetDeletionTimestamp())
}

func statusWiped(o, n client.Object) bool {
	oa, ok1 := o.(*v1alpha1.CustomerAccount)
	na, ok2 := n.(*v1alpha1.CustomerAccount)
	return ok1 && ok2 && oa.Status.Phase != "" && na.Status.Phase == ""
}

func createOrDelete() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return true },
		DeleteFunc:  func(event.DeleteEvent) bool { return true },
		UpdateFunc:  func(event.UpdateEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

func equalStrings(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// accountsForPolicy enqueues the accounts a policy may govern: those naming
// it, and those naming none (its selector may have changed).
func (r *CustomerAccountReconciler) accountsForPolicy(ctx context.Context, obj client.Object) []reconcile.Request {
	var list v1alpha1.CustomerAccountList
	// Only names are read: no copy of every account in the cluster.
	if err := r.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		log.FromContext(ctx).Error(err, "listing accounts for policy", "policy", obj.GetName())
		return nil
	}
	var reqs []reconcile.Request
	for _, a := range list.Items {
		if a.Spec.PolicyName == "" || a.Spec.PolicyName == obj.GetName() {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: a.Name}})
		}
	}
	return reqs
}

// accountForNamespace enqueues the account a namespace belongs to, so a
// namespace that joins a restricted account is restricted too.
func accountForNamespace(_ context.Context, obj client.Object) []reconcile.Request {
	name := obj.GetLabels()[v1alpha1.LabelAccount]
	if name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: name}}}
}
