package e2e

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/controller"
	"github.com/accountops/account-lifecycle-operator/internal/notify"
	"github.com/accountops/account-lifecycle-operator/internal/notify/notifytest"
)

// startNotifyingManager runs a manager delivering to hooks until stop.
func startNotifyingManager(g Gomega, cfg *rest.Config, hooks *notifytest.Receiver) (stop func()) {
	stopManager := startManager(g, cfg, func(mgr ctrl.Manager, _ context.CancelFunc, o *controller.Options) {
		o.Sinks = notify.Sinks(notify.Deps{HTTP: hooks.Client(), Secrets: mgr.GetClient(), Namespace: operatorNamespace})
	})
	return func() { _ = stopManager() }
}

// A transition recorded while the webhook is down survives the manager
// stopping: the pending entry in status.history is the outbox, and a fresh
// manager delivers it once the endpoint is back, with the same event id.
func TestPendingNotificationSurvivesRestart(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	_, cfg, admin := controlPlane(t, g)
	g.Expect(admin.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "webhook-signing", Namespace: operatorNamespace},
		Data:       map[string][]byte{notify.SecretKey: []byte("e2e-key")},
	})).To(Succeed())

	hooks := notifytest.NewReceiver()
	t.Cleanup(hooks.Close)
	var up atomic.Bool
	hooks.Answer("accounts", func(int) int {
		if up.Load() {
			return http.StatusOK
		}
		return http.StatusServiceUnavailable
	})
	policy := &v1alpha1.AccountPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "notifying"},
		Spec: v1alpha1.AccountPolicySpec{
			Thresholds: v1alpha1.Thresholds{Warned: 1, FinalNotice: 2, Terminated: 3},
			Messages:   v1alpha1.Messages{Warned: "We would like to keep working with you."},
			Notifications: v1alpha1.Notifications{Webhook: v1alpha1.Webhook{
				URL: hooks.URL("accounts"), SecretRef: &corev1.LocalObjectReference{Name: "webhook-signing"},
			}},
		},
	}
	g.Expect(admin.Create(ctx, policy)).To(Succeed())

	warnedEntry := func(g Gomega) *v1alpha1.Transition {
		a := &v1alpha1.CustomerAccount{}
		g.Expect(admin.Get(ctx, client.ObjectKey{Name: "umbrella"}, a)).To(Succeed())
		for i := range a.Status.History {
			if e := &a.Status.History[i]; e.To == v1alpha1.PhaseWarned {
				g.Expect(e.NotificationTo(v1alpha1.SinkWebhook)).NotTo(BeNil())
				return e
			}
		}
		g.Expect(a.Status.History).NotTo(BeEmpty(), "no transition recorded yet")
		return nil
	}

	// First manager: records the transition, the endpoint answers 503.
	stop := startNotifyingManager(g, cfg, hooks)
	g.Expect(admin.Create(ctx, &v1alpha1.CustomerAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "umbrella"},
		Spec: v1alpha1.CustomerAccountSpec{PolicyName: policy.Name, Incidents: []v1alpha1.Incident{{
			ID: "late-payment", Category: v1alpha1.CategoryNonPayment,
			OccurredAt: metav1.NewTime(time.Now().Add(-time.Minute)), ReportedBy: "billing",
			Summary: "Invoice paid six weeks late.",
		}}},
	})).To(Succeed())
	var pending *v1alpha1.Transition
	g.Eventually(func(g Gomega) {
		pending = warnedEntry(g)
		g.Expect(pending).NotTo(BeNil())
		g.Expect(pending.NotificationTo(v1alpha1.SinkWebhook).State).To(Equal(v1alpha1.NotificationPending))
		g.Expect(pending.NotificationTo(v1alpha1.SinkWebhook).Attempts).To(HaveValue(BeNumerically(">=", 1)))
		g.Expect(pending.NotificationTo(v1alpha1.SinkWebhook).Message).To(ContainSubstring("HTTP 503"))
	}, waitFor, pollEach).Should(Succeed())
	stop()
	failed := hooks.Requests("accounts")
	g.Expect(failed).NotTo(BeEmpty())
	id := pending.NotificationTo(v1alpha1.SinkWebhook).ID
	g.Expect(id).To(MatchRegexp(`^[0-9a-f]{32}$`))

	// The endpoint comes back; nothing is sent until a manager runs again.
	up.Store(true)
	g.Consistently(func() int { return len(hooks.Requests("accounts")) }, time.Second, pollEach).Should(Equal(len(failed)))

	stop = startNotifyingManager(g, cfg, hooks)
	defer stop()
	g.Eventually(func(g Gomega) {
		e := warnedEntry(g)
		g.Expect(e).NotTo(BeNil())
		g.Expect(e.NotificationTo(v1alpha1.SinkWebhook).State).To(Equal(v1alpha1.NotificationDelivered))
		g.Expect(e.NotificationTo(v1alpha1.SinkWebhook).ID).To(Equal(id))
		g.Expect(e.NotificationTo(v1alpha1.SinkWebhook).Attempts).To(HaveValue(Equal(int32(len(failed) + 1))))
	}, waitFor, pollEach).Should(Succeed())
	g.Consistently(func() int { return len(hooks.Requests("accounts")) }, 2*time.Second, pollEach).Should(Equal(len(failed)+1),
		"delivered exactly once after the restart")
	all := hooks.Requests("accounts")
	for _, r := range all {
		g.Expect(r.Event.ID).To(Equal(id), "every attempt, before and after the restart, carries the same event id")
		g.Expect(notifytest.Verify([]byte("e2e-key"), r)).To(Succeed())
	}
	delivered := all[len(all)-1].Event
	g.Expect(delivered.Data.Account).To(Equal("umbrella"))
	g.Expect(delivered.Data.To).To(Equal(v1alpha1.PhaseWarned))
	g.Expect(delivered.Data.Courtesy).To(Equal("We would like to keep working with you."))
}
