// Command manager runs the account-lifecycle-operator controllers.
package main

import (
	"flag"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/accountops/account-lifecycle-operator/internal/controller"
)

func main() {
	var (
		metricsAddr, probeAddr, pprofAddr, operatorNamespace string
		leaderElect, secureMetrics                           bool
		accountWorkers                                       int
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "Address the metrics endpoint binds to; \"0\" disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the health probe endpoint binds to.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "", "Address net/http/pprof is served on (for profiling; empty, the default, disables it).")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Enable leader election so only one manager is active.")
	flag.BoolVar(&secureMetrics, "metrics-secure", false,
		"Serve metrics over HTTPS to authenticated clients allowed to get the /metrics URL (the account-lifecycle-metrics-reader ClusterRole); anonymous requests are refused.")
	flag.StringVar(&operatorNamespace, "operator-namespace", envOr("POD_NAMESPACE", "account-lifecycle-operator-system"),
		"Namespace the operator runs in: never enforced on, and where access records are kept.")
	flag.IntVar(&accountWorkers, "account-workers", controller.DefaultAccountWorkers,
		"How many accounts are reconciled at once. More use more of the API server's capacity; see docs/performance.md.")
	// Production logging (JSON, info level, no colour) unless --zap-devel.
	opts := zap.Options{Development: false}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	setupLog := ctrl.Log.WithName("setup")

	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme: controller.NewScheme(),
		Client: controller.ClientOptions(), Cache: controller.CacheOptions(),
		Metrics:                controller.MetricsOptions(metricsAddr, secureMetrics),
		HealthProbeBindAddress: probeAddr,
		PprofBindAddress:       pprofAddr,
		LeaderElection:         leaderElect,
		LeaderElectionID:       "account-lifecycle-operator.accounts.lifecycle.dev",
	})
	if err != nil {
		setupLog.Error(err, "unable to create manager")
		os.Exit(1)
	}

	if accountWorkers < 1 {
		setupLog.Error(nil, "--account-workers must be at least 1", "value", accountWorkers)
		os.Exit(1)
	}
	options := controller.DefaultOptions(mgr, operatorNamespace)
	options.AccountWorkers = accountWorkers
	if err := controller.SetupAll(mgr, options); err != nil {
		setupLog.Error(err, "unable to set up controllers")
		os.Exit(1)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "unable to set up health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "unable to set up ready check")
		os.Exit(1)
	}

	setupLog.Info("starting manager", "operatorNamespace", operatorNamespace)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "problem running manager")
		os.Exit(1)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
