package cli_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/cli"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// The commands run in-process against a real kube-apiserver with the CRDs
// (envtest); no operator runs, so status is whatever a test sets through the
// status subresource.
var (
	cfg            *rest.Config
	k8s            client.Client
	kubeconfigPath string
	seq            atomic.Int64
)

func TestMain(m *testing.M) {
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(testenv.Main(m, testenv.Options{Scheme: scheme}, func(env *testenv.Env) (func(), error) {
		cfg, k8s, kubeconfigPath = env.Config, env.Client, env.Kubeconfig
		return nil, nil
	}))
}

func unique(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }

// result is one run of the plugin.
type result struct {
	code           int
	stdout, stderr string
}

// run runs `kubectl account args...` in-process against the envtest cluster.
func run(t *testing.T, args ...string) result {
	t.Helper()
	return runWith(t, cfg, args...)
}

func runWith(t *testing.T, c *rest.Config, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(t.Context(), args, &out, &errb, c)
	r := result{code, out.String(), errb.String()}
	t.Logf("kubectl account %s -> %d\n%s%s", strings.Join(args, " "), code, r.stdout, r.stderr)
	return r
}

func (r result) ok(t *testing.T) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d, want 0: %s", r.code, r.stderr)
	}
	return r
}

// fails asserts exit code 1 with stderr containing every wanted text.
func (r result) fails(t *testing.T, want ...string) {
	t.Helper()
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (stdout %q)", r.code, r.stdout)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
}

func get(t *testing.T, name string) *v1alpha1.CustomerAccount {
	t.Helper()
	var acct v1alpha1.CustomerAccount
	if err := k8s.Get(t.Context(), client.ObjectKey{Name: name}, &acct); err != nil {
		t.Fatal(err)
	}
	return &acct
}

// newPolicy creates a policy with thresholds 2/4/6 and a 1h notice period.
func newPolicy(t *testing.T, selector map[string]string) *v1alpha1.AccountPolicy {
	t.Helper()
	p := &v1alpha1.AccountPolicy{ObjectMeta: metav1.ObjectMeta{Name: unique("pol")}, Spec: v1alpha1.AccountPolicySpec{
		Thresholds:   v1alpha1.Thresholds{Warned: 2, FinalNotice: 4, Terminated: 6},
		NoticePeriod: &metav1.Duration{Duration: time.Hour},
	}}
	if selector != nil {
		p.Spec.AccountSelector = &metav1.LabelSelector{MatchLabels: selector}
	}
	if err := k8s.Create(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// newAccount creates an account governed by policy with the given incidents.
func newAccount(t *testing.T, policy string, incs ...v1alpha1.Incident) *v1alpha1.CustomerAccount {
	t.Helper()
	a := &v1alpha1.CustomerAccount{ObjectMeta: metav1.ObjectMeta{Name: unique("acct")},
		Spec: v1alpha1.CustomerAccountSpec{DisplayName: "Initech", PolicyName: policy, Incidents: incs}}
	if err := k8s.Create(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

// setPhase writes status.phase and phaseSince through the status subresource,
// as the operator would.
func setPhase(t *testing.T, name string, phase v1alpha1.AccountPhase, since time.Time, mutate ...func(*v1alpha1.CustomerAccountStatus)) {
	t.Helper()
	acct := get(t, name)
	acct.Status.Phase, acct.Status.PhaseSince = phase, &metav1.Time{Time: since}
	for _, m := range mutate {
		m(&acct.Status)
	}
	if err := k8s.Status().Update(t.Context(), acct); err != nil {
		t.Fatal(err)
	}
}

func incident(id string, cat v1alpha1.IncidentCategory, sev v1alpha1.Severity, at time.Time) v1alpha1.Incident {
	return v1alpha1.Incident{ID: id, Category: cat, Severity: sev, OccurredAt: metav1.NewTime(at.Truncate(time.Second)),
		ReportedBy: "support-desk", Summary: "Incident " + id + "."}
}
