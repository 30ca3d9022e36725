package controller

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/metrics"
	"github.com/accountops/account-lifecycle-operator/internal/notify"
)

// Webhook notifications. status.history is the outbox: a new entry gets
// notification.state Pending when its policy has a webhook, the status write
// makes it durable, and later reconciles deliver the persisted Pending
// entries, oldest first, until the webhook acknowledges them. Nothing is
// held in memory, so restarts lose nothing.

// Reasons of notification Events.
const (
	ReasonNotificationFailed    = "NotificationFailed"
	ReasonNotificationDelivered = "NotificationDelivered"
	ReasonNotificationDropped   = "NotificationDropped"
)

// Retry backoff: retryBase after the first failure, doubling, capped.
const (
	retryBase = time.Second
	retryCap  = 10 * time.Minute
)

// notice is an Event to emit once the status write that records it succeeded.
type notice struct {
	eventType, reason, note string
}

// markPending marks a newly recorded history entry for delivery when the
// policy has a webhook. The CloudEvent id is fixed now, so every retry of the
// transition, by any manager, carries the same id.
func markPending(account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, entry *v1alpha1.Transition) {
	if policy.Spec.Notifications.Webhook == nil {
		return
	}
	entry.Notification = &v1alpha1.NotificationStatus{
		State: v1alpha1.NotificationPending,
		ID:    notify.EventID(account.UID, *entry),
	}
}

// deliverNotifications delivers the due Pending entries of persisted (a
// newest-first slice of account.Status.History holding only entries read
// from the API server), oldest first, updating their notification status in
// place. Delivery is in order: an entry waits behind an older undelivered
// one, and the first failure ends the round (the endpoint is probably down;
// the rest would only wait for their timeouts). It returns when to try
// again (nil: nothing pending) and the Events to emit.
func (r *CustomerAccountReconciler) deliverNotifications(ctx context.Context, account *v1alpha1.CustomerAccount,
	policy *v1alpha1.AccountPolicy, persisted []v1alpha1.Transition, now time.Time) (*time.Time, []notice) {
	if r.Notifier == nil || policy.Spec.Notifications.Webhook == nil {
		// Pending entries stay pending until a webhook is configured again.
		return nil, nil
	}
	var notices []notice
	checked := false
	for i := len(persisted) - 1; i >= 0; i-- {
		entry := &persisted[i]
		n := entry.Notification
		if n == nil || n.State != v1alpha1.NotificationPending {
			continue
		}
		if n.NextAttempt != nil && n.NextAttempt.After(now) {
			next := n.NextAttempt.Time
			return &next, notices
		}
		if !checked {
			// The cached account may predate our own last status write (the
			// one recording a delivery or a failed attempt): acting on it
			// would send again. Deliver only from a current view.
			current, err := r.isCurrent(ctx, account)
			if err != nil || !current {
				soon := now
				return &soon, notices
			}
			checked = true
		}
		err := r.Notifier.Deliver(ctx, account, policy, *entry)
		failedBefore := n.Attempts
		n.Attempts++
		at := metav1.NewTime(now)
		n.LastAttempt = &at
		if err == nil {
			metrics.Notifications.WithLabelValues(metrics.NotificationDelivered).Inc()
			if failedBefore > 0 {
				notices = append(notices, notice{corev1.EventTypeNormal, ReasonNotificationDelivered,
					fmt.Sprintf("Notification of %s delivered to the webhook after %d failed attempt(s).", describe(entry), failedBefore)})
			}
			n.State = v1alpha1.NotificationDelivered
			n.NextAttempt = nil
			n.Message = ""
			continue
		}
		metrics.Notifications.WithLabelValues(metrics.NotificationFailed).Inc()
		// From the real clock, rounded up to the whole second status keeps:
		// the retry never comes earlier than the backoff.
		next := ceilSecond(r.Clock.Now().Add(retryDelay(n.Attempts)))
		n.NextAttempt = &metav1.Time{Time: next}
		n.Message = truncate(err.Error(), 1024)
		log.FromContext(ctx).Info("webhook delivery failed", "event", n.ID, "attempts", n.Attempts, "retryAt", next, "error", err.Error())
		if n.Attempts == 1 {
			notices = append(notices, notice{corev1.EventTypeWarning, ReasonNotificationFailed,
				fmt.Sprintf("Notification of %s not delivered (retrying with backoff): %s", describe(entry), err)})
		}
		return &next, notices
	}
	return nil, notices
}

// isCurrent reports whether the account read from the cache is the one on
// the API server (same resourceVersion), reading it uncached.
func (r *CustomerAccountReconciler) isCurrent(ctx context.Context, account *v1alpha1.CustomerAccount) (bool, error) {
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

// droppedNotices reports Pending entries trimmed from history undelivered.
func droppedNotices(trimmed []v1alpha1.Transition) []notice {
	var out []notice
	for i := range trimmed {
		n := trimmed[i].Notification
		if n == nil || n.State != v1alpha1.NotificationPending {
			continue
		}
		out = append(out, notice{corev1.EventTypeWarning, ReasonNotificationDropped,
			fmt.Sprintf("Notification of %s (event %s) was never delivered and left the bounded history after %d attempt(s); last error: %s",
				describe(&trimmed[i]), n.ID, n.Attempts, n.Message)})
	}
	return out
}

// emitNotices emits notification Events (after the status write).
func (r *CustomerAccountReconciler) emitNotices(account *v1alpha1.CustomerAccount, notices []notice) {
	for _, n := range notices {
		if n.reason == ReasonNotificationDropped {
			metrics.Notifications.WithLabelValues(metrics.NotificationDropped).Inc()
		}
		r.Recorder.Eventf(account, nil, n.eventType, n.reason, "Notify", "%s", truncate(n.note, 1024))
	}
}

// retryDelay is the backoff after the given number of failed attempts.
func retryDelay(attempts int32) time.Duration {
	d := retryBase
	for i := int32(1); i < attempts && d < retryCap; i++ {
		d *= 2
	}
	return min(d, retryCap)
}

func describe(t *v1alpha1.Transition) string {
	from := t.From
	if from == "" {
		from = "(new)"
	}
	return fmt.Sprintf("the transition %s → %s at %s", from, t.To, t.At.UTC().Format(time.RFC3339))
}

// earliest is the earlier of two optional moments.
func earliest(a, b *time.Time) *time.Time {
	switch {
	case a == nil:
		return b
	case b == nil || a.Before(*b):
		return a
	default:
		return b
	}
}
