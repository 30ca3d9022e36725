// Package controller holds the reconcilers. They gather inputs, let the
// lifecycle engine decide, let the enforcer act, and record the outcome.
package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/enforcement"
	"github.com/accountops/account-lifecycle-operator/internal/lifecycle"
	"github.com/accountops/account-lifecycle-operator/internal/metrics"
	"github.com/accountops/account-lifecycle-operator/internal/resolve"
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
// one status write (none when nothing changed).
func (r *CustomerAccountReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	logger := log.FromContext(ctx)
	// Whole seconds: status times serialize to seconds, and evaluating on the
	// same grid keeps stored phaseSince and the engine's view identical.
	now := r.Clock.Now().Truncate(time.Second)

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

	base := account.DeepCopy()
	// A transition is announced only once it is recorded: a decision made on
	// a stale read fails its update and must not be announced twice. The
	// newest recorded one is announced even when nothing changed, in case
	// the manager that recorded it died before announcing it.
	var transition *lifecycle.Transition
	var policy *v1alpha1.AccountPolicy
	var notices []notice
	// worldChanged: enforcement changed a namespace. Its outcome is then
	// written even when the status looks the same: the account read may be
	// a stale cache that lacks the last status written, and only a write
	// (refused as a conflict, then decided again on fresh data) tells. Not
	// writing would leave that last status claiming what is no longer so,
	// with no event left to correct it.
	worldChanged := false
	defer func() {
		if equality.Semantic.DeepEqual(base.Status, account.Status) && !worldChanged {
			if policy != nil {
				r.announcer.announceAll(ctx, r.Client, account, policy, now)
			}
			return
		}
		// A full update, not a merge patch: zero values (score 0) must be
		// written too, and resourceVersion guards against stale decisions.
		if err := r.Status().Update(ctx, account); err != nil {
			if apierrors.IsConflict(err) {
				// Someone wrote meanwhile: decide again on fresh data.
				result = ctrl.Result{RequeueAfter: time.Second}
				return
			}
			retErr = errors.Join(retErr, fmt.Errorf("updating status: %w", err))
			return
		}
		if transition != nil {
			metrics.Transitions.WithLabelValues(string(transition.From), string(transition.To)).Inc()
		}
		if policy != nil {
			r.announcer.announceAll(ctx, r.Client, account, policy, now)
		}
		emitNotices(r.Recorder, account, notices)
	}()

	resolution, err := resolve.Policy(ctx, r.Client, account)
	if err != nil {
		return ctrl.Result{}, err
	}
	if resolution.Policy == nil {
		// Frozen where it is: no policy, no evaluation, nothing enforced or
		// restored because of it.
		setReady(&account.Status, false, resolution.Reason, resolution.Message)
		account.Status.Policy = ""
		logger.Info("account not evaluated", "reason", resolution.Reason, "message", resolution.Message)
		// Still say what is in force, so a namespace restricted before
		// (by this account or one it left) is not silently left so.
		res, err := r.Enforcer.Inspect(ctx, account, "the account is not evaluated ("+resolution.Reason+"): nothing is enforced or lifted until a policy governs it")
		worldChanged = res.Changed
		r.emitEnforcementEvents(account, res.Events)
		notices = append(notices, orphanNotices(recordEnforcement(&account.Status, res, false, ""))...)
		return ctrl.Result{}, err
	}
	policy = resolution.Policy

	recovered, err := r.recoverState(ctx, account, now)
	if err != nil {
		return ctrl.Result{}, err
	}
	if recovered != "" {
		markPending(account, policy, &account.Status.History[0])
	}
	decision := lifecycle.Evaluate(account, policy, now)
	specChanged := account.Status.ObservedGeneration != account.Generation
	trimmed := recordDecision(&account.Status, policy, decision, now)
	transition = decision.Transition
	notices = append(notices, droppedNotices(trimmed)...)
	if specChanged {
		// Announced once per spec change (the Ready message keeps saying it).
		for _, why := range decision.Ignored {
			notices = append(notices, notice{corev1.EventTypeWarning, ReasonDecisionIgnored, "A recorded decision has no effect: " + why + "."})
		}
	}
	// Only entries already persisted are delivered, by the notification
	// controller, which the status write wakes: enforcement never waits on
	// a webhook.
	if transition != nil {
		markPending(account, policy, &account.Status.History[0])
	}

	dryRun, dryRunReason := policy.Spec.DryRun, dryRunPolicy
	if account.Labels[v1alpha1.LabelExempt] == "true" {
		dryRun, dryRunReason = true, dryRunExempt
	}
	res, enforceErr := r.Enforcer.Enforce(ctx, enforcement.Request{
		Account:      account,
		Phase:        decision.Phase,
		Actions:      actionsFor(policy, decision.Phase),
		DryRun:       dryRun,
		DryRunReason: dryRunReason,
	})
	worldChanged = res.Changed
	notices = append(notices, orphanNotices(recordEnforcement(&account.Status, res, dryRun, dryRunReason))...)
	r.emitEnforcementEvents(account, res.Events)
	if enforceErr != nil {
		metrics.EnforcementErrors.Inc()
		setReady(&account.Status, false, v1alpha1.ReasonEnforcementFailed, enforceErr.Error())
		return ctrl.Result{}, enforceErr
	}

	setReady(&account.Status, true, v1alpha1.ReasonEvaluated, strings.TrimSpace(recovered+" "+decision.Explanation))
	account.Status.ObservedGeneration = account.Generation
	next := decision.NextEvaluation
	if res.Restricted {
		// Pods are not watched for drift (drift.go): look again now and then.
		recheck := now.Add(driftRecheck)
		if next == nil || recheck.Before(*next) {
			next = &recheck
		}
	}
	return requeueAt(next, r.Clock.Now()), nil
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
	if prev := meta.FindStatusCondition(base.Status.Conditions, v1alpha1.ConditionReady); prev == nil || prev.Message != truncate(msg, 32768) {
		r.Recorder.Eventf(account, nil, corev1.EventTypeWarning, v1alpha1.ReasonDeletionBlocked, "Release", "%s", truncate(msg, 1024))
	}
}

