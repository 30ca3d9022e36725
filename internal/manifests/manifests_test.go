package manifests_test

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/accountops/account-lifecycle-operator/internal/controller"
	"github.com/accountops/account-lifecycle-operator/internal/manifests"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// The shipped install manifests are accepted by a real API server: what
// `make deploy` applies (kustomize config/default) and what the local run
// and test suites install (ApplyDir on config/admission).
func TestShippedManifestsApply(t *testing.T) {
	env := testenv.ForTest(t, testenv.Options{NoCRDs: true, Scheme: controller.NewScheme()})
	c := env.Client

	root := filepath.Join("..", "..")
	if err := manifests.ApplyDir(context.Background(), c, filepath.Join(root, "config", "admission"), "test"); err != nil {
		t.Fatal(err)
	}
	var policies admissionregistrationv1.ValidatingAdmissionPolicyList
	if err := c.List(context.Background(), &policies); err != nil {
		t.Fatal(err)
	}
	if len(policies.Items) == 0 {
		t.Fatal("ApplyDir installed no ValidatingAdmissionPolicy from config/admission")
	}

	// A server-side dry run creates nothing, so the namespaced objects need
	// their namespace to exist already (a real apply creates it first).
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "account-lifecycle-operator-system"}}
	if err := c.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	kubeconfig := env.Kubeconfig
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", "--kubeconfig", kubeconfig, "--cache-dir", t.TempDir(),
		"apply", "--server-side", "--force-conflicts", "--dry-run=server", "-k", filepath.Join(root, "config", "default"))
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl apply -k config/default: %v\n%s%s", err, out.String(), stderr.String())
	}
	for _, want := range []string{
		"customresourcedefinition.apiextensions.k8s.io/customeraccounts.accounts.lifecycle.dev",
		"clusterrole.rbac.authorization.k8s.io/account-lifecycle-operator-manager",
		"role.rbac.authorization.k8s.io/account-lifecycle-operator-manager",
		"rolebinding.rbac.authorization.k8s.io/account-lifecycle-operator-manager",
		"deployment.apps/account-lifecycle-operator-controller-manager",
		"validatingadmissionpolicybinding.admissionregistration.k8s.io/",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("config/default does not install %s; kubectl said:\n%s", want, out.String())
		}
	}
}
