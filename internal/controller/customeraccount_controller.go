// Package controller holds the reconcilers. They gather inputs, let the
// lifecycle engine decide, let the enforcer act, and record the outcome.
package controller

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/enforcement"
	"github.com/accountops/account-lifecycle-operator/internal/metrics"
	"github.com/accountops/account-lifecycle-operator/internal/text"
)

// Values of enforcement.Request.DryRunReason.
const (
	dryRunPolicy = "dry run"
	dryRunExempt = "exempt"
)

// CustomerAccountReconciler moves accounts through their lifecycle.
type CustomerAccountReconciler struct {
	client.Client
	Clock    clock.PassiveClock
	Recorder EventRecorder
	Enforcer *enforcement.Enforcer
	// Workers is how many accounts are reconciled at once (0: the default).
	Workers int

	announcer announcer
}

// +kubebuilder:rbac:groups=accounts.lifecycle.dev,resources=customeraccounts,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=accounts.lifecycle.dev,resources=customeraccounts/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=accounts.lifecycle.dev,resources=customeraccounts/finalizers,verbs=update
// +kubebuilder:rbac:groups=accounts.lifecycle.dev,resources=accountpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile gathers the account and its policy, decides with the lifecycle
// engine, enforces the outcome on the tenant namespaces and records it in
// one status write (none when nothing changed). It runs the named steps of
// accountSteps over one scope; the deferred record step writes the status
// and then announces, whatever step ended the run.
func (r *CustomerAccountReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	account := &v1alpha1.CustomerAccount{}
	if err := r.Get(ctx, req.NamespacedName, account); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !account.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, account)
	}
	if !controllerutil.ContainsFinalizer(account, v1alpha1.Finalizer) {
		// Added before anything is enforced, so nothing is ever left
		// restricted by an account that disappears.
		patch := client.MergeFromWithOptions(account.DeepCopy(), client.MergeFromWithOptimisticLock{})
		controllerutil.AddFinalizer(account, v1alpha1.Finalizer)
		if err := r.Patch(ctx, account, patch); err != nil {
			return ctrl.Result{}, err
		}
	}

	s := newAccountScope(account, r.Clock.Now())
	defer func() { result, retErr = r.record(ctx, s, result, retErr) }()
	for _, step := range r.accountSteps() {
		done, err := step.run(ctx, s)
		if err != nil || done {
			return ctrl.Result{}, err
		}
	}
	return requeueAt(s.next, r.Clock.Now()), nil
}

// reportDeletionBlocked says why the account's deletion waits: Ready=False
// DeletionBlocked and what is in force in status, announced once per new
// reason as a Warning Event.
func (r *CustomerAccountReconciler) reportDeletionBlocked(ctx context.Context, account *v1alpha1.CustomerAccount, res enforcement.Result, cause error) {
	base := account.DeepCopy()
	msg := "the account is being deleted, but its namespaces could not all be restored, so its finalizer stays until they are: " + cause.Error()
	setReady(&account.Status, false, v1alpha1.ReasonDeletionBlocked, msg)
	recordEnforcement(&account.Status, res, false, "")
	if equality.Semantic.DeepEqual(base.Status, account.Status) {
		return
	}
	if err := r.Status().Update(ctx, account); err != nil {
		log.FromContext(ctx).Error(err, "recording that deletion is blocked")
		return
	}
	if prev := meta.FindStatusCondition(base.Status.Conditions, v1alpha1.ConditionReady); prev == nil || prev.Message != text.Truncate(msg, 32768) {
		r.Recorder.Eventf(account, nil, corev1.EventTypeWarning, v1alpha1.ReasonDeletionBlocked, "Release", "%s", text.Truncate(msg, 1024))
	}
}

// discardNotices announce the records discarded because their namespace
// was deleted.
func discardNotices(discarded []string) []notice {
	out := make([]notice, len(discarded))
	for i, d := range discarded {
		out[i] = notice{corev1.EventTypeNormal, v1alpha1.ReasonRecordsDiscarded, d}
	}
	return out
}

// finalize restores every namespace before letting the account go.
func (r *CustomerAccountReconciler) finalize(ctx context.Context, account *v1alpha1.CustomerAccount) error {
	if !controllerutil.ContainsFinalizer(account, v1alpha1.Finalizer) {
		return nil
	}
	res, err := r.Enforcer.Release(ctx, account)
	r.emitEnforcementEvents(ctx, account, res.Events)
	for _, d := range res.Discarded {
		r.Recorder.Eventf(account, nil, corev1.EventTypeNormal, v1alpha1.ReasonRecordsDiscarded, "Release", "%s", text.Truncate(d, 1024))
	}
	if err != nil {
		metrics.EnforcementErrors.Inc()
		err = fmt.Errorf("restoring namespaces before deletion: %w", err)
		r.reportDeletionBlocked(ctx, account, res, err)
		return err
	}
	patch := client.MergeFrom(account.DeepCopy())
	controllerutil.RemoveFinalizer(account, v1alpha1.Finalizer)
	return client.IgnoreNotFound(r.Patch(ctx, account, patch))
}

// requeueAt asks to be woken exactly when the outcome can next change.
func requeueAt(next *time.Time, now time.Time) ctrl.Result {
	if next == nil {
		return ctrl.Result{}
	}
	// Rounded up to the second: the reconciler evaluates on whole seconds.
	after := v1alpha1.CeilSecond(*next).Sub(now)
	if after <= 0 {
		after = time.Millisecond
	}
	return ctrl.Result{RequeueAfter: after}
}

func (r *CustomerAccountReconciler) emitEnforcementEvents(ctx context.Context, account *v1alpha1.CustomerAccount, events []enforcement.Event) {
	logger := log.FromContext(ctx)
	for _, e := range events {
		logger.Info("enforcement", "namespace", e.Namespace, "type", e.Type, "reason", e.Reason, "message", e.Message)
		ns := &corev1.Namespace{}
		ns.Name = e.Namespace
		ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
		r.Recorder.Eventf(account, ns, e.Type, e.Reason, "Enforce", "%s", text.Truncate(e.Message, 1024))
	}
}
