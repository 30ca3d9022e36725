package controller_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/notify"
	"github.com/accountops/account-lifecycle-operator/internal/notify/notifytest"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// webhookPolicy is a test policy delivering to its own path on the suite's
// receiver, signed with the key in a real Secret in the operator namespace
// when key is not empty.
func webhookPolicy(t *testing.T, g Gomega, key string) (*v1alpha1.AccountPolicy, string) {
	t.Helper()
	path := unique("hook")
	hook := v1alpha1.Webhook{URL: hooks.URL(path)}
	if key != "" {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: unique("hook-key"), Namespace: operatorNamespace},
			Data:       map[string][]byte{notify.SecretKey: []byte(key)},
		}
		g.Expect(k8s.Create(context.Background(), s)).To(Succeed())
		t.Cleanup(func() { _ = k8s.Delete(context.Background(), s) })
		hook.SecretRef = &corev1.LocalObjectReference{Name: s.Name}
	}
	policy := createPolicy(t, g, func(p *v1alpha1.AccountPolicy) { p.Spec.Notifications.Webhook = hook })
	return policy, path
}

// entryTo returns the newest history entry entering phase, or nil.
func entryTo(a *v1alpha1.CustomerAccount, phase v1alpha1.AccountPhase) *v1alpha1.Transition {
	for i := range a.Status.History {
		if a.Status.History[i].To == phase {
			return &a.Status.History[i]
		}
	}
	return nil
}

// A transition is delivered once, as a signed CloudEvent carrying the
// recorded id, and the history entry ends Delivered.
func TestNotificationDeliveredOnceSigned(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	policy, path := webhookPolicy(t, g, "suite-hmac-key")
	acct := createAccount(t, g, policy.Name)
	update(g, acct.Name, func(a *v1alpha1.CustomerAccount) {
		a.Spec.Contacts = []v1alpha1.Contact{{Name: "Pat Customer", Email: "pat@customer.example"}}
	})
	waitPhase(g, acct.Name, v1alpha1.PhaseGood)

	start := time.Now()
	addIncident(g, acct.Name, abuse("shouted", start))
	var entry *v1alpha1.Transition
	var a *v1alpha1.CustomerAccount
	g.Eventually(func(g Gomega) {
		a = get(g, acct.Name)
		entry = entryTo(a, v1alpha1.PhaseWarned)
		g.Expect(entry).NotTo(BeNil())
		g.Expect(entry.NotificationTo(v1alpha1.SinkWebhook)).NotTo(BeNil())
		g.Expect(entry.NotificationTo(v1alpha1.SinkWebhook).State).To(Equal(v1alpha1.NotificationDelivered))
	}, waitFor, pollEach).Should(Succeed())
	got := hooks.Requests(path)
	g.Expect(got).To(HaveLen(1))
	t.Logf("happy path: incident recorded → CloudEvent received in %v", got[0].Received.Sub(start).Round(time.Millisecond))

	n := entry.NotificationTo(v1alpha1.SinkWebhook)
	g.Expect(n.Attempts).To(HaveValue(Equal(int32(1))))
	g.Expect(n.LastAttempt).NotTo(BeNil())
	g.Expect(n.NextAttempt).To(BeNil())
	g.Expect(n.Message).To(BeEmpty())
	g.Expect(n.ID).To(Equal(notify.EventID(a.UID, *entry)))

	r := got[0]
	g.Expect(r.Header.Get("Content-Type")).To(Equal(notify.ContentType))
	g.Expect(r.Header.Get(notify.EventIDHeader)).To(Equal(n.ID))
	g.Expect(notifytest.Verify([]byte("suite-hmac-key"), r)).To(Succeed())
	g.Expect(notifytest.Verify([]byte("another-key"), r)).NotTo(Succeed())
	ev := r.Event
	g.Expect(ev.SpecVersion).To(Equal("1.0"))
	g.Expect(ev.ID).To(Equal(n.ID))
	g.Expect(ev.Type).To(Equal(notify.EventType))
	g.Expect(ev.Source).To(Equal("urn:accounts.lifecycle.dev:customeraccounts:" + acct.Name))
	g.Expect(ev.Subject).To(Equal(acct.Name))
	g.Expect(ev.Time).To(Equal(entry.At.UTC().Format(time.RFC3339)))
	g.Expect(ev.Data.Account).To(Equal(acct.Name))
	g.Expect(ev.Data.DisplayName).To(Equal("Test customer"))
	g.Expect(ev.Data.From).To(Equal(v1alpha1.PhaseGood))
	g.Expect(ev.Data.To).To(Equal(v1alpha1.PhaseWarned))
	g.Expect(ev.Data.Score).To(Equal(int32(2)))
	g.Expect(ev.Data.Reason).To(Equal(entry.Reason))
	g.Expect(ev.Data.Message).To(Equal(entry.Message))
	g.Expect(ev.Data.Courtesy).To(Equal(policy.Spec.Messages.Warned))
	g.Expect(ev.Data.Referral).To(BeEmpty())
	g.Expect(ev.Data.PrimaryConcern).To(Equal(v1alpha1.CategoryAbuse))
	g.Expect(ev.Data.Policy).To(Equal(policy.Name))
	g.Expect(ev.Data.Contacts).To(Equal([]v1alpha1.Contact{{Name: "Pat Customer", Email: "pat@customer.example"}}))

	// Delivered once: no redelivery later, and no retry Events.
	g.Consistently(func() int { return len(hooks.Requests(path)) }, 2*time.Second, pollEach).Should(Equal(1))
	g.Expect(reasons(eventsFor(g, acct.Name))).NotTo(ContainElements(
		v1alpha1.ReasonNotificationFailed, v1alpha1.ReasonNotificationDelivered))
}

