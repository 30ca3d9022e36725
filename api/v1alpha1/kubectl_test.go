package v1alpha1_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// kubectl runs the real kubectl binary against the envtest apiserver. The
// timeout only keeps a wedged kubectl from hanging the suite.
func kubectl(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	base := []string{"--kubeconfig", kubeconfigPath, "--cache-dir", t.TempDir()}
	cmd := exec.CommandContext(ctx, "kubectl", append(base, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// ledgerManifest renders a CustomerAccount manifest holding the given incidents.
func ledgerManifest(t *testing.T, name string, ids ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: accounts.lifecycle.dev/v1alpha1\nkind: CustomerAccount\nmetadata:\n  name: %s\nspec:\n  incidents:\n", name)
	for _, id := range ids {
		fmt.Fprintf(&b, "  - id: %s\n    category: SupportLoad\n    occurredAt: \"2026-10-01T09:00:00Z\"\n"+
			"    reportedBy: support-tool\n    summary: Incident %s.\n", id, id)
	}
	path := filepath.Join(t.TempDir(), fmt.Sprintf("v%d.yaml", len(ids)))
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestKubectlApplyOfOlderManifestIsRejected: client-side apply of a manifest
// that predates a recorded incident would replace the list and drop it; the
// apiserver refuses, kubectl exits non-zero and tells the user to waive it.
func TestKubectlApplyOfOlderManifestIsRejected(t *testing.T) {
	testenv.Require(t)
	name := uniqueName("gitops")
	v1 := ledgerManifest(t, name, "inc-a")
	v2 := ledgerManifest(t, name, "inc-a", "inc-b")
	for _, f := range []string{v1, v2} {
		if out, stderr, err := kubectl(t, "apply", "-f", f); err != nil {
			t.Fatalf("kubectl apply -f %s: %v\n%s%s", filepath.Base(f), err, out, stderr)
		}
	}
	out, stderr, err := kubectl(t, "apply", "-f", v1)
	if err == nil {
		t.Fatalf("kubectl apply of the older manifest succeeded: %s", out)
	}
	if _, ok := err.(*exec.ExitError); !ok {
		t.Fatalf("kubectl did not run: %v", err)
	}
	for _, want := range []string{"is invalid", "spec.incidents", "recorded incidents cannot be removed", "waive it"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("kubectl stderr lacks %q:\n%s", want, stderr)
		}
	}
	if ids := incidentIDs(t, t.Context(), name); !reflect.DeepEqual(ids, []string{"inc-a", "inc-b"}) {
		t.Fatalf("incidents after the refused apply = %v, want [inc-a inc-b]", ids)
	}
}

// table splits kubectl's table output into rows of cells, cutting each line
// at the header's column starts so that empty cells stay empty.
func table(out string) [][]string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	var starts []int
	for i, r := range lines[0] {
		if r != ' ' && (i == 0 || lines[0][i-1] == ' ') {
			starts = append(starts, i)
		}
	}
	rows := make([][]string, len(lines))
	for li, line := range lines {
		for ci, start := range starts {
			end := len(line)
			if ci+1 < len(starts) {
				end = min(starts[ci+1], len(line))
			}
			cell := ""
			if start < end {
				cell = strings.TrimSpace(line[start:end])
			}
			rows[li] = append(rows[li], cell)
		}
	}
	return rows
}

// TestKubectlGetShortNamesAndColumns: `kubectl get acct` / `apol` resolve the
// short names and print the printer columns the operator's users rely on.
func TestKubectlGetShortNamesAndColumns(t *testing.T) {
	testenv.Require(t)
	ctx := t.Context()
	acct := &v1alpha1.CustomerAccount{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("columns")}, Spec: v1alpha1.CustomerAccountSpec{DisplayName: "Columns Ltd"}}
	if err := k8sClient.Create(ctx, acct); err != nil {
		t.Fatal(err)
	}
	now := metav1.Now()
	next := metav1.NewTime(now.Add(36 * time.Hour))
	acct.Status = v1alpha1.CustomerAccountStatus{
		Phase: v1alpha1.PhaseWarned, Score: ptr.To[int32](4), Policy: "standard",
		PrimaryConcern: v1alpha1.CategoryAbuse, NextEvaluation: &next,
		Conditions: []metav1.Condition{{Type: v1alpha1.ConditionAccessRestricted, Status: metav1.ConditionTrue,
			Reason: v1alpha1.ReasonRestricted, Message: "FreezeChanges in force", LastTransitionTime: now},
			{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonEvaluated, Message: "Score 4.", LastTransitionTime: now}},
	}
	if err := k8sClient.Status().Update(ctx, acct); err != nil {
		t.Fatal(err)
	}
	pol := policyObj(uniqueName("columns"), validPolicySpec())
	if err := k8sClient.Create(ctx, pol); err != nil {
		t.Fatal(err)
	}

	checks := []struct {
		args   []string
		header []string
		row    []string // leading cells of the object's row
		last   string   // last cell, when checked
	}{
		{[]string{"get", "acct", acct.Name}, []string{"NAME", "PHASE", "SCORE", "POLICY", "READY", "REASON", "RESTRICTED", "AGE"},
			[]string{acct.Name, "Warned", "4", "standard", "True", "Evaluated", "True"}, ""},
		{[]string{"get", "acct", acct.Name, "-o", "wide"},
			[]string{"NAME", "PHASE", "SCORE", "POLICY", "READY", "REASON", "RESTRICTED", "AGE", "NEXT", "CONCERN"},
			[]string{acct.Name, "Warned", "4", "standard", "True", "Evaluated", "True"}, "Abuse"},
		{[]string{"get", "apol", pol.GetName()},
			[]string{"NAME", "WARNED", "FINALNOTICE", "TERMINATED", "ACCOUNTS", "MODE", "READY", "AGE"},
			[]string{pol.GetName(), "3", "6", "10"}, ""},
	}
	for _, c := range checks {
		out, stderr, err := kubectl(t, c.args...)
		if err != nil {
			t.Fatalf("kubectl %v: %v\n%s", c.args, err, stderr)
		}
		t.Logf("kubectl %s\n%s", strings.Join(c.args, " "), out)
		rows := table(out)
		if len(rows) != 2 {
			t.Fatalf("kubectl %v printed %d lines:\n%s", c.args, len(rows), out)
		}
		if !reflect.DeepEqual(rows[0], c.header) {
			t.Errorf("kubectl %v header = %v, want %v", c.args, rows[0], c.header)
		}
		if len(rows[1]) != len(c.header) || !reflect.DeepEqual(rows[1][:len(c.row)], c.row) {
			t.Errorf("kubectl %v row = %v, want it to start with %v and have %d cells", c.args, rows[1], c.row, len(c.header))
		}
		if c.last != "" && rows[1][len(rows[1])-1] != c.last {
			t.Errorf("kubectl %v last cell = %q, want %q", c.args, rows[1][len(rows[1])-1], c.last)
		}
	}
}

// TestKubectlKustomizeSamples: the samples kustomization builds and every
// object in it passes a server-side dry-run apply through kubectl.
func TestKubectlKustomizeSamples(t *testing.T) {
	testenv.Require(t)
	out, stderr, err := kubectl(t, "apply", "--server-side", "--dry-run=server", "--field-manager=samples-dry-run",
		"-k", filepath.Join("..", "..", "config", "samples"))
	if err != nil {
		t.Fatalf("kubectl apply -k config/samples: %v\n%s%s", err, out, stderr)
	}
	for _, want := range []string{"accountpolicy.accounts.lifecycle.dev/standard", "customeraccount.accounts.lifecycle.dev/northwind-traders",
		"customeraccount.accounts.lifecycle.dev/contoso", "customeraccount.accounts.lifecycle.dev/initech"} {
		if !strings.Contains(out, want+" serverside-applied (server dry run)") {
			t.Errorf("kubectl output lacks %q:\n%s", want, out)
		}
	}
}
