package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/enforcement"
	"github.com/accountops/account-lifecycle-operator/internal/lifecycle"
	"github.com/accountops/account-lifecycle-operator/internal/metrics"
	"github.com/accountops/account-lifecycle-operator/internal/notify"
	"github.com/accountops/account-lifecycle-operator/internal/resolve"
)

// accountScope is one reconcile of one account: what its steps read and
// decide, and what the deferred record step writes and announces.
type accountScope struct {
	// now is the reconcile's moment, in whole seconds: status times
	// serialize to seconds, and evaluating on the same grid keeps the stored
	// phaseSince and the engine's view identical.
	now     time.Time
	account *v1alpha1.CustomerAccount
	// base is the account as read: its status is written only if it differs.
	base   *v1alpha1.CustomerAccount
	policy *v1alpha1.AccountPolicy
	// recovered is the note of a phase recovered from the world, if any.
	recovered string
	decision  lifecycle.Decision
	// transition is announced only once it is recorded: a decision made on
	// a stale read fails its update and must not be announced twice.
	transition *lifecycle.Transition
	notices    []notice
	// worldChanged: enforcement changed a namespace. Its outcome is then
	// written even when the status looks the same: the account read may be
	// a stale cache lacking the last status written, and only a write
	// (refused as a conflict, then decided again on fresh data) tells. Not
	// writing would leave that last status claiming what is no longer so,
	// with no event left to correct it.
	worldChanged bool
	// next is when the outcome can next change, for the requeue.
	next *time.Time
}

func newAccountScope(account *v1alpha1.CustomerAccount, now time.Time) *accountScope {
	return &accountScope{now: now.Truncate(time.Second), account: account, base: account.DeepCopy()}
}

// accountStep is one named step of a reconcile; done ends the run early
// (the account is not evaluated), an error ends it failed.
type accountStep struct {
	name string
	run  func(ctx context.Context, s *accountScope) (done bool, err error)
}

// accountSteps are the steps of a reconcile, in order. Notification is
// not among them: entries already persisted are delivered by the
// notification controller, which the status write wakes, so enforcement
// never waits on a webhook.
func (r *CustomerAccountReconciler) accountSteps() []accountStep {
	return []accountStep{
		{"resolve policy", r.resolvePolicy},
		{"recover phase", r.recoverPhase},
		{"decide", r.decide},
		{"enforce", r.enforce},
		{"mark evaluated", r.markEvaluated},
	}
}

// resolvePolicy finds the account's policy. Without one the account is
// frozen where it is: no evaluation, nothing enforced or restored because
// of it, but what is in force in its namespaces is still reported, so a
// namespace restricted before (by this account or one it left) is not
// silently left so.
func (r *CustomerAccountReconciler) resolvePolicy(ctx context.Context, s *accountScope) (bool, error) {
	resolution, err := resolve.Policy(ctx, r.Client, s.account)
	if err != nil {
		return true, err
	}
	if s.policy = resolution.Policy; s.policy != nil {
		return false, nil
	}
	setReady(&s.account.Status, false, resolution.Reason, resolution.Message)
	s.account.Status.Policy = ""
	log.FromContext(ctx).Info("account not evaluated", "reason", resolution.Reason, "message", resolution.Message)
	res, err := r.Enforcer.Inspect(ctx, s.account, "the account is not evaluated ("+resolution.Reason+"): nothing is enforced or lifted until a policy governs it")
	s.worldChanged = res.Changed
	r.emitEnforcementEvents(ctx, s.account, res.Events)
	recordEnforcement(&s.account.Status, res, false, "")
	s.notices = append(s.notices, discardNotices(res.Discarded)...)
	return true, err
}

// recoverPhase fills a status that lost its phase from the world (see
// recoverState); the recovered entry is announced like a transition.
func (r *CustomerAccountReconciler) recoverPhase(ctx context.Context, s *accountScope) (bool, error) {
	entry, note, err := r.recoverState(ctx, s.account, s.now)
	if err != nil || entry == nil {
		return false, err
	}
	s.recovered = note
	notify.MarkPending(s.account, s.policy, entry)
	return false, nil
}

// decide lets the engine decide and records the decision in status.
func (r *CustomerAccountReconciler) decide(_ context.Context, s *accountScope) (bool, error) {
	s.decision = lifecycle.Evaluate(s.account, s.policy, s.now)
	specChanged := s.account.Status.ObservedGeneration != s.account.Generation
	added, trimmed := recordDecision(&s.account.Status, s.policy, s.decision, s.now)
	s.transition = s.decision.Transition
	s.notices = append(s.notices, droppedNotices(trimmed)...)
	if specChanged {
		// Announced once per spec change (the Ready message keeps saying it).
		for _, why := range s.decision.Ignored {
			s.notices = append(s.notices, notice{corev1.EventTypeWarning, v1alpha1.ReasonDecisionIgnored, "A recorded decision has no effect: " + why + "."})
		}
	}
	if added != nil {
		notify.MarkPending(s.account, s.policy, added)
	}
	return false, nil
}

