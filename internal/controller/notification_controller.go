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
// to their policy's webhook and records the outcome in the history entry.
type NotificationReconciler struct {
	client.Client
	Clock    clock.PassiveClock
	Recorder EventRecorder
	Notifier *notify.Notifier
	// APIReader reads uncached, to deliver only from a current view of the
	// account; nil trusts the cache.
	APIReader client.Reader

	slots endpointSlots
}

// Reconcile delivers the account's due Pending entries, oldest first, and
// writes their notification status in one status update.
func (r *NotificationReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	account := &v1alpha1.CustomerAccount{}
	if err := r.Get(ctx, req.NamespacedName, account); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !notify.HasPending(account) || r.Notifier == nil {
		return ctrl.Result{}, nil
	}
	res, err := resolve.Policy(ctx, r.Client, account)
	if err != nil || res.Policy == nil {
		// No policy (or the webhook is gone): pending entries wait; a policy
		// change reaches the account reconciler, whose write wakes us.
		return ctrl.Result{}, err
	}
	endpoint := r.Notifier.Endpoint(res.Policy)
	if endpoint == "" {
		return ctrl.Result{}, nil
	}
	release, ok := r.slots.acquire(endpoint)
	if !ok {
		return ctrl.Result{RequeueAfter: endpointBusyRetry}, nil
	}
	defer release()

	base := account.DeepCopy()
	outbox := notify.Outbox{Sink: r.Notifier, Clock: r.Clock, Current: r.isCurrent}
	retryAt, outcomes := outbox.Deliver(ctx, account, res.Policy, r.Clock.Now().Truncate(time.Second))
	notices := outcomeNotices(ctx, outcomes)
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

// outcomeNotices counts and logs each attempt, and announces the first
// failure of an entry and its delivery after failures.
func outcomeNotices(ctx context.Context, outcomes []notify.Outcome) []notice {
	logger := log.FromContext(ctx)
	var notices []notice
	for _, o := range outcomes {
		n := o.Entry.Notification
		if o.Err == nil {
			metrics.Notifications.WithLabelValues(metrics.NotificationDelivered).Inc()
			logger.Info("webhook delivery succeeded", "event", n.ID, "attempts", n.Attempts)
			if o.FailedBefore > 0 {
				notices = append(notices, notice{corev1.EventTypeNormal, v1alpha1.ReasonNotificationDelivered,
					fmt.Sprintf("Notification of %s delivered to the webhook after %d failed attempt(s).", describe(o.Entry), o.FailedBefore)})
			}
			continue
		}
		if n.State == v1alpha1.NotificationAbandoned {
			metrics.Notifications.WithLabelValues(metrics.NotificationAbandoned).Inc()
			logger.Info("webhook delivery abandoned", "event", n.ID, "attempts", n.Attempts, "error", o.Err.Error())
			notices = append(notices, notice{corev1.EventTypeWarning, v1alpha1.ReasonNotificationAbandoned,
				fmt.Sprintf("Notification of %s abandoned: %s; the endpoint says it is gone for good, so it is not retried", describe(o.Entry), o.Err)})
			continue
		}
		metrics.Notifications.WithLabelValues(metrics.NotificationFailed).Inc()
		logger.Info("webhook delivery failed", "event", n.ID, "attempts", n.Attempts, "retryAt", n.NextAttempt, "error", o.Err.Error())
		if o.FailedBefore == 0 {
			notices = append(notices, notice{corev1.EventTypeWarning, v1alpha1.ReasonNotificationFailed,
				fmt.Sprintf("Notification of %s not delivered (retrying with backoff): %s", describe(o.Entry), o.Err)})
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

// endpointSlots bounds the deliveries in flight to one webhook URL.
type endpointSlots struct {
	mu       sync.Mutex
	inFlight map[string]int
}

// acquire takes a slot for url if one is free; release gives it back.
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
