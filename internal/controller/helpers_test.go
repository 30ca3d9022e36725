package controller_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// policy builds a policy with small thresholds (2/4/6) that governs the
// accounts naming it; mutate adjusts it per test.
func createPolicy(t *testing.T, g Gomega, mutate func(*v1alpha1.AccountPolicy)) *v1alpha1.AccountPolicy {
	t.Helper()
	p := &v1alpha1.AccountPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: unique("policy")},
		Spec: v1alpha1.AccountPolicySpec{
			Thresholds:     v1alpha1.Thresholds{Warned: 2, FinalNotice: 4, Terminated: 6},
			NoticePeriod:   &metav1.Duration{Duration: 3 * time.Second},
			RecoveryPeriod: &metav1.Duration{},
			Messages: v1alpha1.Messages{
				Warned:      "We value working with you; please keep interactions respectful.",
				FinalNotice: "This is a final notice; we would like to resolve this together.",
				Terminated:  "We are ending our service. Example Corp may be a better fit for you.",
				Reinstated:  "Welcome back.",
			},
		},
	}
	if mutate != nil {
		mutate(p)
	}
	g.Expect(k8s.Create(context.Background(), p)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), p) })
	return p
}

func createAccount(t *testing.T, g Gomega, policy string, incidents ...v1alpha1.Incident) *v1alpha1.CustomerAccount {
	t.Helper()
	a := &v1alpha1.CustomerAccount{
		ObjectMeta: metav1.ObjectMeta{Name: unique("acct")},
		Spec: v1alpha1.CustomerAccountSpec{
			DisplayName: "Test customer",
			PolicyName:  policy,
			Incidents:   incidents,
		},
	}
	g.Expect(k8s.Create(context.Background(), a)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), a) })
	return a
}

// abuse is a customer-caused Major abuse incident (2 points by default).
func abuse(id string, at time.Time) v1alpha1.Incident {
	return v1alpha1.Incident{
		ID: id, Category: v1alpha1.CategoryAbuse, Severity: v1alpha1.SeverityMajor,
		OccurredAt: metav1.NewTime(at), ReportedBy: "support@vendor.example",
		Summary: "Customer swore at a support engineer on a call.",
	}
}

func vendorIncident(id string, at time.Time) v1alpha1.Incident {
	inc := abuse(id, at)
	inc.Severity = v1alpha1.SeverityCritical
	inc.Attribution = v1alpha1.AttributionVendor
	inc.Summary = "Our outage made the customer's on-call engineer furious."
	return inc
}

// update applies a change to the account's spec with conflict retries.
func update(g Gomega, name string, change func(*v1alpha1.CustomerAccount)) {
	g.Eventually(func() error {
		a := &v1alpha1.CustomerAccount{}
		if err := k8s.Get(context.Background(), types.NamespacedName{Name: name}, a); err != nil {
			return err
		}
		change(a)
		return k8s.Update(context.Background(), a)
	}, waitFor, pollEach).Should(Succeed())
}

func addIncident(g Gomega, name string, inc v1alpha1.Incident) {
	update(g, name, func(a *v1alpha1.CustomerAccount) { a.Spec.Incidents = append(a.Spec.Incidents, inc) })
}

func get(g Gomega, name string) *v1alpha1.CustomerAccount {
	a := &v1alpha1.CustomerAccount{}
	g.Expect(k8s.Get(context.Background(), types.NamespacedName{Name: name}, a)).To(Succeed())
	return a
}

// waitPhase waits until the account reports the phase and returns it.
func waitPhase(g Gomega, name string, phase v1alpha1.AccountPhase) *v1alpha1.CustomerAccount {
	var a *v1alpha1.CustomerAccount
	g.Eventually(func(g Gomega) {
		a = get(g, name)
		g.Expect(a.Status.Phase).To(Equal(phase), "status: %+v", a.Status)
	}, waitFor, pollEach).Should(Succeed())
	return a
}

func condition(a *v1alpha1.CustomerAccount, t string) *metav1.Condition {
	return meta.FindStatusCondition(a.Status.Conditions, t)
}

// eventsFor lists the events.k8s.io Events about an account, oldest first.
func eventsFor(g Gomega, name string) []eventsv1.Event {
	var list eventsv1.EventList
	g.Expect(k8s.List(context.Background(), &list)).To(Succeed())
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind == "CustomerAccount" && e.Regarding.Name == name {
			out = append(out, e)
		}
	}
	return out
}

func reasons(events []eventsv1.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Reason)
	}
	return out
}

func tenantNamespace(t *testing.T, g Gomega, account string) *corev1.Namespace {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   unique("tenant"),
		Labels: map[string]string{v1alpha1.LabelAccount: account},
	}}
	g.Expect(k8s.Create(context.Background(), ns)).To(Succeed())
	return ns
}

// frozenAccount is an account in FinalNotice (two Major abuse incidents)
// whose tenant namespace has been frozen.
func frozenAccount(t *testing.T, g Gomega) (*v1alpha1.CustomerAccount, *corev1.Namespace) {
	t.Helper()
	policy := createPolicy(t, g, nil)
	acct := createAccount(t, g, policy.Name, abuse("a", time.Now()), abuse("b", time.Now()))
	ns := tenantNamespace(t, g, acct.Name)
	waitPhase(g, acct.Name, v1alpha1.PhaseFinalNotice)
	waitFrozen(g, ns.Name)
	return acct, ns
}

// waitFrozen waits until the namespace carries the frozen label.
func waitFrozen(g Gomega, namespace string) {
	g.Eventually(func(g Gomega) {
		g.Expect(getNamespace(g, namespace).Labels).To(HaveKeyWithValue(v1alpha1.LabelFrozen, "true"))
	}, waitFor, pollEach).Should(Succeed())
}

func getNamespace(g Gomega, name string) *corev1.Namespace {
	ns := &corev1.Namespace{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: name}, ns)).To(Succeed())
	return ns
}
