// Package cluster proves that every restriction bites: against a small but
// real cluster (the API server, kube-controller-manager, kube-scheduler and
// KWOK's simulated nodes, internal/testenv), with the operator running as
// its service account under the shipped RBAC and admission policies, each
// test asserts what a restriction stops (a refused request, pods gone) and
// that reinstatement brings back exactly what was there.
package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/controller"
	"github.com/accountops/account-lifecycle-operator/internal/manifests"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

const (
	operatorNamespace = "account-lifecycle-operator-system"
	operatorUser      = "system:serviceaccount:" + operatorNamespace + ":account-lifecycle-operator-controller-manager"
	waitFor           = 60 * time.Second
	pollEach          = 200 * time.Millisecond
)

var (
	env   *testenv.Env
	admin client.Client
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	os.Exit(testenv.Main(m, testenv.Options{Scheme: controller.NewScheme(), Cluster: &testenv.ClusterOptions{Nodes: 2}},
		func(e *testenv.Env) (func(), error) {
			env, admin = e, e.Client
			return startOperator(e)
		}))
}

// startOperator installs what `make install` and `make deploy` install
// (the operator's namespace, RBAC and admission policies) and runs the
// manager as the operator's service account.
func startOperator(e *testenv.Env) (func(), error) {
	ctx := context.Background()
	root := filepath.Join("..", "..")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace,
		Labels: map[string]string{v1alpha1.LabelProtected: "true"}}}
	if err := e.Client.Create(ctx, ns); err != nil {
		return nil, err
	}
	for _, dir := range []string{"rbac", "admission"} {
		if err := manifests.ApplyDir(ctx, e.Client, filepath.Join(root, "config", dir), "cluster-test"); err != nil {
			return nil, err
		}
	}
	user, err := e.Environment.AddUser(envtest.User{Name: operatorUser,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + operatorNamespace}},
		&rest.Config{QPS: 50, Burst: 100})
	if err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(user.Config(), ctrl.Options{
		Scheme: controller.NewScheme(), Client: controller.ClientOptions(), Cache: controller.CacheOptions(),
		Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
	})
	if err != nil {
		return nil, err
	}
	if err := controller.SetupAll(mgr, controller.DefaultOptions(mgr, operatorNamespace)); err != nil {
		return nil, err
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}, nil
}

