package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/cli"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// explainedAccount creates a Warned account selected by a fresh policy's
// selector, with one incident for each reason an incident may not count.
func explainedAccount(t *testing.T) (*v1alpha1.CustomerAccount, *v1alpha1.AccountPolicy) {
	t.Helper()
	now := time.Now().UTC()
	label := unique("tier")
	policy := newPolicy(t, map[string]string{"tier": label})
	counted := incident("shouted-at-oncall", v1alpha1.CategoryAbuse, v1alpha1.SeverityMajor, now.Add(-time.Hour))
	vendor := incident("our-outage", v1alpha1.CategorySupportLoad, v1alpha1.SeverityCritical, now.Add(-time.Hour))
	vendor.Attribution = v1alpha1.AttributionVendor
	waived := incident("ticket-flood", v1alpha1.CategorySupportLoad, v1alpha1.SeverityMajor, now.Add(-time.Hour))
	waived.Waiver = &v1alpha1.Waiver{By: "bob", At: metav1.NewTime(now.Truncate(time.Second)), Reason: "Our fault."}
	old := incident("old-invoice", v1alpha1.CategoryNonPayment, v1alpha1.SeverityCritical, now.Add(-200*24*time.Hour))
	future := incident("scheduled-audit", v1alpha1.CategoryPolicyViolation, v1alpha1.SeverityMinor, now.Add(24*time.Hour))
	acct := newAccount(t, "", counted, vendor, waived, old, future)
	acct.Labels = map[string]string{"tier": label}
	if err := k8s.Update(t.Context(), acct); err != nil {
		t.Fatal(err)
	}
	setPhase(t, acct.Name, v1alpha1.PhaseWarned, now.Add(-30*time.Minute), func(s *v1alpha1.CustomerAccountStatus) {
		s.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonEvaluated,
			Message: "evaluated", LastTransitionTime: metav1.Now()}}
		s.Namespaces = []v1alpha1.NamespaceStatus{{Name: "initech-prod", Actions: []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges}, Message: "frozen by policy"}}
	})
	return get(t, acct.Name), policy
}

func requireAll(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
}

// TestExplain: explain resolves the policy as the operator does (here by
// selector), shows why each incident counts or not, what happens next, and
// writes nothing.
func TestExplain(t *testing.T) {
	testenv.Require(t)
	acct, policy := explainedAccount(t)
	out := run(t, "explain", acct.Name).ok(t).stdout
	requireAll(t, out,
		"Account:  "+acct.Name+" (Initech)",
		"Phase:    Warned since ",
		"Policy:   "+policy.Name+" (window 2160h0m0s, notice period 1h0m0s, approval required: true)",
		"Score:    2 (thresholds: Warned 2, FinalNotice 4, Terminated 6; reached: Warned)",
		"Concern:  Abuse",
		"Next:     Score 2 reaches the Warned threshold (2); the account is Warned since",
		"next evaluation ",
		"Incidents (5):",
		"Ready=True (Evaluated): evaluated",
		"initech-prod: FreezeChanges (frozen by policy)",
	)
	rows := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			rows[f[0]] = line
		}
	}
	for id, want := range map[string]string{
		"shouted-at-oncall": "yes", "our-outage": "no: vendor-caused", "ticket-flood": "no: waived",
		"old-invoice": "no: expired", "scheduled-audit": "no: not yet occurred",
	} {
		if !strings.Contains(rows[id], want) {
			t.Errorf("incident %s line %q lacks %q", id, rows[id], want)
		}
	}
	if f := strings.Fields(rows["shouted-at-oncall"]); len(f) < 6 || f[4] != "2" {
		t.Errorf("counted incident's points: %q", rows["shouted-at-oncall"])
	}
	if rv := get(t, acct.Name).ResourceVersion; rv != acct.ResourceVersion {
		t.Errorf("explain wrote to the account")
	}

	// The same, for scripts: -o json and -o yaml.
	var e cli.Explanation
	if err := json.Unmarshal([]byte(run(t, "explain", acct.Name, "-o", "json").ok(t).stdout), &e); err != nil {
		t.Fatal(err)
	}
	if e.Account != acct.Name || e.Phase != v1alpha1.PhaseWarned || e.Policy != policy.Name || e.Score != 2 || len(e.Incidents) != 5 || e.Approvals == nil || e.Approvals.Needed != 1 {
		t.Errorf("explain -o json = %+v", e)
	}
	for _, inc := range e.Incidents {
		if inc.ID == "ticket-flood" && (inc.Counts || inc.NotCounted != "waived") {
			t.Errorf("ticket-flood in -o json: %+v", inc)
		}
	}
	var y map[string]any
	if err := yaml.Unmarshal([]byte(run(t, "explain", acct.Name, "-o", "yaml").ok(t).stdout), &y); err != nil || y["account"] != acct.Name {
		t.Errorf("explain -o yaml: %v, %v", y, err)
	}

	// No usable policy: said plainly, incidents still listed.
	orphan := newAccount(t, "missing-policy", incident("x", v1alpha1.CategoryOther, v1alpha1.SeverityMinor, time.Now().Add(-time.Hour)))
	out = run(t, "explain", orphan.Name).ok(t).stdout
	requireAll(t, out, "Phase:    not yet evaluated by the operator", "Policy:   none usable (NoPolicy)",
		`AccountPolicy "missing-policy" named by spec.policyName does not exist`, "Incidents (1):")

	run(t, "explain", "no-such-account").fails(t, `customer account "no-such-account" not found`)
}

// TestKubectlPluginDiscovery: the built binary, on PATH, is found by the real
// kubectl as `kubectl account`.
func TestKubectlPluginDiscovery(t *testing.T) {
	testenv.Require(t)
	acct, _ := explainedAccount(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	bin := t.TempDir()
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bin, "kubectl-account"), "./cmd/kubectl-account")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, "kubectl", "account", "explain", acct.Name, "--kubeconfig", kubeconfigPath)
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	t.Logf("kubectl account explain %s\n%s", acct.Name, out)
	if err != nil {
		t.Fatalf("kubectl account explain: %v", err)
	}
	requireAll(t, string(out), "Account:  "+acct.Name, "Score:    2", "no: vendor-caused", "initech-prod: FreezeChanges")
}
