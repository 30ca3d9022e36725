package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/metrics"
	"github.com/accountops/account-lifecycle-operator/internal/notify"
	"github.com/accountops/account-lifecycle-operator/internal/resolve"
)

// Delivery runs in its own controller, with its own workers, so that no
// webhook, however slow, holds back enforcement: the account reconciler only
// records Pending entries. A hanging endpoint can hold at most
// perEndpointDeliveries of the notificationWorkers at once, so deliveries to
// other endpoints keep flowing.
const (
	notificationWorkers   = 8
	perEndpointDeliveries = 2
	// endpointBusyRetry is how soon an account whose endpoint had no free
	// slot tries again.
	endpointBusyRetry = 500 * time.Millisecond
)

// NotificationReconciler delivers the Pending entries of accounts' history
// to each sink of their policy and records the outcome in the history entry.
type NotificationReconciler struct {
	client.Client
	Clock    clock.PassiveClock
	Recorder EventRecorder
	// Sinks are where transitions go (notify.Sinks); none leaves pending
	// entries pending.
	Sinks []notify.Sink
	// APIReader reads uncached, to deliver only from a current view of the
	// account; nil trusts the cache.
	APIReader client.Reader

	slots endpointSlots
}

// Reconcile delivers the account's due Pending entries to each sink, oldest
// first per sink, and writes their notification status in one status
// update. Sinks are independent: one whose endpoint is busy or failing
// holds back no other.
func (r *NotificationReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	account := &v1alpha1.CustomerAccount{}
	if err := r.Get(ctx, req.NamespacedName, account); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !notify.HasPending(account) || len(r.Sinks) == 0 {
		return ctrl.Result{}, nil
	}
	res, err := resolve.Policy(ctx, r.Client, account)
	if err != nil || res.Policy == nil {
		// No policy (or the webhook is gone): pending entries wait; a policy
		// change reaches the account reconciler, whose write wakes us.
		return ctrl.Result{}, err
	}

	base := account.DeepCopy()
	now := r.Clock.Now().Truncate(time.Second)
	current := r.currentOnce()
	var retryAt *time.Time
	var notices []notice
	for _, sink := range r.Sinks {
		endpoint := sink.Endpoint(res.Policy)
		if endpoint == "" {
			continue
		}
		release, ok := r.slots.acquire(string(sink.Name()) + " " + endpoint)
		if !ok {
			retryAt = earliest(retryAt, r.Clock.Now().Add(endpointBusyRetry))
			continue
		}
		outbox := notify.Outbox{Sink: sink, Clock: r.Clock, Current: current}
		at, outcomes := outbox.Deliver(ctx, account, res.Policy, now)
		release()
		notices = append(notices, outcomeNotices(ctx, sink.Name(), outcomes)...)
		if at != nil {
			retryAt = earliest(retryAt, *at)
		}
	}
	if !equality.Semantic.DeepEqual(base.Status, account.Status) {
		// resourceVersion guards against a decision written meanwhile.
		if err := r.Status().Update(ctx, account); err != nil {
			if apierrors.IsConflict(err) {
				return ctrl.Result{RequeueAfter: time.Second}, nil
			}
			return ctrl.Result{}, fmt.Errorf("recording notification status: %w", err)
		}
		emitNotices(r.Recorder, account, notices)
	}
	return requeueAt(retryAt, r.Clock.Now()), nil
}

// earliest is the sooner of a (nil: none) and b.
func earliest(a *time.Time, b time.Time) *time.Time {
	if a != nil && a.Before(b) {
		return a
	}
	return &b
}

// currentOnce is isCurrent asked at most once per reconcile, however many
// sinks deliver: the account read does not change between them.
func (r *NotificationReconciler) currentOnce() func(context.Context, *v1alpha1.CustomerAccount) (bool, error) {
	var asked, current bool
	var err error
	return func(ctx context.Context, account *v1alpha1.CustomerAccount) (bool, error) {
		if !asked {
			asked = true
			current, err = r.isCurrent(ctx, account)
		}
		return current, err
	}
}