// An endpoint that answers 410 Gone is gone for good: the entry is
// Abandoned in status (the API accepts the state), a Warning says so, and
// nothing is sent again.
func TestNotificationAbandonedWhenTheEndpointIsGone(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	policy, path := webhookPolicy(t, g, "")
	hooks.Answer(path, func(int) int { return http.StatusGone })
	acct := createAccount(t, g, policy.Name, abuse("shouted", time.Now()))
	g.Eventually(func(g Gomega) {
		e := entryTo(get(g, acct.Name), v1alpha1.PhaseWarned)
		g.Expect(e).NotTo(BeNil())
		g.Expect(e.NotificationTo(v1alpha1.SinkWebhook)).NotTo(BeNil())
		g.Expect(e.NotificationTo(v1alpha1.SinkWebhook).State).To(Equal(v1alpha1.NotificationAbandoned))
		g.Expect(e.NotificationTo(v1alpha1.SinkWebhook).Message).To(ContainSubstring("410 Gone"))
		g.Expect(reasons(eventsFor(g, acct.Name))).To(ContainElement(v1alpha1.ReasonNotificationAbandoned))
	}, waitFor, pollEach).Should(Succeed())
	g.Consistently(func() int { return len(hooks.Requests(path)) }, 2*time.Second, pollEach).Should(Equal(1))
}

