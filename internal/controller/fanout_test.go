package controller_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/controller"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// The tests of this file count every reconcile of the suite's shared
// manager, so they are the suite's only sequential tests: Go runs them
// before the parallel ones start, and nothing else reconciles meanwhile.

// reconciles is how many times the account controller has reconciled, from
// controller-runtime's own metric.
func reconciles(g Gomega) float64 { return reconcilesOf(g, "customeraccount") }

// policyReconciles is how many times the policy controller has reconciled.
func policyReconciles(g Gomega) float64 { return reconcilesOf(g, "accountpolicy") }

// reconcilesOf is how many times the named controller has reconciled.
func reconcilesOf(g Gomega, controllerName string) float64 {
	families, err := ctrlmetrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	total := 0.0
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == controllerName {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

// Issue Scale: with many accounts under a policy, a write to the policy's
// status (the policy reconciler's counts) reconciles no account.
func TestPolicyStatusWriteReconcilesNoAccount(t *testing.T) {
	testenv.Require(t)
	g := NewWithT(t)
	ctx := context.Background()
	policy := createPolicy(t, g, nil)
	const n = 20
	for range n {
		createAccount(t, g, policy.Name)
	}
	g.Eventually(func(g Gomega) {
		p := &v1alpha1.AccountPolicy{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(policy), p)).To(Succeed())
		g.Expect(p.Status.Accounts).To(HaveValue(Equal(int32(n))))
	}, waitFor, pollEach).Should(Succeed())
	before := settled(g, reconciles, 1500*time.Millisecond, noVersions)

	g.Eventually(func() error {
		p := &v1alpha1.AccountPolicy{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(policy), p); err != nil {
			return err
		}
		meta.SetStatusCondition(&p.Status.Conditions, metav1.Condition{Type: "Audited", Status: metav1.ConditionTrue, Reason: "Test", Message: "a status write"})
		return k8s.Status().Update(ctx, p)
	}, waitFor, pollEach).Should(Succeed())
	// The suite's manager is shared, so a stray reconcile of another test's
	// leftovers may land here; a fan-out would reconcile all n.
	g.Consistently(func() float64 { return reconciles(g) - before }, 2*time.Second, pollEach).Should(BeNumerically("<", n/4),
		"a policy status write reconciled accounts")
}

// Issue Scale: one incident on one account reconciles it at most twice and
// writes to no other account.
func TestOneIncidentTouchesOneAccount(t *testing.T) {
	testenv.Require(t)
	g := NewWithT(t)
	policy := createPolicy(t, g, nil)
	const n = 20
	names := goodAccounts(t, g, policy.Name, n)
	versions := func(g Gomega) map[string]string {
		out := map[string]string{}
		for _, name := range names[1:] {
			out[name] = get(g, name).ResourceVersion
		}
		return out
	}
	before := settled(g, reconciles, 1500*time.Millisecond, versions)
	others := versions(g)

	addIncident(g, names[0], abuse("a", time.Now()))
	waitPhase(g, names[0], v1alpha1.PhaseWarned)
	g.Consistently(func(g Gomega) {
		// At most 2 of this account, and a stray one of another test's
		// leftovers on the shared manager; a fan-out would reconcile all n.
		g.Expect(reconciles(g) - before).To(BeNumerically("<=", 3))
		g.Expect(versions(g)).To(Equal(others), "another account was written")
	}, 2*time.Second, pollEach).Should(Succeed())
}

// settled waits until count and the given versions stop moving for
// longer than quiet (at least the one-second retry after a conflicting
// status write: a new account's second reconcile can read its cache before
// its first status write arrives), and returns the count.
func settled(g Gomega, count func(Gomega) float64, quiet time.Duration, versions func(Gomega) map[string]string) float64 {
	var n float64
	g.Eventually(func() bool {
		b, v := count(g), versions(g)
		time.Sleep(quiet)
		n = count(g)
		return b == n && equalMaps(v, versions(g))
	}, waitFor, pollEach).Should(BeTrue())
	return n
}

func noVersions(Gomega) map[string]string { return nil }

// goodAccounts creates n accounts under policy and waits until each is Good.
func goodAccounts(t *testing.T, g Gomega, policy string, n int) []string {
	t.Helper()
	var names []string
	for range n {
		names = append(names, createAccount(t, g, policy).Name)
	}
	for _, name := range names {
		waitPhase(g, name, v1alpha1.PhaseGood)
	}
	return names
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Issue Scale: a status write that changes no count (a score below the
// next threshold) does not make the policy controller recount.
func TestScoreChangeDoesNotRecountThePolicy(t *testing.T) {
	testenv.Require(t)
	g := NewWithT(t)
	policy := createPolicy(t, g, func(p *v1alpha1.AccountPolicy) { p.Spec.Thresholds.Warned = 3 })
	acct := createAccount(t, g, policy.Name)
	waitPhase(g, acct.Name, v1alpha1.PhaseGood)
	before := settled(g, policyReconciles, 2*controller.CountsDelay, noVersions)
	addIncident(g, acct.Name, abuse("a", time.Now())) // 2 points: still Good
	g.Eventually(func(g Gomega) { g.Expect(get(g, acct.Name).Status.Score).To(HaveValue(Equal(int32(2)))) }, waitFor, pollEach).Should(Succeed())
	g.Consistently(func() float64 { return reconcilesOf(g, "accountpolicy") - before }, time.Second, pollEach).Should(BeZero(),
		"the policy was recounted for a score change")
}

// Issue Scale: a wave of transitions under one policy is counted in a few
// recounts, not one recount (and one policy status write) per account.
func TestAWaveOfTransitionsRecountsThePolicyOnce(t *testing.T) {
	testenv.Require(t)
	g := NewWithT(t)
	ctx := context.Background()
	policy := createPolicy(t, g, nil)
	const n = 20
	names := goodAccounts(t, g, policy.Name, n)
	before := settled(g, policyReconciles, 2*controller.CountsDelay, noVersions)

	for _, name := range names {
		addIncident(g, name, abuse("a", time.Now()))
	}
	g.Eventually(func(g Gomega) {
		p := &v1alpha1.AccountPolicy{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(policy), p)).To(Succeed())
		g.Expect(p.Status.Phases.Warned).To(HaveValue(Equal(int32(n))))
	}, waitFor, pollEach).Should(Succeed())
	g.Expect(reconcilesOf(g, "accountpolicy")-before).To(BeNumerically("<=", n/4),
		"the policy was recounted for every account of the wave")
}
