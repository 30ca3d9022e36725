package notify_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/lifecycle"
	"github.com/accountops/account-lifecycle-operator/internal/notify"
	"github.com/accountops/account-lifecycle-operator/internal/notify/notifytest"
)

const ns = "operator-ns"

// request is what the test endpoint received.
type request struct {
	header http.Header
	body   []byte
}

// endpoint is an HTTPS server on loopback answering with status.
type endpoint struct {
	*httptest.Server
	mu     sync.Mutex
	got    []request
	code   int
	header http.Header // added to every answer
}

func newEndpoint(t *testing.T, code int) *endpoint {
	e := &endpoint{code: code}
	e.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.got = append(e.got, request{header: r.Header.Clone(), body: body})
		code := e.code
		for k, v := range e.header {
			w.Header()[k] = v
		}
		e.mu.Unlock()
		w.WriteHeader(code)
		_, _ = io.WriteString(w, "receiver says "+http.StatusText(code)+"\n"+strings.Repeat("x", 1<<20))
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *endpoint) requests() []request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]request{}, e.got...)
}

func fixtures(url string, secret string) (*v1alpha1.CustomerAccount, *v1alpha1.AccountPolicy, v1alpha1.Transition) {
	account := &v1alpha1.CustomerAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "initech", UID: "0c1d2e3f-aaaa-bbbb-cccc-000000000001"},
		Spec: v1alpha1.CustomerAccountSpec{
			DisplayName: "Initech",
			Contacts:    []v1alpha1.Contact{{Name: "Bill Lumbergh", Email: "bill@initech.example"}},
		},
		Status: v1alpha1.CustomerAccountStatus{PrimaryConcern: v1alpha1.CategoryAbuse},
	}
	policy := &v1alpha1.AccountPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "standard"},
		Spec: v1alpha1.AccountPolicySpec{
			Thresholds: v1alpha1.Thresholds{Warned: 3, FinalNotice: 6, Terminated: 9},
			Messages: v1alpha1.Messages{
				Warned: "Please keep it respectful.", FinalNotice: "Final notice.",
				Terminated: "Goodbye; Example Corp may suit you better.", Reinstated: "Welcome back.",
			},
			Notifications: v1alpha1.Notifications{Webhook: v1alpha1.Webhook{URL: url}},
		},
	}
	if secret != "" {
		policy.Spec.Notifications.Webhook.SecretRef = &corev1.LocalObjectReference{Name: secret}
	}
	entry := v1alpha1.Transition{
		From: v1alpha1.PhaseFinalNotice, To: v1alpha1.PhaseTerminated,
		At:    metav1.NewTime(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)),
		Score: ptr.To[int32](6), Reason: "Terminated", Message: "Approved by head-of-support.",
	}
	return account, policy, entry
}

func notifier(e *endpoint, objs ...*corev1.Secret) *notify.Notifier {
	b := fake.NewClientBuilder()
	for _, o := range objs {
		b = b.WithObjects(o)
	}
	return &notify.Notifier{Deps: notify.Deps{HTTP: e.Client(), Secrets: b.Build(), Namespace: ns}}
}

func signingSecret(key string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "hook-key", Namespace: ns},
		Data: map[string][]byte{notify.SecretKey: []byte(key)}}
}

