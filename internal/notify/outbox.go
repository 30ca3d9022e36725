package notify

import (
	"context"
	"errors"
	"net/http"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/text"
)

// The outbox is status.history: a new entry is marked Pending (MarkPending)
// for each sink its policy sends to, the account reconciler's status write
// makes it durable, and an Outbox per sink delivers the persisted Pending
// entries, oldest first, until the sink acknowledges them. Nothing is held
// in memory, so restarts lose nothing, and enforcement never waits on a
// delivery.

// Sink is somewhere transitions are delivered. The CloudEvents webhook
// (Notifier) is one; another is one file implementing this, one line in
// Sinks and its name in the API's NotificationSink enum.
type Sink interface {
	// Name is the sink's name in status (history[].notifications[].sink).
	Name() v1alpha1.NotificationSink
	// Endpoint is where the policy has this sink send (deliveries to one
	// endpoint are bounded together), or "" when the policy uses none.
	Endpoint(policy *v1alpha1.AccountPolicy) string
	// Deliver sends one history entry; an error means try again later.
	Deliver(ctx context.Context, account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, entry v1alpha1.Transition) error
}

// Retry backoff: RetryBase after the first failure, doubling, capped.
const (
	RetryBase = time.Second
	RetryCap  = 10 * time.Minute
)

// RetryDelay is the backoff after the given number of failed attempts.
func RetryDelay(attempts int32) time.Duration {
	d := RetryBase
	for i := int32(1); i < attempts && d < RetryCap; i++ {
		d *= 2
	}
	return min(d, RetryCap)
}

// Deps are what the sinks deliver with.
type Deps struct {
	// HTTP sends webhook requests; nil uses a client with a Timeout.
	HTTP *http.Client
	// Secrets reads signing Secrets (uncached in the manager).
	Secrets client.Reader
	// Namespace is the operator's namespace, where signing Secrets live.
	Namespace string
}

// Sinks are every sink the operator delivers to, in order. Adding a sink is
// one file implementing Sink and one line here.
func Sinks(d Deps) []Sink {
	return []Sink{
		&Notifier{Deps: d},
	}
}

// MarkPending marks a newly recorded history entry for delivery to each
// sink the policy sends to. The event id is fixed now, so every retry of
// the transition, to any sink, by any manager, carries the same id.
func MarkPending(account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, entry *v1alpha1.Transition) {
	entry.Notifications = nil
	for _, s := range Sinks(Deps{}) {
		if s.Endpoint(policy) == "" {
			continue
		}
		entry.Notifications = append(entry.Notifications, v1alpha1.NotificationStatus{
			Sink:  s.Name(),
			State: v1alpha1.NotificationPending,
			ID:    EventID(account.UID, *entry),
		})
	}
}

// HasPending says whether any entry of the history waits for delivery.
func HasPending(account *v1alpha1.CustomerAccount) bool {
	for _, t := range account.Status.History {
		if len(Undelivered(t)) > 0 {
			return true
		}
	}
	return false
}

// Undelivered are the entry's deliveries still Pending.
func Undelivered(t v1alpha1.Transition) []v1alpha1.NotificationStatus {
	var out []v1alpha1.NotificationStatus
	for _, n := range t.Notifications {
		if isPending(&n) {
			out = append(out, n)
		}
	}
	return out
}

func isPending(n *v1alpha1.NotificationStatus) bool {
	return n != nil && n.State == v1alpha1.NotificationPending
}

// Outcome is one delivery attempt, for the caller to count and announce.
type Outcome struct {
	// Entry is the history entry.
	Entry *v1alpha1.Transition
	// Status is the entry's delivery state for the sink, updated (its state
	// says delivered, pending again, or abandoned).
	Status *v1alpha1.NotificationStatus
	// Err is the failure (nil: delivered).
	Err error
	// FailedBefore is how many attempts had failed before this one.
	FailedBefore int32
}

// Outbox delivers an account's entries Pending for one sink.
type Outbox struct {
	Sink  Sink
	Clock clock.PassiveClock
	// Current reports whether the account as read is the one on the API
	// server; nil trusts it. The account read from a cache may predate the
	// last status write recording a delivery: acting on it would send
	// again, so delivery happens only from a current view.
	Current func(ctx context.Context, account *v1alpha1.CustomerAccount) (bool, error)
}

// Deliver delivers the due entries of account's history Pending for the
// sink, oldest first, updating their notification status in place. Delivery is in
// order: an entry waits behind an older undelivered one, and the first
// failure ends the round (the endpoint is probably down; the rest would
// only wait for their timeouts). It returns when to try again (nil:
// nothing pending) and what it attempted.
func (o *Outbox) Deliver(ctx context.Context, account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, now time.Time) (*time.Time, []Outcome) {
	var outcomes []Outcome
	checked := false
	history := account.Status.History
	for i := len(history) - 1; i >= 0; i-- {
		entry := &history[i]
		n := entry.NotificationTo(o.Sink.Name())
		if !isPending(n) {
			continue
		}
		if n.NextAttempt != nil && n.NextAttempt.After(now) {
			next := n.NextAttempt.Time
			return &next, outcomes
		}
		if !checked && o.Current != nil {
			current, err := o.Current(ctx, account)
			if err != nil || !current {
				soon := now
				return &soon, outcomes
			}
		}
		checked = true
		err := o.Sink.Deliver(ctx, account, policy, *entry)
		attempts := ptr.Deref(n.Attempts, 0)
		outcomes = append(outcomes, Outcome{Entry: entry, Status: n, Err: err, FailedBefore: attempts})
		n.Attempts = ptr.To(attempts + 1)
		at := metav1.NewTime(now)
		n.LastAttempt = &at
		var permanent interface{ Permanent() bool }
		switch {
		case err == nil:
			n.State = v1alpha1.NotificationDelivered
			n.NextAttempt = nil
			n.Message = ""
			continue
		case errors.As(err, &permanent) && permanent.Permanent():
			// Gone for good: no retry, and the younger entries are tried
			// (each is abandoned in turn if the endpoint stays gone).
			n.State = v1alpha1.NotificationAbandoned
			n.NextAttempt = nil
			n.Message = text.Truncate("delivery stopped: "+err.Error(), 1024)
			continue
		}
		// From the real clock, rounded up to the whole second status keeps:
		// the retry never comes earlier than the backoff, nor than the wait
		// the endpoint asked for.
		delay := RetryDelay(attempts + 1)
		var asked interface{ RetryAfter() time.Duration }
		if errors.As(err, &asked) {
			delay = max(delay, asked.RetryAfter())
		}
		next := v1alpha1.CeilSecond(o.Clock.Now().Add(delay))
		n.NextAttempt = &metav1.Time{Time: next}
		n.Message = text.Truncate(err.Error(), 1024)
		return &next, outcomes
	}
	return nil, outcomes
}
