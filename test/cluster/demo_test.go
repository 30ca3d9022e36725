package cluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// The demo the README promises (make demo) runs as written, end to end,
// against this cluster: it fails on the first command that does not do
// what it says, and on a refusal that does not come.
func TestDemoTellsTheWholeStory(t *testing.T) {
	t.Parallel()
	testenv.Require(t)
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatal("the demo needs kubectl on PATH, as the README says")
	}
	root := filepath.Join("..", "..")
	plugins := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(plugins, "kubectl-account"), "./cmd/kubectl-account")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the plugin: %v\n%s", err, out)
	}
	demo := exec.Command("bash", filepath.Join("hack", "demo.sh"))
	demo.Dir = root
	demo.Env = append(os.Environ(), "KUBECONFIG="+env.Kubeconfig, "DEMO_PLUGIN_DIR="+plugins)
	out, err := demo.CombinedOutput()
	if err != nil {
		t.Fatalf("the demo failed: %v\n%s", err, out)
	}
	for _, want := range []string{
		"namespace acme-shop is frozen: account acme is in phase FinalNotice",
		`User "wile@acme.example" cannot list resource "configmaps"`,
		"No resources found in acme-shop namespace.",
		"configmap/welcome-back created",
		"Done: Good -> Warned -> FinalNotice -> Terminated -> Good",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, out)
		}
	}
}