func TestDeliverSignedCloudEvent(t *testing.T) {
	g := NewWithT(t)
	e := newEndpoint(t, http.StatusAccepted)
	account, policy, entry := fixtures(e.URL+"/hooks/accounts", "hook-key")
	g.Expect(notifier(e, signingSecret("s3cret")).Deliver(context.Background(), account, policy, entry)).To(Succeed())

	got := e.requests()
	g.Expect(got).To(HaveLen(1))
	r := got[0]
	g.Expect(r.header.Get("Content-Type")).To(Equal("application/cloudevents+json"))
	id := notify.EventID(account.UID, entry)
	g.Expect(id).To(MatchRegexp(`^[0-9a-f]{32}$`))
	g.Expect(r.header.Get(notify.EventIDHeader)).To(Equal(id))

	var body map[string]any
	g.Expect(json.Unmarshal(r.body, &body)).To(Succeed())
	g.Expect(body).To(Equal(map[string]any{
		"specversion":     "1.0",
		"id":              id,
		"source":          "urn:accounts.lifecycle.dev:customeraccounts:initech",
		"type":            "dev.lifecycle.accounts.transition",
		"subject":         "initech",
		"time":            "2026-11-22T10:00:00Z",
		"datacontenttype": "application/json",
		"data": map[string]any{
			"account": "initech", "displayName": "Initech",
			"from": "FinalNotice", "to": "Terminated", "score": float64(6),
			"reason": "Terminated", "message": "Approved by head-of-support.",
			"courtesy":       "Goodbye; Example Corp may suit you better.",
			"referral":       "Goodbye; Example Corp may suit you better.",
			"primaryConcern": "Abuse", "policy": "standard",
			"contacts": []any{map[string]any{"name": "Bill Lumbergh", "email": "bill@initech.example"}},
			"statement": map[string]any{
				"incidents": []any{}, "score": float64(6),
				"thresholds": map[string]any{"warned": float64(3), "finalNotice": float64(6), "terminated": float64(9)},
				"next":       "Approved by head-of-support.",
				"appeal":     "To contest an incident listed, appeal it (kubectl account appeal initech INCIDENT-ID, or through your account manager) within the 14-day appeal window; while an appeal is undecided the account is not terminated.",
				"referral":   "Goodbye; Example Corp may suit you better.",
			},
		},
	}))

	// Standard Webhooks: the library a receiver would use verifies it.
	g.Expect(r.header.Get(notify.SignatureHeader)).To(HavePrefix("v1,"))
	g.Expect(r.header.Get(notify.TimestampHeader)).To(MatchRegexp(`^[0-9]+$`))
	received := notifytest.Request{Header: r.header, Body: r.body}
	g.Expect(notifytest.Verify([]byte("s3cret"), received)).To(Succeed())
	g.Expect(notifytest.Verify([]byte("another key"), received)).NotTo(Succeed())
	changed := notifytest.Request{Header: r.header, Body: append(append([]byte{}, r.body...), ' ')}
	g.Expect(notifytest.Verify([]byte("s3cret"), changed)).NotTo(Succeed(), "a changed body must not verify")
}

// A captured request replayed later is refused by a receiver: the
// signature covers the timestamp, which the library holds to five minutes.
func TestCapturedDeliveryCannotBeReplayed(t *testing.T) {
	g := NewWithT(t)
	e := newEndpoint(t, http.StatusOK)
	account, policy, entry := fixtures(e.URL, "hook-key")
	n := notifier(e, signingSecret("s3cret"))
	n.Now = func() time.Time { return time.Now().Add(-10 * time.Minute) } // captured ten minutes ago
	g.Expect(n.Deliver(context.Background(), account, policy, entry)).To(Succeed())
	old := e.requests()[0]
	err := notifytest.Verify([]byte("s3cret"), notifytest.Request{Header: old.header, Body: old.body})
	g.Expect(err).To(MatchError(ContainSubstring("timestamp too old")))
	// Moving the timestamp forward breaks the signature instead.
	h := old.header.Clone()
	h.Set(notify.TimestampHeader, strconv.FormatInt(time.Now().Unix(), 10))
	g.Expect(notifytest.Verify([]byte("s3cret"), notifytest.Request{Header: h, Body: old.body})).NotTo(Succeed())
}

func TestEventIDIsDeterministicPerTransition(t *testing.T) {
	g := NewWithT(t)
	account, _, entry := fixtures("https://example.invalid", "")
	g.Expect(notify.EventID(account.UID, entry)).To(Equal(notify.EventID(account.UID, *entry.DeepCopy())))
	later := *entry.DeepCopy()
	later.At = metav1.NewTime(entry.At.Add(time.Second))
	g.Expect(notify.EventID(account.UID, later)).NotTo(Equal(notify.EventID(account.UID, entry)))
	g.Expect(notify.EventID("other-uid", entry)).NotTo(Equal(notify.EventID(account.UID, entry)))
	// The id recorded on the entry wins.
	entry.Notifications = []v1alpha1.NotificationStatus{{Sink: v1alpha1.SinkWebhook, State: v1alpha1.NotificationPending, ID: "recorded"}}
	g.Expect(notify.NewEvent(account, &v1alpha1.AccountPolicy{}, entry).ID).To(Equal("recorded"))
}

func TestCourtesyAndReferral(t *testing.T) {
	g := NewWithT(t)
	account, policy, entry := fixtures("https://example.invalid", "")
	entry.From, entry.To = v1alpha1.PhaseTerminated, v1alpha1.PhaseGood
	ev := notify.NewEvent(account, policy, entry)
	g.Expect(ev.Data.Courtesy).To(Equal("Welcome back."))
	g.Expect(ev.Data.Referral).To(BeEmpty())
	entry.From, entry.To = v1alpha1.PhaseGood, v1alpha1.PhaseWarned
	ev = notify.NewEvent(account, policy, entry)
	g.Expect(ev.Data.Courtesy).To(Equal("Please keep it respectful."))
	g.Expect(ev.Data.Referral).To(BeEmpty())
}

