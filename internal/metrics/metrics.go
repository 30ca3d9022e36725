// Package metrics registers the operator's Prometheus metrics with the
// controller-runtime registry, served on the manager's metrics endpoint.
package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

var (
	// Transitions counts phase transitions by from and to phase.
	Transitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "account_lifecycle_transitions_total",
		Help: "Phase transitions of customer accounts.",
	}, []string{"from", "to"})

	// EnforcementErrors counts reconciles whose enforcement failed.
	EnforcementErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "account_lifecycle_enforcement_errors_total",
		Help: "Reconciles in which enforcing or restoring namespaces failed.",
	})

	// AccountsByPhase is the number of accounts in each phase, per policy.
	AccountsByPhase = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "account_lifecycle_accounts",
		Help: "Customer accounts governed by each policy, per phase.",
	}, []string{"policy", "phase"})

	// Notifications counts webhook delivery attempts by result: delivered,
	// failed (will be retried), dropped (trimmed from history undelivered),
	// abandoned (the endpoint answered 410 Gone).
	Notifications = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "account_lifecycle_notifications_total",
		Help: "Webhook notification attempts by result (delivered, failed, dropped, abandoned).",
	}, []string{"result"})
)

// Values of the Notifications result label.
const (
	NotificationDelivered = "delivered"
	NotificationFailed    = "failed"
	NotificationDropped   = "dropped"
	// NotificationAbandoned: the endpoint answered 410 Gone.
	NotificationAbandoned = "abandoned"
)

func init() {
	crmetrics.Registry.MustRegister(Transitions, EnforcementErrors, AccountsByPhase, Notifications, pending, awaitingApproval, appealsPending)
	// Every known series exists from the start at 0, so a rate() or an
	// alert on one works before its first increment.
	for _, from := range v1alpha1.Phases {
		for _, to := range v1alpha1.Phases {
			if from != to {
				Transitions.WithLabelValues(string(from), string(to))
			}
		}
	}
	for _, r := range []string{NotificationDelivered, NotificationFailed, NotificationDropped, NotificationAbandoned} {
		Notifications.WithLabelValues(r)
	}
}

// PendingSource counts, at each scrape, the notifications still pending
// delivery and the moment of the oldest one's transition (zero: none).
type PendingSource func() (count int, oldest time.Time, err error)

// SetPendingSource sets where the pending-notification gauges come from
// (the manager's cache of accounts); until set they report nothing.
func SetPendingSource(src PendingSource, now func() time.Time) {
	pending.src.Store(&pendingSource{src, now})
}

// SetDecisionSources set where the gauges of decisions waiting for people
// come from: accounts whose termination waits for approval (with the moment
// the oldest entered FinalNotice) and undecided appeals (with the moment
// the oldest was filed), so a team can hold itself to a response time.
func SetDecisionSources(approvals, appeals PendingSource, now func() time.Time) {
	awaitingApproval.src.Store(&pendingSource{approvals, now})
	appealsPending.src.Store(&pendingSource{appeals, now})
}

var pending = &pendingCollector{
	count: prometheus.NewDesc("account_lifecycle_notifications_pending",
		"Notifications recorded in accounts' history and not yet delivered.", nil, nil),
	age: prometheus.NewDesc("account_lifecycle_notification_oldest_pending_seconds",
		"Age of the oldest undelivered notification's transition (0 when none is pending).", nil, nil),
}

var awaitingApproval = &pendingCollector{
	count: prometheus.NewDesc("account_lifecycle_accounts_awaiting_approval",
		"Accounts in FinalNotice whose termination waits for approval (TerminationPending reason AwaitingApproval).", nil, nil),
	age: prometheus.NewDesc("account_lifecycle_approval_oldest_wait_seconds",
		"Time since the oldest account awaiting approval entered its FinalNotice (0 when none waits).", nil, nil),
}

var appealsPending = &pendingCollector{
	count: prometheus.NewDesc("account_lifecycle_appeals_pending",
		"Appeals of incidents filed and not yet decided.", nil, nil),
	age: prometheus.NewDesc("account_lifecycle_appeal_oldest_pending_seconds",
		"Age of the oldest undecided appeal (0 when none is pending).", nil, nil),
}

type pendingSource struct {
	src PendingSource
	now func() time.Time
}

// pendingCollector computes a count and an age when scraped, from the
// cache: no bookkeeping on the paths that change them, and never stale.
type pendingCollector struct {
	count, age *prometheus.Desc
	src        atomic.Pointer[pendingSource]
}

func (c *pendingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.count; ch <- c.age }

func (c *pendingCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Load()
	if s == nil {
		return
	}
	n, oldest, err := s.src()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.count, err)
		return
	}
	age := 0.0
	if n > 0 && !oldest.IsZero() {
		age = max(s.now().Sub(oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
}
