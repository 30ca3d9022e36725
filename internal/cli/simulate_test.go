package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/cli"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// candidate is a stricter policy: two points already mean FinalNotice.
const candidate = `apiVersion: accounts.lifecycle.dev/v1alpha1
kind: AccountPolicy
metadata:
  name: stricter
spec:
  thresholds: {warned: 1, finalNotice: 2, terminated: 10}
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// tableRows maps each ACCOUNT to its row's cells (split on 2+ spaces).
func tableRows(t *testing.T, out string) map[string][]string {
	t.Helper()
	rows := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		var cells []string
		for _, c := range strings.Split(line, "  ") {
			if c = strings.TrimSpace(c); c != "" {
				cells = append(cells, c)
			}
		}
		if len(cells) == 5 {
			rows[cells[0]] = cells
		}
	}
	if h := rows["ACCOUNT"]; strings.Join(h, "|") != "ACCOUNT|CURRENT PHASE|SIMULATED PHASE|SCORE|CHANGE" {
		t.Fatalf("table header = %v in\n%s", h, out)
	}
	return rows
}

func wantRow(t *testing.T, rows map[string][]string, name string, want ...string) {
	t.Helper()
	if got := strings.Join(rows[name][1:], "|"); got != strings.Join(want, "|") {
		t.Errorf("row %s = %s, want %s", name, got, strings.Join(want, "|"))
	}
}

// TestSimulateLive: a candidate policy against named live accounts reports the
// phases the engine would reach, and writes nothing.
func TestSimulateLive(t *testing.T) {
	testenv.Require(t)
	now := time.Now().UTC()
	policy := newPolicy(t, nil)
	warned := newAccount(t, policy.Name, incident("a", v1alpha1.CategoryAbuse, v1alpha1.SeverityMajor, now.Add(-time.Hour)))
	setPhase(t, warned.Name, v1alpha1.PhaseWarned, now.Add(-time.Hour))
	good := newAccount(t, policy.Name)
	setPhase(t, good.Name, v1alpha1.PhaseGood, now.Add(-time.Hour))
	rvs := map[string]string{warned.Name: get(t, warned.Name).ResourceVersion, good.Name: get(t, good.Name).ResourceVersion}

	file := writeFile(t, "policy.yaml", candidate)
	r := run(t, "simulate", "--policy", file, warned.Name, good.Name).ok(t)
	rows := tableRows(t, r.stdout)
	wantRow(t, rows, warned.Name, "Warned", "FinalNotice", "2", "Warned -> FinalNotice")
	wantRow(t, rows, good.Name, "Good", "Good", "0", "-")
	requireAll(t, r.stdout, `2 account(s) under policy "stricter"`, "1 would change phase (1 escalate, 0 step down), 1 unchanged")

	if code := run(t, "simulate", "--policy", file, "--fail-on-change", warned.Name, good.Name).code; code != cli.ExitChanged {
		t.Errorf("--fail-on-change exit %d, want %d", code, cli.ExitChanged)
	}
	for name, rv := range rvs {
		if got := get(t, name); got.ResourceVersion != rv || (name == warned.Name && got.Status.Phase != v1alpha1.PhaseWarned) {
			t.Errorf("simulate changed %s (resourceVersion %s -> %s, phase %s)", name, rv, got.ResourceVersion, got.Status.Phase)
		}
	}
	run(t, "simulate", "--policy", file, "no-such-account").fails(t, `customer account "no-such-account" not found`)
}

// accountsYAML is a GitOps directory's worth of documents: two accounts and
// a Namespace, which is skipped.
const accountsYAML = `apiVersion: accounts.lifecycle.dev/v1alpha1
kind: CustomerAccount
metadata: {name: initech}
spec:
  incidents:
  - {id: a, category: Abuse, severity: Major, occurredAt: "2026-11-01T00:00:00Z", reportedBy: desk, summary: Shouted.}
status: {phase: Warned, phaseSince: "2026-11-02T00:00:00Z"}
---
apiVersion: v1
kind: Namespace
metadata: {name: initech-prod}
---
apiVersion: accounts.lifecycle.dev/v1alpha1
kind: CustomerAccount
metadata: {name: contoso}
spec:
  incidents:
  - {id: v, category: SupportLoad, severity: Critical, attribution: Vendor, occurredAt: "2026-11-01T00:00:00Z", reportedBy: desk, summary: Our outage.}
`

// TestSimulateFilesOnly: with only --accounts-file no cluster is needed
// (there is none: KUBECONFIG points nowhere), and --fail-on-change gives CI
// an exit code.
func TestSimulateFilesOnly(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing"))
	accounts := writeFile(t, "accounts.yaml", accountsYAML)
	stricter := writeFile(t, "stricter.yaml", candidate)
	lenient := writeFile(t, "lenient.yaml", strings.Replace(candidate, "{warned: 1, finalNotice: 2, terminated: 10}", "{warned: 2, finalNotice: 5, terminated: 10}", 1))
	at := "--at=2026-11-22T12:00:00Z"

	r := runWith(t, nil, "simulate", "--policy", stricter, "--accounts-file", accounts, at).ok(t)
	rows := tableRows(t, r.stdout)
	wantRow(t, rows, "initech", "Warned", "FinalNotice", "2", "Warned -> FinalNotice")
	wantRow(t, rows, "contoso", "Good", "Good", "0", "-")
	requireAll(t, r.stdout, "at 2026-11-22T12:00:00Z: 1 would change phase")

	if code := runWith(t, nil, "simulate", "--policy", stricter, "--accounts-file", accounts, at, "--fail-on-change").code; code != cli.ExitChanged {
		t.Errorf("--fail-on-change with a change: exit %d, want %d", code, cli.ExitChanged)
	}
	r = runWith(t, nil, "simulate", "--policy", lenient, "--accounts-file", accounts, at, "--fail-on-change").ok(t)
	requireAll(t, r.stdout, "0 would change phase")

	// Long after the window, the incident expired: the account steps down.
	r = runWith(t, nil, "simulate", "--policy", lenient, "--accounts-file", accounts, "--at=2027-06-01T00:00:00Z").ok(t)
	wantRow(t, tableRows(t, r.stdout), "initech", "Warned", "Good", "0", "Warned -> Good")

	bad := writeFile(t, "bad.yaml", strings.Replace(candidate, "{warned: 1, finalNotice: 2, terminated: 10}", "{warned: 5, finalNotice: 2, terminated: 10}", 1))
	runWith(t, nil, "simulate", "--policy", bad, "--accounts-file", accounts).fails(t, "strictly ascending")
	typo := writeFile(t, "typo.yaml", candidate+"  noticePeriods: 1h\n")
	runWith(t, nil, "simulate", "--policy", typo, "--accounts-file", accounts).fails(t, `unknown field "noticePeriods"`)
	runWith(t, nil, "simulate", "--policy", accounts, "--accounts-file", accounts).fails(t, "not a valid AccountPolicy")
	// Live accounts need a cluster: the kubeconfig error is reported.
	runWith(t, nil, "simulate", "--policy", stricter).fails(t, "kubeconfig")
}