func TestDeliverUnsignedWithoutSecretRef(t *testing.T) {
	g := NewWithT(t)
	e := newEndpoint(t, http.StatusOK)
	account, policy, entry := fixtures(e.URL, "")
	g.Expect(notifier(e).Deliver(context.Background(), account, policy, entry)).To(Succeed())
	g.Expect(e.requests()).To(HaveLen(1))
	g.Expect(e.requests()[0].header.Values(notify.SignatureHeader)).To(BeEmpty())
}

func TestDeliverErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("missing Secret", func(t *testing.T) {
		g := NewWithT(t)
		e := newEndpoint(t, http.StatusOK)
		account, policy, entry := fixtures(e.URL, "hook-key")
		err := notifier(e).Deliver(ctx, account, policy, entry)
		g.Expect(err).To(MatchError(ContainSubstring("signing Secret operator-ns/hook-key not found")))
		g.Expect(e.requests()).To(BeEmpty(), "nothing is sent unsigned when a signature was asked for")
	})
	t.Run("Secret without the key", func(t *testing.T) {
		g := NewWithT(t)
		e := newEndpoint(t, http.StatusOK)
		account, policy, entry := fixtures(e.URL, "hook-key")
		s := signingSecret("x")
		s.Data = map[string][]byte{"other": []byte("x")}
		err := notifier(e, s).Deliver(ctx, account, policy, entry)
		g.Expect(err).To(MatchError(ContainSubstring(`no (or an empty) data key "hmacKey"`)))
		g.Expect(e.requests()).To(BeEmpty())
	})
	t.Run("non-2xx", func(t *testing.T) {
		g := NewWithT(t)
		e := newEndpoint(t, http.StatusServiceUnavailable)
		account, policy, entry := fixtures(e.URL, "")
		err := notifier(e).Deliver(ctx, account, policy, entry)
		g.Expect(err).To(MatchError(ContainSubstring("HTTP 503 Service Unavailable: receiver says Service Unavailable")))
		g.Expect(len(err.Error())).To(BeNumerically("<", 300), "the error quotes a bounded part of the body")
		var se *notify.StatusError
		g.Expect(err).To(BeAssignableToTypeOf(se))
	})
	t.Run("redirect is not followed", func(t *testing.T) {
		g := NewWithT(t)
		e := newEndpoint(t, http.StatusFound)
		account, policy, entry := fixtures(e.URL, "")
		g.Expect(notifier(e).Deliver(ctx, account, policy, entry)).To(MatchError(ContainSubstring("HTTP 302")))
		g.Expect(e.requests()).To(HaveLen(1))
	})
	t.Run("http URL refused", func(t *testing.T) {
		g := NewWithT(t)
		plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			t.Error("a plain-http endpoint was called")
		}))
		defer plain.Close()
		account, policy, entry := fixtures(plain.URL, "")
		err := (&notify.Notifier{Deps: notify.Deps{HTTP: plain.Client()}}).Deliver(ctx, account, policy, entry)
		g.Expect(err).To(MatchError(ContainSubstring("only absolute https:// URLs are allowed")))
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		g := NewWithT(t)
		e := newEndpoint(t, http.StatusOK)
		account, policy, entry := fixtures(e.URL, "")
		err := (&notify.Notifier{}).Deliver(ctx, account, policy, entry)
		g.Expect(err).To(MatchError(ContainSubstring("certificate")))
		g.Expect(e.requests()).To(BeEmpty())
	})
	t.Run("no webhook", func(t *testing.T) {
		g := NewWithT(t)
		account, policy, entry := fixtures("https://example.invalid", "")
		policy.Spec.Notifications.Webhook = v1alpha1.Webhook{}
		g.Expect((&notify.Notifier{}).Deliver(ctx, account, policy, entry)).To(HaveOccurred())
	})
}

