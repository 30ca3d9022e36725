package e2e

import (
	"context"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/accountops/account-lifecycle-operator/internal/controller"
	"github.com/accountops/account-lifecycle-operator/internal/manifests"
)

// root is the repository root, where config/ lives.
var root = filepath.Join("..", "..")

// controlPlane starts a real kube-apiserver with the CRDs, the operator's
// namespace and the shipped admission policies, as `make install` leaves a
// cluster; it is stopped when the test ends.
func controlPlane(t *testing.T, g Gomega) (*envtest.Environment, *rest.Config, client.Client) {
	t.Helper()
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	g.Expect(err).NotTo(HaveOccurred(), "starting envtest (run via `make test`, which sets KUBEBUILDER_ASSETS)")
	t.Cleanup(func() { _ = env.Stop() })
	admin, err := client.New(cfg, client.Options{Scheme: controller.NewScheme()})
	g.Expect(err).NotTo(HaveOccurred())
	ctx := context.Background()
	g.Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}})).To(Succeed())
	g.Expect(manifests.ApplyDir(ctx, admin, filepath.Join(root, "config", "admission"), "e2e")).To(Succeed())
	return env, cfg, admin
}
