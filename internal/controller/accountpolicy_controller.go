package controller

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/lifecycle"
	"github.com/accountops/account-lifecycle-operator/internal/metrics"
)

// AccountPolicyReconciler reports whether a policy is usable and how many
// accounts it governs in each phase.
type AccountPolicyReconciler struct {
	client.Client
}

// +kubebuilder:rbac:groups=accounts.lifecycle.dev,resources=accountpolicies/status,verbs=get;update;patch

// Reconcile recomputes the policy's status from the policy and the accounts.
func (r *AccountPolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	policy := &v1alpha1.AccountPolicy{}
	if err := r.Get(ctx, req.NamespacedName, policy); err != nil {
		if apierrors.IsNotFound(err) {
			metrics.AccountsByPhase.DeletePartialMatch(map[string]string{"policy": req.Name})
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	base := policy.DeepCopy()

	ready := metav1.Condition{
		Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue,
		Reason: v1alpha1.ReasonPolicyValid, Message: "the policy is usable",
	}
	if err := lifecycle.CheckPolicy(policy); err != nil {
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, v1alpha1.ReasonPolicyInvalid, err.Error()
	} else if err := checkSelector(policy); err != nil {
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, v1alpha1.ReasonPolicyInvalid,
			"spec.accountSelector is invalid: "+err.Error()
	}
	meta.SetStatusCondition(&policy.Status.Conditions, ready)

	var accounts v1alpha1.CustomerAccountList
	// Read-only: the cache's objects are counted, not copied.
	if err := r.List(ctx, &accounts, client.MatchingFields{governingPolicyField: policy.Name}, client.UnsafeDisableDeepCopy); err != nil {
		return ctrl.Result{}, err
	}
	counts := map[v1alpha1.AccountPhase]int32{}
	for i := range accounts.Items {
		phase := accounts.Items[i].Status.Phase
		if phase == "" {
			phase = v1alpha1.PhaseGood
		}
		counts[phase]++
	}
	for _, phase := range []v1alpha1.AccountPhase{v1alpha1.PhaseGood, v1alpha1.PhaseWarned, v1alpha1.PhaseFinalNotice, v1alpha1.PhaseTerminated} {
		metrics.AccountsByPhase.WithLabelValues(policy.Name, string(phase)).Set(float64(counts[phase]))
	}
	policy.Status.Accounts = ptr.To(int32(len(accounts.Items)))
	policy.Status.Phases = v1alpha1.PhaseCounts{
		Good: ptr.To(counts[v1alpha1.PhaseGood]), Warned: ptr.To(counts[v1alpha1.PhaseWarned]),
		FinalNotice: ptr.To(counts[v1alpha1.PhaseFinalNotice]), Terminated: ptr.To(counts[v1alpha1.PhaseTerminated]),
	}
	policy.Status.ObservedGeneration = policy.Generation

	if equality.Semantic.DeepEqual(base.Status, policy.Status) {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, r.Status().Patch(ctx, policy, client.MergeFrom(base))
}

func checkSelector(policy *v1alpha1.AccountPolicy) error {
	if policy.Spec.AccountSelector == nil {
		return nil
	}
	_, err := metav1.LabelSelectorAsSelector(policy.Spec.AccountSelector)
	return err
}

// governingPolicyField indexes accounts by status.policy, so counting a
// policy's accounts reads only those, not every account in the cluster.
const governingPolicyField = "status.policy"

// SetupWithManager watches policies and the accounts whose status names them.
func (r *AccountPolicyReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.CustomerAccount{}, governingPolicyField,
		func(o client.Object) []string {
			if name := o.(*v1alpha1.CustomerAccount).Status.Policy; name != "" {
				return []string{name}
			}
			return nil
		}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.AccountPolicy{}).
		Watches(&v1alpha1.CustomerAccount{}, delayed{inner: handler.EnqueueRequestsFromMapFunc(policiesForAccount), after: countsDelay},
			builder.WithPredicates(countsMayChange())).
		Named("accountpolicy").
		Complete(r)
}

// countsMayChange passes the account events that can change a policy's
// counts: creation, deletion, and a change of phase or policy. Other status
// writes (a score, a message, a notification's progress) are not counted.
func countsMayChange() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*v1alpha1.CustomerAccount)
			n, ok2 := e.ObjectNew.(*v1alpha1.CustomerAccount)
			return !ok1 || !ok2 || o.Status.Phase != n.Status.Phase || o.Status.Policy != n.Status.Policy ||
				o.Spec.PolicyName != n.Spec.PolicyName
		},
	}
}

// policiesForAccount enqueues the policy that governs an account (its
// status) and the one it names, so counts follow phase changes.
func policiesForAccount(_ context.Context, obj client.Object) []reconcile.Request {
	a, ok := obj.(*v1alpha1.CustomerAccount)
	if !ok {
		return nil
	}
	var reqs []reconcile.Request
	for _, name := range []string{a.Status.Policy, a.Spec.PolicyName} {
		if name != "" {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: name}})
		}
	}
	return reqs
}
