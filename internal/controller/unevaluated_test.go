package controller_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// Issue Trust, item 12: a frozen namespace relabelled to an account that
// has no policy stays as it is (nothing is enforced or lifted for an
// account that is not evaluated) but is reported in that account's status.
func TestUnevaluatedAccountReportsWhatIsInForce(t *testing.T) {
	g := NewWithT(t)
	_, ns := frozenAccount(t, g)
	orphanOwner := createAccount(t, g, "no-such-policy")
	g.Eventually(func(g Gomega) {
		c := condition(get(g, orphanOwner.Name), v1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(v1alpha1.ReasonNoPolicy))
	}, waitFor, pollEach).Should(Succeed())

	cur := getNamespace(g, ns.Name)
	cur.Labels[v1alpha1.LabelAccount] = orphanOwner.Name
	g.Expect(k8s.Update(context.Background(), cur)).To(Succeed())

	g.Eventually(func(g Gomega) {
		a := get(g, orphanOwner.Name)
		g.Expect(a.Status.Namespaces).To(ConsistOf(And(
			HaveField("Name", ns.Name),
			HaveField("Actions", ConsistOf(v1alpha1.ActionFreezeChanges)),
			HaveField("Message", ContainSubstring("not evaluated (NoPolicy)")),
		)))
		c := condition(a, v1alpha1.ConditionAccessRestricted)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
	}, waitFor, pollEach).Should(Succeed())
	g.Expect(getNamespace(g, ns.Name).Labels).To(HaveKeyWithValue(v1alpha1.LabelFrozen, "true"), "nothing is lifted for an account that is not evaluated")
}
