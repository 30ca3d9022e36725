package controller_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/accountops/account-lifecycle-operator/internal/controller"
	"github.com/accountops/account-lifecycle-operator/internal/enforcement"
	"github.com/accountops/account-lifecycle-operator/internal/manifests"
	"github.com/accountops/account-lifecycle-operator/internal/notify"
	"github.com/accountops/account-lifecycle-operator/internal/notify/notifytest"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

const operatorNamespace = "account-lifecycle-operator-system"

var (
	cfg       *rest.Config
	k8s       client.Client // direct client: what a user sees
	scheme    = controller.NewScheme()
	uniqueSeq atomic.Int64
	// hooks is the webhook endpoint the suite's manager delivers to (HTTPS
	// on loopback); each test uses its own path.
	hooks *notifytest.Receiver
)

// TestMain starts a real kube-apiserver with the CRDs and admission policy
// installed, and the manager with the real clock: the stories below use
// short periods so the exact requeue at nextEvaluation is what moves them.
func TestMain(m *testing.M) {
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(zapLevel())))
	os.Exit(testenv.Main(m, testenv.Options{Scheme: scheme}, startManager))
}

// startManager installs what `make install` does and runs the manager.
func startManager(env *testenv.Env) (func(), error) {
	cfg, k8s = env.Config, env.Client
	ctx, cancel := context.WithCancel(context.Background())
	ns := &corev1.Namespace{}
	ns.Name = operatorNamespace
	if err := k8s.Create(ctx, ns); err != nil {
		cancel()
		return nil, err
	}
	if err := manifests.ApplyDir(ctx, k8s, filepath.Join("..", "..", "config", "admission"), "suite"); err != nil {
		cancel()
		return nil, err
	}
	hooks = notifytest.NewReceiver()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme,
		Client: controller.ClientOptions(), Cache: controller.CacheOptions(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err == nil {
		err = controller.SetupAll(mgr, controller.Options{
			Clock:             clock.RealClock{},
			OperatorNamespace: operatorNamespace,
			Enforcer:          &enforcement.Enforcer{Client: mgr.GetClient(), OperatorNamespace: operatorNamespace, Metadata: mgr.GetCache()},
			Sinks:             notify.Sinks(notify.Deps{HTTP: hooks.Client(), Secrets: mgr.GetClient(), Namespace: operatorNamespace}),
		})
	}
	if err != nil {
		cancel()
		hooks.Close()
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
		hooks.Close()
	}, nil
}

func zapLevel() zapcore.Level {
	if os.Getenv("TEST_VERBOSE_MANAGER") != "" {
		return -1
	}
	return 2 // errors only: keep `make test` output readable
}

// unique returns a name no other test uses, so tests share one apiserver.
func unique(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, uniqueSeq.Add(1))
}

// eventually is the polling interval and bound for waiting on the manager.
const (
	waitFor  = 30 * time.Second
	pollEach = 100 * time.Millisecond
)