// A receiver that asks to wait (Retry-After, in seconds or as a date) is
// not tried again sooner, and one that is gone for good (410) is not tried
// again at all: the entry is Abandoned and says why.
func TestEndpointAsksToWaitOrIsGone(t *testing.T) {
	ctx := context.Background()
	pending := func(url string) (*v1alpha1.CustomerAccount, *v1alpha1.AccountPolicy) {
		account, policy, entry := fixtures(url, "")
		notify.MarkPending(account, policy, &entry)
		account.Status.History = []v1alpha1.Transition{entry}
		return account, policy
	}
	for _, tc := range []struct {
		name       string
		code       int
		retryAfter func(now time.Time) string
		wait       time.Duration
	}{
		{"429 with Retry-After in seconds", http.StatusTooManyRequests, func(time.Time) string { return "3600" }, time.Hour},
		{"503 with Retry-After as a date", http.StatusServiceUnavailable,
			func(now time.Time) string { return now.Add(2 * time.Minute).UTC().Format(http.TimeFormat) }, 2 * time.Minute},
		{"500 without Retry-After: the backoff", http.StatusInternalServerError, func(time.Time) string { return "" }, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			now := time.Now()
			e := newEndpoint(t, tc.code)
			if v := tc.retryAfter(now); v != "" {
				e.header = http.Header{"Retry-After": {v}}
			}
			account, policy := pending(e.URL)
			ob := &notify.Outbox{Sink: notifier(e), Clock: clocktesting.NewFakeClock(now)}
			retry, outcomes := ob.Deliver(ctx, account, policy, now)
			g.Expect(outcomes).To(HaveLen(1))
			g.Expect(retry).NotTo(BeNil())
			g.Expect(retry.Sub(now)).To(BeNumerically(">=", tc.wait-time.Second), "retried sooner than asked")
			g.Expect(retry.Sub(now)).To(BeNumerically("<=", tc.wait+2*time.Second))
			g.Expect(account.Status.History[0].NotificationTo(v1alpha1.SinkWebhook).State).To(Equal(v1alpha1.NotificationPending))
		})
	}
	t.Run("410 Gone", func(t *testing.T) {
		g := NewWithT(t)
		now := time.Now()
		e := newEndpoint(t, http.StatusGone)
		account, policy := pending(e.URL)
		ob := &notify.Outbox{Sink: notifier(e), Clock: clocktesting.NewFakeClock(now)}
		retry, _ := ob.Deliver(ctx, account, policy, now)
		g.Expect(retry).To(BeNil(), "nothing left to retry")
		n := account.Status.History[0].NotificationTo(v1alpha1.SinkWebhook)
		g.Expect(n.State).To(Equal(v1alpha1.NotificationAbandoned))
		g.Expect(n.Message).To(ContainSubstring("delivery stopped: webhook answered HTTP 410 Gone"))
		g.Expect(notify.HasPending(account)).To(BeFalse())
		_, outcomes := ob.Deliver(ctx, account, policy, now.Add(time.Hour))
		g.Expect(outcomes).To(BeEmpty())
		g.Expect(e.requests()).To(HaveLen(1), "an abandoned notification is not sent again")
	})
}

// A termination's notification, as received, carries the statement of
// reasons: the incidents that counted then (not the waived, vendor or later
// ones), the score and thresholds, what happens next, how to appeal and
// the referral.
func TestTerminationNotificationCarriesTheStatementOfReasons(t *testing.T) {
	g := NewWithT(t)
	e := newEndpoint(t, http.StatusOK)
	account, policy, entry := fixtures(e.URL, "")
	policy.Spec.Thresholds = v1alpha1.Thresholds{Warned: 2, FinalNotice: 4, Terminated: 6}
	policy.Spec.AppealWindow = &metav1.Duration{Duration: 7 * 24 * time.Hour}
	occurred := entry.At.Add(-48 * time.Hour)
	incident := func(id string, sev v1alpha1.Severity, at time.Time) v1alpha1.Incident {
		return v1alpha1.Incident{ID: id, Category: v1alpha1.CategoryAbuse, Severity: sev, OccurredAt: metav1.NewTime(at),
			ReportedBy: "support", Summary: "Summary of " + id + ".", Attribution: v1alpha1.AttributionCustomer}
	}
	waived := incident("waived-call", v1alpha1.SeverityMajor, occurred)
	waived.Waiver = &v1alpha1.Waiver{By: "lee", At: metav1.NewTime(occurred), Reason: "our outage"}
	vendor := incident("our-outage", v1alpha1.SeverityMajor, occurred)
	vendor.Attribution = v1alpha1.AttributionVendor
	account.Spec.Incidents = []v1alpha1.Incident{
		incident("shouted", v1alpha1.SeverityMajor, occurred), incident("threats", v1alpha1.SeverityCritical, occurred.Add(time.Hour)),
		waived, vendor, incident("after-termination", v1alpha1.SeverityMinor, entry.At.Add(time.Hour)),
	}
	entry.Score = ptr.To[int32](5)
	g.Expect(notifier(e).Deliver(context.Background(), account, policy, entry)).To(Succeed())
	got := e.requests()
	g.Expect(got).To(HaveLen(1))
	var ev notify.Event
	g.Expect(json.Unmarshal(got[0].body, &ev)).To(Succeed())

	s := ev.Data.Statement
	g.Expect(s.Incidents).To(Equal([]lifecycle.CountedIncident{
		{ID: "shouted", Category: v1alpha1.CategoryAbuse, OccurredAt: occurred, Summary: "Summary of shouted.", Points: 2},
		{ID: "threats", Category: v1alpha1.CategoryAbuse, OccurredAt: occurred.Add(time.Hour), Summary: "Summary of threats.", Points: 3},
	}))
	g.Expect(s.Score).To(Equal(int32(5)))
	g.Expect(s.Thresholds).To(Equal(v1alpha1.Thresholds{Warned: 2, FinalNotice: 4, Terminated: 6}))
	g.Expect(s.Next).To(Equal("Approved by head-of-support."))
	g.Expect(s.Appeal).To(ContainSubstring("kubectl account appeal initech INCIDENT-ID"))
	g.Expect(s.Appeal).To(ContainSubstring("within the 7-day appeal window"))
	g.Expect(s.Referral).To(Equal("Goodbye; Example Corp may suit you better."))

	// Back to Good, nothing to appeal and no referral.
	entry.From, entry.To = v1alpha1.PhaseTerminated, v1alpha1.PhaseGood
	back := notify.NewEvent(account, policy, entry).Data.Statement
	g.Expect(back.Appeal).To(BeEmpty())
	g.Expect(back.Referral).To(BeEmpty())
}