// orphanNotices are the Warnings for newly seen orphaned records.
func orphanNotices(orphans []string) []notice {
	out := make([]notice, len(orphans))
	for i, o := range orphans {
		out[i] = notice{corev1.EventTypeWarning, enforcement.ReasonOrphanedRecords, o}
	}
	return out
}

// finalize restores every namespace before letting the account go.
func (r *CustomerAccountReconciler) finalize(ctx context.Context, account *v1alpha1.CustomerAccount) error {
	if !controllerutil.ContainsFinalizer(account, v1alpha1.Finalizer) {
		return nil
	}
	res, err := r.Enforcer.Release(ctx, account)
	r.emitEnforcementEvents(account, res.Events)
	for _, o := range res.Orphans {
		// Orphans never block deletion: there is nothing to restore them into.
		r.Recorder.Eventf(account, nil, corev1.EventTypeWarning, enforcement.ReasonOrphanedRecords, "Release", "%s", truncate(o, 1024))
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

// actionsFor returns the actions the policy puts in force in a phase.
func actionsFor(policy *v1alpha1.AccountPolicy, phase v1alpha1.AccountPhase) []v1alpha1.EnforcementAction {
	switch phase {
	case v1alpha1.PhaseWarned:
		return policy.Spec.Enforcement.Warned
	case v1alpha1.PhaseFinalNotice:
		return policy.Spec.Enforcement.FinalNotice
	case v1alpha1.PhaseTerminated:
		return policy.Spec.Enforcement.Terminated
	default:
		return nil
	}
}

// requeueAt asks to be woken exactly when the outcome can next change.
func requeueAt(next *time.Time, now time.Time) ctrl.Result {
	if next == nil {
		return ctrl.Result{}
	}
	// Rounded up to the second: the reconciler evaluates on whole seconds.
	after := ceilSecond(*next).Sub(now)
	if after <= 0 {
		after = time.Millisecond
	}
	return ctrl.Result{RequeueAfter: after}
}

func (r *CustomerAccountReconciler) emitEnforcementEvents(account *v1alpha1.CustomerAccount, events []enforcement.Event) {
	for _, e := range events {
		ns := &corev1.Namespace{}
		ns.Name = e.Namespace
		ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
		r.Recorder.Eventf(account, ns, e.Type, e.Reason, "Enforce", "%s", truncate(e.Message, 1024))
	}
}
