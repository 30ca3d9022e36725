package controller

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/lifecycle"
)

// Trimming the bounded history reports a Pending entry as dropped, and
// only a Pending one.
func TestTrimmedPendingEntryIsDropped(t *testing.T) {
	g := NewWithT(t)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	status := &v1alpha1.CustomerAccountStatus{}
	for i := range maxHistory {
		e := v1alpha1.Transition{From: v1alpha1.PhaseGood, To: v1alpha1.PhaseWarned, Reason: "Escalated",
			At: metav1.NewTime(now.Add(-time.Duration(i+1) * time.Hour))}
		if i == maxHistory-1 {
			e.Notifications = []v1alpha1.NotificationStatus{{Sink: v1alpha1.SinkWebhook, State: v1alpha1.NotificationPending, ID: "oldest", Attempts: ptr.To[int32](7), Message: "HTTP 503"}}
		} else {
			e.Notifications = []v1alpha1.NotificationStatus{{Sink: v1alpha1.SinkWebhook, State: v1alpha1.NotificationDelivered, ID: "x"}}
		}
		status.History = append(status.History, e)
	}
	policy := &v1alpha1.AccountPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p"}}
	d := lifecycle.Decision{Phase: v1alpha1.PhaseFinalNotice, PhaseSince: now,
		Transition: &lifecycle.Transition{From: v1alpha1.PhaseWarned, To: v1alpha1.PhaseFinalNotice, Reason: "Escalated"}}

	added, trimmed := recordDecision(status, policy, d, now)
	g.Expect(status.History).To(HaveLen(maxHistory))
	g.Expect(added).To(BeIdenticalTo(&status.History[0]), "the entry added is the newest")
	g.Expect(added.To).To(Equal(v1alpha1.PhaseFinalNotice))
	g.Expect(trimmed).To(HaveLen(1))
	notices := droppedNotices(trimmed)
	g.Expect(notices).To(HaveLen(1))
	g.Expect(notices[0].reason).To(Equal(v1alpha1.ReasonNotificationDropped))
	g.Expect(notices[0].note).To(ContainSubstring("event oldest"))
	g.Expect(notices[0].note).To(ContainSubstring("to the Webhook sink"))
	g.Expect(notices[0].note).To(ContainSubstring("after 7 attempt(s); last error: HTTP 503"))

	// Delivered entries leave quietly.
	_, trimmed = recordDecision(status, policy, d, now.Add(time.Second))
	g.Expect(trimmed).To(HaveLen(1))
	g.Expect(droppedNotices(trimmed)).To(BeEmpty())
}
