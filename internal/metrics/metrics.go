// Package metrics registers the operator's Prometheus metrics with the
// controller-runtime registry, served on the manager's metrics endpoint.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
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
	// failed (will be retried), dropped (trimmed from history undelivered).
	Notifications = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "account_lifecycle_notifications_total",
		Help: "Webhook notification attempts by result (delivered, failed, dropped).",
	}, []string{"result"})
)

// Values of the Notifications result label.
const (
	NotificationDelivered = "delivered"
	NotificationFailed    = "failed"
	NotificationDropped   = "dropped"
)

func init() {
	crmetrics.Registry.MustRegister(Transitions, EnforcementErrors, AccountsByPhase, Notifications)
}
