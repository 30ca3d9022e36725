package notify

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/manifests"
)

func TestRetryDelayDoublesAndCaps(t *testing.T) {
	g := NewWithT(t)
	var got []time.Duration
	for a := int32(1); a <= 12; a++ {
		got = append(got, RetryDelay(a))
	}
	g.Expect(got[:5]).To(Equal([]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}))
	g.Expect(got[9]).To(Equal(512 * time.Second))
	g.Expect(got[10]).To(Equal(10 * time.Minute))
	g.Expect(RetryDelay(1000)).To(Equal(10 * time.Minute))
}

// recordingSink is a Sink in one type: it records what it is given and
// fails the attempts it is told to. Its name is the webhook's unless set.
type recordingSink struct {
	name v1alpha1.NotificationSink
	got  []v1alpha1.AccountPhase
	fail func(n int) error
}

func (s *recordingSink) Name() v1alpha1.NotificationSink {
	if s.name == "" {
		return v1alpha1.SinkWebhook
	}
	return s.name
}

func (s *recordingSink) Endpoint(*v1alpha1.AccountPolicy) string { return "memory" }

func (s *recordingSink) Deliver(_ context.Context, _ *v1alpha1.CustomerAccount, _ *v1alpha1.AccountPolicy, e v1alpha1.Transition) error {
	s.got = append(s.got, e.To)
	if s.fail != nil {
		return s.fail(len(s.got))
	}
	return nil
}

// pendingAccount has three transitions (newest first), all Pending for each
// sink named (the webhook when none is).
func pendingAccount(at time.Time, sinks ...v1alpha1.NotificationSink) *v1alpha1.CustomerAccount {
	if len(sinks) == 0 {
		sinks = []v1alpha1.NotificationSink{v1alpha1.SinkWebhook}
	}
	a := &v1alpha1.CustomerAccount{ObjectMeta: metav1.ObjectMeta{Name: "acme", UID: "u1"}}
	for i, to := range []v1alpha1.AccountPhase{v1alpha1.PhaseTerminated, v1alpha1.PhaseFinalNotice, v1alpha1.PhaseWarned} {
		e := v1alpha1.Transition{To: to, At: metav1.NewTime(at.Add(-time.Duration(i) * time.Minute))}
		for _, s := range sinks {
			e.Notifications = append(e.Notifications, v1alpha1.NotificationStatus{Sink: s, State: v1alpha1.NotificationPending, ID: EventID(a.UID, e)})
		}
		a.Status.History = append(a.Status.History, e)
	}
	return a
}

func webhookState(e v1alpha1.Transition) *v1alpha1.NotificationStatus {
	return e.NotificationTo(v1alpha1.SinkWebhook)
}