// The endpoint fails twice: the entry stays Pending with attempts 1, then 2
// and the status in its message, and is delivered on the third attempt with
// the same event id every time.
func TestNotificationRetriedWithBackoffUntilDelivered(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	policy, path := webhookPolicy(t, g, "")
	hooks.Answer(path, func(attempt int) int {
		if attempt <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	acct := createAccount(t, g, policy.Name, abuse("shouted", time.Now()))

	seen := map[int32]bool{}
	var last *v1alpha1.NotificationStatus
	g.Eventually(func(g Gomega) {
		e := entryTo(get(g, acct.Name), v1alpha1.PhaseWarned)
		g.Expect(e).NotTo(BeNil())
		g.Expect(e.NotificationTo(v1alpha1.SinkWebhook)).NotTo(BeNil())
		last = e.NotificationTo(v1alpha1.SinkWebhook)
		if attempts := ptr.Deref(last.Attempts, 0); last.State == v1alpha1.NotificationPending && attempts > 0 {
			if !seen[attempts] {
				// While it waits, the gauges count it (scraped from the cache).
				g.Expect(gathered(g, "account_lifecycle_notifications_pending")).To(BeNumerically(">=", 1))
				g.Expect(gathered(g, "account_lifecycle_notification_oldest_pending_seconds")).To(BeNumerically(">", 0))
			}
			seen[attempts] = true
			g.Expect(last.Message).To(ContainSubstring("HTTP 500"))
			g.Expect(last.NextAttempt).NotTo(BeNil())
			backoff := time.Duration(1<<(attempts-1)) * time.Second
			g.Expect(last.NextAttempt.Sub(last.LastAttempt.Time)).To(BeNumerically("~", backoff+500*time.Millisecond, 500*time.Millisecond))
		}
		g.Expect(last.State).To(Equal(v1alpha1.NotificationDelivered))
	}, waitFor, 50*time.Millisecond).Should(Succeed())
	g.Expect(seen).To(Equal(map[int32]bool{1: true, 2: true}), "Pending with attempts 1 and 2 were both observed")
	g.Expect(last.Attempts).To(HaveValue(Equal(int32(3))))

	got := hooks.Requests(path)
	g.Expect(got).To(HaveLen(3))
	for _, r := range got {
		g.Expect(r.Event.ID).To(Equal(last.ID))
		g.Expect(r.Header.Get(notify.EventIDHeader)).To(Equal(last.ID))
		g.Expect(r.Header.Values(notify.SignatureHeader)).To(BeEmpty(), "no secretRef: unsigned")
	}
	g.Expect(got[1].Received.Sub(got[0].Received)).To(BeNumerically(">=", 900*time.Millisecond))
	g.Expect(got[2].Received.Sub(got[1].Received)).To(BeNumerically(">=", 1900*time.Millisecond))
	g.Eventually(func(g Gomega) {
		rs := reasons(eventsFor(g, acct.Name))
		g.Expect(rs).To(ContainElements(v1alpha1.ReasonNotificationFailed, v1alpha1.ReasonNotificationDelivered))
		count := 0
		for _, r := range rs {
			if r == v1alpha1.ReasonNotificationFailed {
				count++
			}
		}
		g.Expect(count).To(Equal(1), "NotificationFailed only on the first failed attempt")
	}, waitFor, pollEach).Should(Succeed())
}

// A signing Secret that does not exist is a delivery error, retried, with a
// message that says what is missing; creating the Secret lets it through.
func TestNotificationMissingSecretIsRetried(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	path := unique("hook")
	policy := createPolicy(t, g, func(p *v1alpha1.AccountPolicy) {
		p.Spec.Notifications.Webhook = v1alpha1.Webhook{URL: hooks.URL(path),
			SecretRef: &corev1.LocalObjectReference{Name: path + "-key"}}
	})
	acct := createAccount(t, g, policy.Name, abuse("shouted", time.Now()))
	g.Eventually(func(g Gomega) {
		e := entryTo(get(g, acct.Name), v1alpha1.PhaseWarned)
		g.Expect(e).NotTo(BeNil())
		g.Expect(e.NotificationTo(v1alpha1.SinkWebhook)).NotTo(BeNil())
		g.Expect(e.NotificationTo(v1alpha1.SinkWebhook).State).To(Equal(v1alpha1.NotificationPending))
		g.Expect(e.NotificationTo(v1alpha1.SinkWebhook).Message).To(ContainSubstring("signing Secret " + operatorNamespace + "/" + path + "-key not found"))
	}, waitFor, pollEach).Should(Succeed())
	g.Expect(hooks.Requests(path)).To(BeEmpty())

	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: path + "-key", Namespace: operatorNamespace},
		Data: map[string][]byte{notify.SecretKey: []byte("late-key")}}
	g.Expect(k8s.Create(context.Background(), s)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), s) })
	g.Eventually(func(g Gomega) {
		e := entryTo(get(g, acct.Name), v1alpha1.PhaseWarned)
		g.Expect(e.NotificationTo(v1alpha1.SinkWebhook).State).To(Equal(v1alpha1.NotificationDelivered))
	}, waitFor, pollEach).Should(Succeed())
	got := hooks.Requests(path)
	g.Expect(got).To(HaveLen(1))
	g.Expect(notifytest.Verify([]byte("late-key"), got[0])).To(Succeed())
}

// No webhook, no notification state.
func TestNoWebhookNoNotification(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	policy := createPolicy(t, g, nil)
	acct := createAccount(t, g, policy.Name, abuse("shouted", time.Now()))
	a := waitPhase(g, acct.Name, v1alpha1.PhaseWarned)
	g.Expect(a.Status.History).NotTo(BeEmpty())
	for _, e := range a.Status.History {
		g.Expect(e.NotificationTo(v1alpha1.SinkWebhook)).To(BeNil())
	}
}

// gathered is the value of an unlabelled metric in the manager's registry.
func gathered(g Gomega, name string) float64 {
	mfs, err := crmetrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	g.Expect(name).To(BeEmpty(), "metric not gathered")
	return 0
}