// outcomeNotices counts and logs each attempt to a sink, and announces the
// first failure of an entry and its delivery after failures.
func outcomeNotices(ctx context.Context, sink v1alpha1.NotificationSink, outcomes []notify.Outcome) []notice {
	logger := log.FromContext(ctx).WithValues("sink", sink)
	var notices []notice
	for _, o := range outcomes {
		n := o.Status
		if o.Err == nil {
			metrics.Notifications.WithLabelValues(metrics.NotificationDelivered).Inc()
			logger.Info("notification delivered", "event", n.ID, "attempts", ptr.Deref(n.Attempts, 0))
			if o.FailedBefore > 0 {
				notices = append(notices, notice{corev1.EventTypeNormal, v1alpha1.ReasonNotificationDelivered,
					fmt.Sprintf("Notification of %s delivered to the %s sink after %d failed attempt(s).", describe(o.Entry), sink, o.FailedBefore)})
			}
			continue
		}
		if n.State == v1alpha1.NotificationAbandoned {
			metrics.Notifications.WithLabelValues(metrics.NotificationAbandoned).Inc()
			logger.Info("notification abandoned", "event", n.ID, "attempts", ptr.Deref(n.Attempts, 0), "error", o.Err.Error())
			notices = append(notices, notice{corev1.EventTypeWarning, v1alpha1.ReasonNotificationAbandoned,
				fmt.Sprintf("Notification of %s to the %s sink abandoned: %s; the endpoint says it is gone for good, so it is not retried", describe(o.Entry), sink, o.Err)})
			continue
		}
		metrics.Notifications.WithLabelValues(metrics.NotificationFailed).Inc()
		logger.Info("notification failed", "event", n.ID, "attempts", ptr.Deref(n.Attempts, 0), "retryAt", n.NextAttempt, "error", o.Err.Error())
		if o.FailedBefore == 0 {
			notices = append(notices, notice{corev1.EventTypeWarning, v1alpha1.ReasonNotificationFailed,
				fmt.Sprintf("Notification of %s not delivered to the %s sink (retrying with backoff): %s", describe(o.Entry), sink, o.Err)})
		}
	}
	return notices
}

// isCurrent reports whether the account read from the cache is the one on
// the API server (same resourceVersion), reading it uncached.
func (r *NotificationReconciler) isCurrent(ctx context.Context, account *v1alpha1.CustomerAccount) (bool, error) {
	if r.APIReader == nil {
		return true, nil
	}
	live := &metav1.PartialObjectMetadata{}
	live.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("CustomerAccount"))
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(account), live); err != nil {
		return false, err
	}
	return live.ResourceVersion == account.ResourceVersion, nil
}

// SetupWithManager watches accounts whose history has a Pending entry.
func (r *NotificationReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Clock == nil {
		return errors.New("notification controller: no clock")
	}
	pending := predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return notify.HasPending(e.Object.(*v1alpha1.CustomerAccount)) },
		UpdateFunc:  func(e event.UpdateEvent) bool { return notify.HasPending(e.ObjectNew.(*v1alpha1.CustomerAccount)) },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.CustomerAccount{}, builder.WithPredicates(pending)).
		Named("notification").
		WithOptions(controller.Options{MaxConcurrentReconciles: notificationWorkers}).
		Complete(r)
}

// endpointSlots bounds the deliveries in flight to one sink's endpoint.
type endpointSlots struct {
	mu       sync.Mutex
	inFlight map[string]int
}

// acquire takes a slot for an endpoint if one is free; release gives it
// back.
func (s *endpointSlots) acquire(url string) (release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inFlight == nil {
		s.inFlight = map[string]int{}
	}
	if s.inFlight[url] >= perEndpointDeliveries {
		return nil, false
	}
	s.inFlight[url]++
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.inFlight[url]--; s.inFlight[url] == 0 {
			delete(s.inFlight, url)
		}
	}, true
}