// tenantUser is a client acting as a tenant's user, with no rights but
// those its namespace's bindings give it.
func tenantUser(t *testing.T, name string) client.Client {
	t.Helper()
	u, err := env.Environment.AddUser(envtest.User{Name: name, Groups: []string{"system:authenticated"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(u.Config(), client.Options{Scheme: controller.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runs counts each test's runs in this process (go test -count=N).
var runs sync.Map

// names gives the test's object names: the names themselves on its first
// run, suffixed on later ones, because the suite's cluster outlives a run
// and a namespace takes a while to go.
func names(t *testing.T) func(string) string {
	v, _ := runs.LoadOrStore(t.Name(), new(atomic.Int32))
	run := v.(*atomic.Int32).Add(1)
	return func(base string) string {
		if run == 1 {
			return base
		}
		return fmt.Sprintf("%s-%d", base, run)
	}
}

// tenantNamespace creates a namespace of the account.
func tenantNamespace(t *testing.T, g Gomega, account, name string) *corev1.Namespace {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name,
		Labels: map[string]string{v1alpha1.LabelAccount: account}}}
	g.Expect(admin.Create(context.Background(), ns)).To(Succeed())
	return ns
}

// policy creates a policy that acts at once: one point per Minor incident,
// Warned at 1, FinalNotice at 2, Terminated at 3, no notice period, no
// approval, no recovery period.
func policy(t *testing.T, g Gomega, name string, e v1alpha1.Enforcement) *v1alpha1.AccountPolicy {
	t.Helper()
	p := &v1alpha1.AccountPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.AccountPolicySpec{
			Thresholds:     v1alpha1.Thresholds{Warned: 1, FinalNotice: 2, Terminated: 3},
			NoticePeriod:   &metav1.Duration{},
			Approvals:      v1alpha1.Approvals{Required: ptr.To[int32](0)},
			RecoveryPeriod: &metav1.Duration{},
			Enforcement:    e,
		},
	}
	g.Expect(admin.Create(context.Background(), p)).To(Succeed())
	return p
}

// account creates an account under the policy with n Minor incidents.
func account(t *testing.T, g Gomega, name, policy string, n int) *v1alpha1.CustomerAccount {
	t.Helper()
	a := &v1alpha1.CustomerAccount{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.CustomerAccountSpec{PolicyName: policy}}
	for range n {
		a.Spec.Incidents = append(a.Spec.Incidents, incident(len(a.Spec.Incidents)))
	}
	g.Expect(admin.Create(context.Background(), a)).To(Succeed())
	return a
}

func incident(i int) v1alpha1.Incident {
	return v1alpha1.Incident{
		ID: fmt.Sprintf("support-%d", i), Category: v1alpha1.CategorySupportLoad, Severity: v1alpha1.SeverityMinor,
		OccurredAt: metav1.NewTime(time.Now().Add(-time.Hour)), ReportedBy: "support-desk",
		Summary: "Opened the same ticket again after it was answered.",
	}
}

// report adds n Minor incidents to the account.
func report(g Gomega, name string, n int) {
	g.Eventually(func(g Gomega) {
		a := &v1alpha1.CustomerAccount{}
		g.Expect(admin.Get(context.Background(), client.ObjectKey{Name: name}, a)).To(Succeed())
		for range n {
			a.Spec.Incidents = append(a.Spec.Incidents, incident(len(a.Spec.Incidents)))
		}
		g.Expect(admin.Update(context.Background(), a)).To(Succeed())
	}, waitFor, pollEach).Should(Succeed())
}

// reinstate lifts the account's termination (and forgives its incidents).
func reinstate(g Gomega, name string) {
	g.Eventually(func(g Gomega) {
		a := &v1alpha1.CustomerAccount{}
		g.Expect(admin.Get(context.Background(), client.ObjectKey{Name: name}, a)).To(Succeed())
		// A reinstatement lifts only a termination from before it, and
		// status keeps whole seconds.
		g.Expect(a.Status.PhaseSince).NotTo(BeNil())
		at := metav1.Now()
		g.Expect(at.Truncate(time.Second).After(a.Status.PhaseSince.Time)).To(BeTrue(), "terminated this very second")
		a.Spec.Reinstatement = v1alpha1.Reinstatement{By: "platform-lead", At: at,
			Reason: "The customer settled every open issue."}
		g.Expect(admin.Update(context.Background(), a)).To(Succeed())
	}, waitFor, pollEach).Should(Succeed())
}

// settled waits until the account is in phase with its enforcement done
// (Ready) for the current generation.
func settled(g Gomega, name string, phase v1alpha1.AccountPhase) {
	g.Eventually(func(g Gomega) {
		a := &v1alpha1.CustomerAccount{}
		g.Expect(admin.Get(context.Background(), client.ObjectKey{Name: name}, a)).To(Succeed())
		g.Expect(a.Status.Phase).To(Equal(phase))
		g.Expect(a.Status.ObservedGeneration).To(Equal(a.Generation))
		ready := findCondition(a.Status.Conditions, v1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "Ready: %s", ready.Message)
	}, waitFor, pollEach).Should(Succeed())
}

func findCondition(cs []metav1.Condition, t string) *metav1.Condition {
	for i := range cs {
		if cs[i].Type == t {
			return &cs[i]
		}
	}
	return nil
}

// runningPods counts the namespace's Running pods that are not going away,
// by label selector.
func runningPods(g Gomega, namespace string, labels map[string]string) int {
	var pods corev1.PodList
	g.Expect(admin.List(context.Background(), &pods, client.InNamespace(namespace), client.MatchingLabels(labels))).To(Succeed())
	n := 0
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
			n++
		}
	}
	return n
}

// allPods counts every pod of the namespace, going away or not.
func allPods(g Gomega, namespace string) int {
	var pods corev1.PodList
	g.Expect(admin.List(context.Background(), &pods, client.InNamespace(namespace))).To(Succeed())
	return len(pods.Items)
}
