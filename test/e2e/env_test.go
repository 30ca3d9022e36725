package e2e

import (
	"context"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/accountops/account-lifecycle-operator/internal/controller"
	"github.com/accountops/account-lifecycle-operator/internal/manifests"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// root is the repository root, where config/ lives.
var root = filepath.Join("..", "..")

// controlPlane starts a real kube-apiserver with the CRDs, the operator's
// namespace and the shipped admission policies, as `make install` leaves a
// cluster; it is stopped when the test ends.
func controlPlane(t *testing.T, g Gomega) (*envtest.Environment, *rest.Config, client.Client) {
	t.Helper()
	env := testenv.ForTest(t, testenv.Options{Scheme: controller.NewScheme()})
	admin := env.Client
	ctx := context.Background()
	g.Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}})).To(Succeed())
	g.Expect(manifests.ApplyDir(ctx, admin, filepath.Join(root, "config", "admission"), "e2e")).To(Succeed())
	return env.Environment, env.Config, admin
}

// startManager runs the operator's manager against cfg with the production
// wiring (controller.DefaultOptions), which wire may adjust; cancel stops it
// as a crash would. stop stops it and returns what the manager returned.
func startManager(g Gomega, cfg *rest.Config,
	wire func(mgr ctrl.Manager, cancel context.CancelFunc, o *controller.Options)) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: controller.NewScheme(), Client: controller.ClientOptions(), Cache: controller.CacheOptions(),
		Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		// Each test (and each go test -count run) starts a fresh manager in
		// this process.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	g.Expect(err).NotTo(HaveOccurred())
	opts := controller.DefaultOptions(mgr, operatorNamespace)
	if wire != nil {
		wire(mgr, cancel, &opts)
	}
	g.Expect(controller.SetupAll(mgr, opts)).To(Succeed())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	return func() error { cancel(); return <-done }
}