// enforce brings the tenant namespaces to the decided phase's actions (or
// reports what would be in force, in dry run or for an exempt account).
func (r *CustomerAccountReconciler) enforce(ctx context.Context, s *accountScope) (bool, error) {
	dryRun, dryRunReason := s.policy.Spec.DryRun(), dryRunPolicy
	if s.account.Labels[v1alpha1.LabelExempt] == "true" {
		dryRun, dryRunReason = true, dryRunExempt
	}
	res, err := r.Enforcer.Enforce(ctx, enforcement.Request{
		Account:      s.account,
		Phase:        s.decision.Phase,
		Actions:      s.policy.Spec.Enforcement.For(s.decision.Phase),
		DryRun:       dryRun,
		DryRunReason: dryRunReason,
	})
	s.worldChanged = res.Changed
	recordEnforcement(&s.account.Status, res, dryRun, dryRunReason)
	s.notices = append(s.notices, discardNotices(res.Discarded)...)
	r.emitEnforcementEvents(ctx, s.account, res.Events)
	if err != nil {
		metrics.EnforcementErrors.Inc()
		setReady(&s.account.Status, false, v1alpha1.ReasonEnforcementFailed, err.Error())
		return true, err
	}
	s.next = s.decision.NextEvaluation
	if res.Restricted {
		// Pods are not watched for drift (drift.go): look again now and then.
		recheck := s.now.Add(driftRecheck)
		if s.next == nil || recheck.Before(*s.next) {
			s.next = &recheck
		}
	}
	return false, nil
}

// markEvaluated says the current generation was evaluated and enforced.
func (r *CustomerAccountReconciler) markEvaluated(_ context.Context, s *accountScope) (bool, error) {
	setReady(&s.account.Status, true, v1alpha1.ReasonEvaluated, strings.TrimSpace(s.recovered+" "+s.decision.Explanation))
	s.account.Status.ObservedGeneration = s.account.Generation
	return false, nil
}

// record is the deferred last step: one status write (none when nothing
// changed), then the announcements of what it recorded. The newest
// recorded transition is announced even when nothing changed, in case the
// manager that recorded it died before announcing it.
func (r *CustomerAccountReconciler) record(ctx context.Context, s *accountScope, result ctrl.Result, err error) (ctrl.Result, error) {
	announce := func() {
		if s.policy != nil {
			r.announcer.announceAll(ctx, r.Client, s.account, s.policy, s.now)
		}
	}
	if equality.Semantic.DeepEqual(s.base.Status, s.account.Status) && !s.worldChanged {
		announce()
		return result, err
	}
	// A full update, not a merge patch: zero values (score 0) must be
	// written too, and resourceVersion guards against stale decisions.
	if uerr := r.Status().Update(ctx, s.account); uerr != nil {
		if apierrors.IsConflict(uerr) {
			// Someone wrote meanwhile: decide again on fresh data.
			return ctrl.Result{RequeueAfter: time.Second}, err
		}
		return result, errors.Join(err, fmt.Errorf("updating status: %w", uerr))
	}
	if t := s.transition; t != nil {
		metrics.Transitions.WithLabelValues(string(t.From), string(t.To)).Inc()
	}
	logRecorded(ctx, s)
	announce()
	emitNotices(r.Recorder, s.account, s.notices)
	return result, err
}

// logRecorded tells the operator's operator what this reconcile recorded:
// a transition, a termination approval first seen, a hold taking or
// ending its effect. One line each; a settled account logs nothing.
func logRecorded(ctx context.Context, s *accountScope) {
	logger := log.FromContext(ctx)
	st, old := &s.account.Status, &s.base.Status
	if t := s.transition; t != nil {
		logger.Info("transition recorded", "from", t.From, "to", t.To, "reason", t.Reason, "score", ptr.Deref(st.Score, 0))
	}
	for _, o := range st.ApprovalObservations {
		if !slices.ContainsFunc(old.ApprovalObservations, func(p v1alpha1.ApprovalObservation) bool { return equality.Semantic.DeepEqual(o, p) }) {
			logger.Info("termination approval seen", "by", o.By, "at", o.At.Time, "phase", o.Phase)
		}
	}
	was, now := meta.IsStatusConditionTrue(old.Conditions, v1alpha1.ConditionHeld), meta.IsStatusConditionTrue(st.Conditions, v1alpha1.ConditionHeld)
	switch h := s.account.Spec.Hold; {
	case now && !was && h.IsDefined():
		logger.Info("hold in effect", "by", h.By, "until", h.Until.Time, "reason", h.Reason)
	case was && !now:
		logger.Info("hold ended")
	}
}
