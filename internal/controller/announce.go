package controller

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/lifecycle"
	"github.com/accountops/account-lifecycle-operator/internal/notify"
	"github.com/accountops/account-lifecycle-operator/internal/text"
)

// Transition Events are announced from status.history, not from memory: an
// Event named after the transition's deterministic id is created once the
// status write recording it succeeded, and a manager that dies in between
// leaves the newest entry unannounced, which the next reconcile (by any
// manager) announces. The fixed name makes a second announcement of the
// same transition an AlreadyExists, not a duplicate. Entries older than
// announceWithin are not announced late: the API server has expired their
// Events by then, so announcing them again would repeat, not recover.
const (
	// ReportingController names the operator in the Events it writes.
	ReportingController = "accounts.lifecycle.dev/account-lifecycle-operator"
	// announceWithin stays under the API server's default 1h Event TTL.
	announceWithin = 50 * time.Minute
)

// announcer remembers which transition Events this process has written,
// so a settled account costs no write; the API server is the real record.
type announcer struct {
	mu        sync.Mutex
	done      map[string]time.Time // event name -> transition time
	lastSweep time.Time
}

// announceAll announces the recorded transitions recent enough to announce,
// oldest first (usually just the newest one).
func (a *announcer) announceAll(ctx context.Context, c client.Client, account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, now time.Time) {
	h := account.Status.History
	for i := len(h) - 1; i >= 0; i-- {
		a.announce(ctx, c, account, policy, h[i], now)
	}
}

// announce writes the Event of a persisted history entry unless this
// process already did, or it is too old to announce.
func (a *announcer) announce(ctx context.Context, c client.Client, account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, entry v1alpha1.Transition, now time.Time) {
	if now.Sub(entry.At.Time) > announceWithin {
		return
	}
	name := transitionEventName(account, entry)
	a.mu.Lock()
	if a.done == nil {
		a.done = map[string]time.Time{}
	}
	_, seen := a.done[name]
	// Forget what is too old to announce again, at most once a minute: a
	// sweep on every call would cost a wave of transitions quadratic time.
	if now.Sub(a.lastSweep) > time.Minute {
		for n, at := range a.done {
			if now.Sub(at) > announceWithin {
				delete(a.done, n)
			}
		}
		a.lastSweep = now
	}
	a.mu.Unlock()
	if seen {
		return
	}
	err := c.Create(ctx, transitionEvent(name, account, policy, entry))
	if err != nil && !apierrors.IsAlreadyExists(err) {
		// Retried by the next reconcile of the account.
		log.FromContext(ctx).Error(err, "announcing transition", "event", name)
		return
	}
	a.mu.Lock()
	a.done[name] = entry.At.Time
	a.mu.Unlock()
}

func transitionEventName(account *v1alpha1.CustomerAccount, entry v1alpha1.Transition) string {
	return fmt.Sprintf("%s.%s", account.Name, notify.EventID(account.UID, entry)[:16])
}

// transitionEvent is the Event for a phase change, carrying the policy's
// courteous message for the phase entered. Events about a cluster-scoped
// object live in the default namespace, as client-go's recorder puts them.
func transitionEvent(name string, account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, t v1alpha1.Transition) *eventsv1.Event {
	eventType := corev1.EventTypeNormal
	if t.To == v1alpha1.PhaseFinalNotice || t.To == v1alpha1.PhaseTerminated {
		eventType = corev1.EventTypeWarning
	}
	// The message says why and what next, the courtesy text (on
	// termination, the referral) follows, and the statement adds the
	// counted incidents and how to appeal: the part cut first when the
	// note is too long for an Event (the notification carries it whole).
	note := t.Message
	if courtesy := policy.Spec.Messages.For(t.From, t.To); courtesy != "" {
		note = note + " " + courtesy
	}
	if s := lifecycle.StatementFor(account, policy, t).Text(); s != "" {
		note += " " + s
	}
	host, _ := os.Hostname()
	return &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: name, Namespace: metav1.NamespaceDefault},
		EventTime:           metav1.NewMicroTime(t.At.Time),
		ReportingController: ReportingController,
		ReportingInstance:   text.Truncate(ReportingController+"-"+host, 128),
		Action:              "Transition",
		Reason:              t.Reason,
		Regarding: corev1.ObjectReference{
			APIVersion: v1alpha1.GroupVersion.String(), Kind: "CustomerAccount",
			Name: account.Name, UID: account.UID, ResourceVersion: account.ResourceVersion,
		},
		Note: text.Truncate(note, 1024),
		Type: eventType,
	}
}