// A receiver with a certificate the system does not trust (one issued in
// the cluster) is reached with the policy's caBundle, and only with it.
func TestDeliverTrustsTheCABundle(t *testing.T) {
	g := NewWithT(t)
	e := newEndpoint(t, http.StatusOK)
	account, policy, entry := fixtures(e.URL, "")
	plain := &notify.Notifier{} // the system's roots only
	err := plain.Deliver(context.Background(), account, policy, entry)
	g.Expect(err).To(MatchError(ContainSubstring("certificate")), "an untrusted certificate must fail")
	policy.Spec.Notifications.Webhook.CABundle = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.Certificate().Raw})
	g.Expect(plain.Deliver(context.Background(), account, policy, entry)).To(Succeed())
	g.Expect(e.requests()).To(HaveLen(1))

	policy.Spec.Notifications.Webhook.CABundle = []byte("not a certificate")
	g.Expect(plain.Deliver(context.Background(), account, policy, entry)).To(MatchError(ContainSubstring("caBundle holds no PEM certificate")))
}

// Plain http goes only to a Service in the cluster, and only when the
// policy allows it.
func TestDeliverInClusterHTTPOnlyWhenAllowed(t *testing.T) {
	g := NewWithT(t)
	var got int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { got++ }))
	t.Cleanup(srv.Close)
	// The Service's name resolves to the test server, as cluster DNS would.
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	n := &notify.Notifier{Deps: notify.Deps{HTTP: &http.Client{Transport: &http.Transport{DialContext: dial}}}}
	account, policy, entry := fixtures("http://receiver.billing.svc:8080/hooks", "")
	err := n.Deliver(context.Background(), account, policy, entry)
	g.Expect(err).To(MatchError(ContainSubstring("with inClusterHTTP: Allow")))
	policy.Spec.Notifications.Webhook.InClusterHTTP = v1alpha1.InClusterHTTPAllow
	g.Expect(n.Deliver(context.Background(), account, policy, entry)).To(Succeed())
	g.Expect(got).To(Equal(1))
	policy.Spec.Notifications.Webhook.URL = "http://hooks.example.com/x"
	g.Expect(n.Deliver(context.Background(), account, policy, entry)).To(MatchError(ContainSubstring("refusing webhook url")))
	g.Expect(got).To(Equal(1))
}

// Deliveries to a receiver with its own CA reuse their connection: the
// caBundle's transport is built once, not a TLS handshake per attempt.
func TestCABundleDeliveriesReuseTheConnection(t *testing.T) {
	g := NewWithT(t)
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	account, policy, entry := fixtures(srv.URL, "")
	policy.Spec.Notifications.Webhook.CABundle = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	n := &notify.Notifier{}
	for range 3 {
		g.Expect(n.Deliver(context.Background(), account, policy, entry)).To(Succeed())
	}
	g.Expect(conns.Load()).To(Equal(int32(1)), "three deliveries, one connection")
}
