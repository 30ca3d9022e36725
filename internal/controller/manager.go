package controller

import (
	"context"
	"crypto/tls"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/enforcement"
	"github.com/accountops/account-lifecycle-operator/internal/metrics"
	"github.com/accountops/account-lifecycle-operator/internal/notify"
	"github.com/accountops/account-lifecycle-operator/internal/slim"
)

// NewScheme knows the built-in kinds and this operator's API.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1alpha1.AddToScheme(s))
	return s
}

// CacheOptions is how the manager caches: managed fields are dropped before
// objects enter the cache (the operator never reads them, and they are
// often the larger part of an object), and accounts are compacted
// (internal/slim): the account cache is most of the operator's memory.
func CacheOptions() cache.Options {
	return cache.Options{DefaultTransform: slim.Transform()}
}

// ClientOptions is how the manager's client reads: see UncachedObjects.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{DisableFor: UncachedObjects()}}
}

// Options wires the controllers; tests pass their own clock.
type Options struct {
	// Client is what the controllers read and write through; nil uses the
	// manager's. Tests wrap it to inject faults.
	Client            client.Client
	Clock             clock.PassiveClock
	OperatorNamespace string
	Enforcer          *enforcement.Enforcer
	// Sinks deliver transitions (notify.Sinks); none leaves pending
	// notifications pending.
	Sinks []notify.Sink
	// AccountWorkers is how many accounts are reconciled at once; 0 uses
	// DefaultAccountWorkers.
	AccountWorkers int
}

// DefaultOptions are the production wiring: the real clock, an enforcer and
// every sink, using the manager's client (which does not cache Secrets, see
// UncachedObjects), state kept in operatorNamespace.
func DefaultOptions(mgr ctrl.Manager, operatorNamespace string) Options {
	return Options{
		Clock:             clock.RealClock{},
		OperatorNamespace: operatorNamespace,
		Enforcer: &enforcement.Enforcer{
			Client: mgr.GetClient(), OperatorNamespace: operatorNamespace,
			// The metadata informers of the drift watches.
			Metadata: mgr.GetCache(),
			Live:     mgr.GetAPIReader(),
		},
		Sinks: notify.Sinks(notify.Deps{
			HTTP:      &http.Client{Timeout: notify.Timeout},
			Secrets:   mgr.GetClient(),
			Namespace: operatorNamespace,
		}),
	}
}

// SetupAll registers every controller of the operator with the manager,
// and the pending-notification gauges, read from its cache at each scrape.
func SetupAll(mgr ctrl.Manager, opts Options) error {
	now := clock.PassiveClock(clock.RealClock{})
	if opts.Clock != nil {
		now = opts.Clock
	}
	metrics.SetPendingSource(func() (int, time.Time, error) {
		return pendingNotifications(context.Background(), mgr.GetCache())
	}, now.Now)
	metrics.SetDecisionSources(func() (int, time.Time, error) {
		return awaitingApproval(context.Background(), mgr.GetCache())
	}, func() (int, time.Time, error) {
		return pendingAppeals(context.Background(), mgr.GetCache())
	}, now.Now)
	recorder := mgr.GetEventRecorder("account-lifecycle-operator")
	c := opts.Client
	if c == nil {
		c = mgr.GetClient()
	}
	if err := (&CustomerAccountReconciler{
		Client:   c,
		Clock:    opts.Clock,
		Recorder: recorder,
		Enforcer: opts.Enforcer,
		Workers:  opts.AccountWorkers,
	}).SetupWithManager(mgr); err != nil {
		return err
	}
	if err := (&NotificationReconciler{
		Client:    c,
		Clock:     opts.Clock,
		Recorder:  recorder,
		Sinks:     opts.Sinks,
		APIReader: mgr.GetAPIReader(),
	}).SetupWithManager(mgr); err != nil {
		return err
	}
	return (&AccountPolicyReconciler{Client: c}).SetupWithManager(mgr)
}

// RBAC for --metrics-secure: the manager asks the API server who a scraper
// is and whether it may get /metrics.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// MetricsOptions serve the metrics on bindAddress; secure serves them over
// HTTPS and only to clients the API server authenticates (TokenReview) and
// authorizes to get the /metrics URL (SubjectAccessReview): anonymous
// scrapes are refused. HTTP/2 is off, as the Kubernetes advisories on
// HTTP/2 rapid reset advise for endpoints that do not need it.
func MetricsOptions(bindAddress string, secure bool) metricsserver.Options {
	o := metricsserver.Options{
		BindAddress:   bindAddress,
		SecureServing: secure,
		TLSOpts:       []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }},
	}
	if secure {
		o.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	return o
}

// UncachedObjects are read straight from the API server: every kind
// enforcement reads (enforcement.UncachedKinds). Enforcement reads them per
// tenant namespace only when it acts, so caching every Deployment, Secret
// and RoleBinding in the cluster would cost memory for nothing, and the
// operator may only read Secrets in its own namespace anyway.
func UncachedObjects() []client.Object {
	return enforcement.UncachedKinds()
}

// pendingNotifications counts the Pending deliveries (one per history entry
// and sink) of every cached account and finds the oldest one's transition
// time.
func pendingNotifications(ctx context.Context, c client.Reader) (int, time.Time, error) {
	return countAccounts(ctx, c, func(a *v1alpha1.CustomerAccount, add func(int, time.Time)) {
		for _, h := range a.Status.History {
			if pending := len(notify.Undelivered(h)); pending > 0 {
				add(pending, h.At.Time)
			}
		}
	})
}

// awaitingApproval counts the cached accounts whose termination waits for
// approval, and finds when the oldest of them entered FinalNotice.
func awaitingApproval(ctx context.Context, c client.Reader) (int, time.Time, error) {
	return countAccounts(ctx, c, func(a *v1alpha1.CustomerAccount, add func(int, time.Time)) {
		st := &a.Status
		c := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionTerminationPending)
		if st.Phase == v1alpha1.PhaseFinalNotice && c != nil && c.Status == metav1.ConditionTrue && c.Reason == v1alpha1.ReasonAwaitingApproval && st.PhaseSince != nil {
			add(1, st.PhaseSince.Time)
		}
	})
}

// pendingAppeals counts the undecided appeals of every cached account and
// finds when the oldest was filed.
func pendingAppeals(ctx context.Context, c client.Reader) (int, time.Time, error) {
	return countAccounts(ctx, c, func(a *v1alpha1.CustomerAccount, add func(int, time.Time)) {
		for _, inc := range a.Spec.Incidents {
			if ap := inc.Appeal; ap.IsDefined() && !ap.Decision.IsDefined() {
				add(1, ap.At.Time)
			}
		}
	})
}

// countAccounts lists the cached accounts without copying them and lets
// each add what it counts, with the moment of each; it returns the total
// and the oldest moment.
func countAccounts(ctx context.Context, c client.Reader, each func(a *v1alpha1.CustomerAccount, add func(n int, at time.Time))) (int, time.Time, error) {
	var list v1alpha1.CustomerAccountList
	if err := c.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return 0, time.Time{}, err
	}
	total, oldest := 0, time.Time{}
	add := func(n int, at time.Time) {
		total += n
		if oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
	}
	for i := range list.Items {
		each(&list.Items[i], add)
	}
	return total, oldest, nil
}