// Oldest first; all delivered; nothing left to retry.
func TestOutboxDeliversOldestFirst(t *testing.T) {
	g := NewWithT(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	sink := &recordingSink{}
	a := pendingAccount(now)
	retry, outcomes := (&Outbox{Sink: sink, Clock: clocktesting.NewFakeClock(now)}).Deliver(context.Background(), a, &v1alpha1.AccountPolicy{}, now)
	g.Expect(retry).To(BeNil())
	g.Expect(sink.got).To(Equal([]v1alpha1.AccountPhase{v1alpha1.PhaseWarned, v1alpha1.PhaseFinalNotice, v1alpha1.PhaseTerminated}))
	g.Expect(outcomes).To(HaveLen(3))
	g.Expect(HasPending(a)).To(BeFalse())
	for _, h := range a.Status.History {
		g.Expect(webhookState(h).State).To(Equal(v1alpha1.NotificationDelivered))
		g.Expect(webhookState(h).Attempts).To(HaveValue(Equal(int32(1))))
	}
}

// The first failure ends the round: the younger entries wait behind it,
// and its retry is at least the backoff away.
func TestOutboxStopsAtTheFirstFailure(t *testing.T) {
	g := NewWithT(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	sink := &recordingSink{fail: func(n int) error {
		if n == 2 {
			return errors.New("HTTP 503")
		}
		return nil
	}}
	a := pendingAccount(now)
	ob := &Outbox{Sink: sink, Clock: clocktesting.NewFakeClock(now.Add(300 * time.Millisecond))}
	retry, outcomes := ob.Deliver(context.Background(), a, &v1alpha1.AccountPolicy{}, now)
	g.Expect(sink.got).To(HaveLen(2))
	g.Expect(outcomes[1].Err).To(MatchError("HTTP 503"))
	g.Expect(*retry).To(Equal(now.Add(2*time.Second)), "1 s of backoff from 12:00:00.3, rounded up")
	failed := webhookState(a.Status.History[1])
	g.Expect(failed.State).To(Equal(v1alpha1.NotificationPending))
	g.Expect(failed.Message).To(Equal("HTTP 503"))
	g.Expect(webhookState(a.Status.History[0]).Attempts).To(BeNil(), "the newest waits behind the failed one")

	// Before the retry is due, nothing is attempted.
	retry, outcomes = ob.Deliver(context.Background(), a, &v1alpha1.AccountPolicy{}, now.Add(time.Second))
	g.Expect(outcomes).To(BeEmpty())
	g.Expect(*retry).To(Equal(now.Add(2 * time.Second)))
}

// A view that is not current delivers nothing: it may predate the write
// that recorded a delivery.
func TestOutboxDeliversOnlyFromACurrentView(t *testing.T) {
	g := NewWithT(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	sink := &recordingSink{}
	ob := &Outbox{Sink: sink, Clock: clocktesting.NewFakeClock(now),
		Current: func(context.Context, *v1alpha1.CustomerAccount) (bool, error) { return false, nil }}
	retry, outcomes := ob.Deliver(context.Background(), pendingAccount(now), &v1alpha1.AccountPolicy{}, now)
	g.Expect(sink.got).To(BeEmpty())
	g.Expect(outcomes).To(BeEmpty())
	g.Expect(retry).NotTo(BeNil())
}

// Each sink keeps its own delivery state: one that fails holds back its own
// entries only, and the other delivers all of them in the same round.
func TestSinksDeliverIndependently(t *testing.T) {
	g := NewWithT(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	const chat v1alpha1.NotificationSink = "Chat"
	a := pendingAccount(now, v1alpha1.SinkWebhook, chat)
	down := &recordingSink{fail: func(int) error { return errors.New("HTTP 503") }}
	up := &recordingSink{name: chat}
	clk := clocktesting.NewFakeClock(now)
	_, failed := (&Outbox{Sink: down, Clock: clk}).Deliver(context.Background(), a, &v1alpha1.AccountPolicy{}, now)
	retry, delivered := (&Outbox{Sink: up, Clock: clk}).Deliver(context.Background(), a, &v1alpha1.AccountPolicy{}, now)
	g.Expect(failed).To(HaveLen(1), "the webhook stops at its first failure")
	g.Expect(delivered).To(HaveLen(3), "the other sink is not held back")
	g.Expect(retry).To(BeNil())
	for _, h := range a.Status.History {
		g.Expect(h.NotificationTo(chat).State).To(Equal(v1alpha1.NotificationDelivered))
		g.Expect(webhookState(h).State).To(Equal(v1alpha1.NotificationPending))
	}
	g.Expect(HasPending(a)).To(BeTrue())
	g.Expect(Undelivered(a.Status.History[0])).To(ConsistOf(HaveField("Sink", v1alpha1.SinkWebhook)))
}

func TestUndeliveredAndMarkPending(t *testing.T) {
	g := NewWithT(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	a := pendingAccount(now)
	webhookState(a.Status.History[1]).State = v1alpha1.NotificationDelivered
	g.Expect(Undelivered(a.Status.History[0])).To(HaveLen(1))
	g.Expect(Undelivered(a.Status.History[1])).To(BeEmpty())

	entry := v1alpha1.Transition{To: v1alpha1.PhaseWarned, At: metav1.NewTime(now)}
	MarkPending(a, &v1alpha1.AccountPolicy{}, &entry)
	g.Expect(entry.Notifications).To(BeEmpty(), "no sink in the policy: nothing to deliver")
	hooked := &v1alpha1.AccountPolicy{Spec: v1alpha1.AccountPolicySpec{Notifications: v1alpha1.Notifications{Webhook: v1alpha1.Webhook{URL: "https://hooks.example"}}}}
	MarkPending(a, hooked, &entry)
	g.Expect(entry.Notifications).To(HaveLen(1))
	g.Expect(webhookState(entry).State).To(Equal(v1alpha1.NotificationPending))
	g.Expect(webhookState(entry).ID).To(Equal(EventID(a.UID, entry)))
}

// The registry is the one list of sinks: the API's enum of sink names and
// its bound on deliveries per entry follow it, and no two sinks share a
// name, so a sink cannot be added on one side only.
func TestAPINamesExactlyTheRegisteredSinks(t *testing.T) {
	var registered []string
	for _, s := range Sinks(Deps{}) {
		registered = append(registered, string(s.Name()))
	}
	slices.Sort(registered)
	if len(slices.Compact(slices.Clone(registered))) != len(registered) {
		t.Fatalf("two sinks share a name: %v", registered)
	}
	list, err := manifests.SchemaAt(filepath.Join("..", "..", "config", "crd", "bases", "accounts.lifecycle.dev_customeraccounts.yaml"),
		"properties.status.properties.history.items.properties.notifications")
	if err != nil {
		t.Fatal(err)
	}
	var enum []string
	for _, v := range list["items"].(map[string]any)["properties"].(map[string]any)["sink"].(map[string]any)["enum"].([]any) {
		enum = append(enum, v.(string))
	}
	if slices.Sort(enum); !slices.Equal(enum, registered) {
		t.Errorf("the API's NotificationSink enum is %v, the registered sinks %v", enum, registered)
	}
	if max := list["maxItems"].(int64); max < int64(len(registered)) {
		t.Errorf("history[].notifications holds at most %d, %d sinks are registered", max, len(registered))
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"120":                           2 * time.Minute,
		" 5 ":                           5 * time.Second,
		"-3":                            0,
		"soon":                          0,
		"99999999999":                   maxRetryAfter,
		"Tue, 01 Dec 2026 12:10:00 GMT": 10 * time.Minute,
		"Tue, 01 Dec 2026 11:00:00 GMT": 0, // in the past
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}
