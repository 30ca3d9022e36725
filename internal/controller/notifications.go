package controller

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/metrics"
	"github.com/accountops/account-lifecycle-operator/internal/notify"
	"github.com/accountops/account-lifecycle-operator/internal/text"
)

// Webhook notifications. status.history is the outbox: a new entry gets
// notification.state Pending when its policy has a webhook, the account
// reconciler's status write makes it durable, and the notification
// controller (notification_controller.go) delivers the persisted Pending
// entries, oldest first, until the webhook acknowledges them. Nothing is
// held in memory, so restarts lose nothing, and enforcement never waits on
// a webhook.

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

// droppedNotices reports Pending entries trimmed from history undelivered.
func droppedNotices(trimmed []v1alpha1.Transition) []notice {
	var out []notice
	for i := range trimmed {
		n := trimmed[i].Notification
		if n == nil || n.State != v1alpha1.NotificationPending {
			continue
		}
		out = append(out, notice{corev1.EventTypeWarning, v1alpha1.ReasonNotificationDropped,
			fmt.Sprintf("Notification of %s (event %s) was never delivered and left the bounded history after %d attempt(s); last error: %s",
				describe(&trimmed[i]), n.ID, n.Attempts, n.Message)})
	}
	return out
}

// emitNotices emits notification Events (after the status write).
func emitNotices(rec EventRecorder, account *v1alpha1.CustomerAccount, notices []notice) {
	for _, n := range notices {
		if n.reason == v1alpha1.ReasonNotificationDropped {
			metrics.Notifications.WithLabelValues(metrics.NotificationDropped).Inc()
		}
		rec.Eventf(account, nil, n.eventType, n.reason, "Notify", "%s", text.Truncate(n.note, 1024))
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
