package controller

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/metrics"
	"github.com/accountops/account-lifecycle-operator/internal/notify"
	"github.com/accountops/account-lifecycle-operator/internal/text"
)

// Notifications: the outbox and its sinks are internal/notify; the account
// reconciler marks new entries Pending and reports those trimmed from the
// bounded history undelivered, and the notification controller
// (notification_controller.go) runs the outbox.

// notice is an Event to emit once the status write that records it succeeded.
type notice struct {
	eventType, reason, note string
}

// droppedNotices reports deliveries still Pending in entries trimmed from
// history, one per entry and sink.
func droppedNotices(trimmed []v1alpha1.Transition) []notice {
	var out []notice
	for _, t := range trimmed {
		for _, n := range notify.Undelivered(t) {
			out = append(out, notice{corev1.EventTypeWarning, v1alpha1.ReasonNotificationDropped,
				fmt.Sprintf("Notification of %s (event %s) was never delivered to the %s sink and left the bounded history after %d attempt(s); last error: %s",
					describe(&t), n.ID, n.Sink, ptr.Deref(n.Attempts, 0), n.Message)})
		}
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

func describe(t *v1alpha1.Transition) string {
	from := t.From
	if from == "" {
		from = "(new)"
	}
	return fmt.Sprintf("the transition %s → %s at %s", from, t.To, t.At.UTC().Format(time.RFC3339))
}
