package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/accountops/account-lifecycle-operator/internal/controller"
	"github.com/accountops/account-lifecycle-operator/internal/manifests"
)

// --metrics-secure serves the metrics only to a client the API server
// authenticates and allows to get /metrics: an anonymous scrape and a
// scraper without the metrics-reader role are refused. The manager runs as
// its service account, so its generated RBAC is what makes the checks work.
func TestSecureMetricsServeOnlyAllowedScrapers(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	env, cfg, admin := controlPlane(t, g)
	g.Expect(manifests.ApplyDir(ctx, admin, filepath.Join(root, "config", "rbac"), "e2e")).To(Succeed())
	operator, err := env.AddUser(envtest.User{Name: operatorUser,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + operatorNamespace}}, nil)
	g.Expect(err).NotTo(HaveOccurred())

	addr := freeAddress(g)
	mctx, cancel := context.WithCancel(ctx)
	mgr, err := ctrl.NewManager(operator.Config(), ctrl.Options{
		Scheme: controller.NewScheme(), Client: controller.ClientOptions(), Cache: controller.CacheOptions(),
		Metrics: controller.MetricsOptions(addr, true), HealthProbeBindAddress: "0",
	})
	g.Expect(err).NotTo(HaveOccurred())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	t.Cleanup(func() { cancel(); g.Expect(<-done).To(Succeed()) })

	// Two service accounts with tokens: Prometheus', bound to the
	// metrics-reader role, and an intruder's. (The manager caches the API
	// server's answers for a minute, so each is asked about once.)
	cs, err := kubernetes.NewForConfig(cfg)
	g.Expect(err).NotTo(HaveOccurred())
	token := func(name string) string {
		g.Expect(admin.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: operatorNamespace}})).To(Succeed())
		tr, err := cs.CoreV1().ServiceAccounts(operatorNamespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		return tr.Status.Token
	}
	prometheus, intruder := token("prometheus"), token("intruder")
	g.Expect(admin.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "prometheus-reads-metrics"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "prometheus", Namespace: operatorNamespace}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "account-lifecycle-metrics-reader"},
	})).To(Succeed())

	scrape := func(token string) (int, string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+addr+"/metrics", nil)
		g.Expect(err).NotTo(HaveOccurred())
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		// The manager's certificate is self-signed; the point here is who
		// may read, not who is serving.
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // see above
		resp, err := c.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	g.Eventually(func() int { code, _ := scrape(""); return code }, waitFor, pollEach).Should(Equal(http.StatusUnauthorized), "an anonymous scrape")
	code, _ := scrape(intruder)
	g.Expect(code).To(Equal(http.StatusForbidden), "a scraper without the metrics-reader role")
	code, body := scrape(prometheus)
	g.Expect(code).To(Equal(http.StatusOK))
	g.Expect(body).To(ContainSubstring("account_lifecycle_notifications_total"))
}

// freeAddress is a loopback address with a port nothing listens on now.
func freeAddress(g Gomega) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = l.Close() }()
	return fmt.Sprintf("127.0.0.1:%d", l.Addr().(*net.TCPAddr).Port)
}
