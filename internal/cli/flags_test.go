package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

// TestFlagValidation: bad input is refused before the cluster is contacted
// (the config points at a closed port, so any request would fail with a
// connection error instead of these messages).
func TestFlagValidation(t *testing.T) {
	nowhere := &rest.Config{Host: "https://127.0.0.1:1"}
	report := []string{"report", "acme", "--id", "x1", "--summary", "s"}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"fire", "acme"}, `unknown command "fire"`},
		{[]string{"report", "acme", "--category", "Abuse", "--summary", "s"}, "--id is required"},
		{[]string{"report", "acme", "--id", "Not_OK", "--category", "Abuse", "--summary", "s"}, `incident id "Not_OK" must be`},
		{report, "--category is required"},
		{append(report, "--category", "Rudeness"), `--category "Rudeness" is not one of Abuse, NonPayment, Other, PolicyViolation, PoorFit, SupportLoad`},
		{append(report, "--category", "Abuse", "--severity", "Huge"), `--severity "Huge" is not one of Critical, Major, Minor`},
		{append(report, "--category", "Abuse", "--attribution", "Nobody"), `--attribution "Nobody"`},
		{append(report, "--category", "Abuse", "--occurred-at", "yesterday"), `--occurred-at "yesterday" is not an RFC3339 time`},
		{append(report, "--category", "Abuse", "--points", "5000"), "--points 5000 is out of range 0-1000"},
		{append(report, "--category", "Abuse", "--points", "many"), `invalid argument "many" for "--points"`},
		{[]string{"report", "acme", "--id", "x1", "--category", "Abuse"}, "--summary is required"},
		{[]string{"report", "--id", "x1", "--category", "Abuse", "--summary", "s"}, "expected ACCOUNT, got 0 argument(s)"},
		{[]string{"report", "acme", "--id", "x1", "--category", "Abuse", "--summary", strings.Repeat("x", 1025)}, "at most 1024"},
		{[]string{"waive", "acme", "x1"}, "--reason is required"},
		{[]string{"waive", "acme", "--reason", "r"}, "expected ACCOUNT INCIDENT-ID, got 1 argument(s)"},
		{[]string{"hold", "acme", "--reason", "r"}, "--until or --for is required"},
		{[]string{"hold", "acme", "--reason", "r", "--for", "1h", "--until", "2030-01-01T00:00:00Z"}, "either --until or --for, not both"},
		{[]string{"hold", "acme", "--reason", "r", "--until", "2020-01-01T00:00:00Z"}, "not in the future"},
		{[]string{"hold", "acme", "--reason", "r", "--for", "3d"}, `invalid argument "3d" for "--for"`},
		{[]string{"hold", "acme", "--for", "1h"}, "--reason is required"},
		{[]string{"approve", "acme", "other"}, "expected ACCOUNT, got 2 argument(s)"},
		{[]string{"reinstate", "acme", "--reason", "r", "--at", "soon"}, `--at "soon" is not an RFC3339 time`},
		{[]string{"reinstate", "acme"}, "--reason is required"},
		{[]string{"simulate", "acme"}, "--policy is required"},
		{[]string{"simulate", "--policy", "/no/such/file.yaml"}, "reading --policy"},
		{[]string{"explain"}, "expected ACCOUNT, got 0 argument(s)"},
		{[]string{"explain", "acme", "--frobnicate"}, "unknown flag: --frobnicate"},
	}
	for _, c := range cases {
		r := runWith(t, nowhere, c.args...)
		r.fails(t, c.want)
		if c.args[0] != "fire" && !strings.Contains(r.stderr, "See 'kubectl account "+c.args[0]+" --help'.") {
			t.Errorf("%v: no pointer to --help in %q", c.args, r.stderr)
		}
	}
}

// TestHelp: every command documents itself and exits 0.
func TestHelp(t *testing.T) {
	r := runWith(t, nil, "--help").ok(t)
	requireAll(t, r.stdout, "report", "waive", "hold", "approve", "reinstate", "explain", "simulate")
	for _, cmd := range []string{"report", "waive", "hold", "approve", "reinstate", "explain", "simulate"} {
		r := runWith(t, nil, cmd, "--help").ok(t)
		requireAll(t, r.stdout, "Usage:\n  kubectl account "+cmd, "Flags:", "--kubeconfig", "--context")
	}
	if code := runWith(t, nil).code; code != 1 {
		t.Errorf("no arguments: exit %d, want 1", code)
	}
}

// kubectl's conventions: the kubeconfig flags before or after the command,
// version, shell completion, and -o checked before the cluster is asked.
func TestKubectlConventions(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "config")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: real, context: {cluster: c, user: u}}]
current-context: real
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", kubeconfig)
	// Before the command: parsed as kubectl's flag, not taken for a command.
	runWith(t, nil, "--context", "nope", "explain", "acme").fails(t, `context "nope" does not exist`)
	runWith(t, nil, "explain", "acme", "--context", "nope").fails(t, `context "nope" does not exist`)
	runWith(t, nil, "--request-timeout", "soon", "explain", "acme").fails(t, "Invalid timeout value")

	if r := runWith(t, nil, "version").ok(t); !strings.Contains(r.stdout, "kubectl-account ") || !strings.Contains(r.stdout, "accounts.lifecycle.dev/v1alpha1") {
		t.Errorf("version printed %q", r.stdout)
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		if r := runWith(t, nil, "completion", shell).ok(t); !strings.Contains(r.stdout, "kubectl-account") {
			t.Errorf("completion %s printed no script for the plugin:\n%.300s", shell, r.stdout)
		}
	}
	nowhere := &rest.Config{Host: "https://127.0.0.1:1"}
	runWith(t, nowhere, "explain", "acme", "-o", "table").fails(t, `--output "table": use json or yaml`)
	runWith(t, nowhere, "simulate", "--policy", "p.yaml", "-o", "xml").fails(t, `--output "xml": use json or yaml`)
}
