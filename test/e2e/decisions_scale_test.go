package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// The decisions policy stays within the API server's CEL budget on a full
// ledger: an approver's approval and a reporter's new incident on an account
// with 499 incidents are judged (not refused for cost), as is an update
// that adds nothing.
func TestDecisionsPolicyFitsAFullLedger(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	d := newDecisionsCluster(t, g)
	g.Expect(d.admin.Create(ctx, &v1alpha1.AccountPolicy{ObjectMeta: metav1.ObjectMeta{Name: "big"},
		Spec: v1alpha1.AccountPolicySpec{Thresholds: v1alpha1.Thresholds{Warned: 1000, FinalNotice: 2000, Terminated: 3000}}})).To(Succeed())
	acct := &v1alpha1.CustomerAccount{ObjectMeta: metav1.ObjectMeta{Name: "full-ledger"}, Spec: v1alpha1.CustomerAccountSpec{PolicyName: "big"}}
	for i := range 499 {
		inc := reported(fmt.Sprintf("inc-%03d", i), "jane", "")
		inc.OccurredAt = metav1.NewTime(time.Now().Add(-time.Duration(i+1) * time.Minute))
		if i%3 == 0 {
			inc.Waiver = &v1alpha1.Waiver{By: "lee", At: metav1.Now(), Reason: "outage"}
		}
		acct.Spec.Incidents = append(acct.Spec.Incidents, inc)
	}
	g.Expect(d.admin.Create(ctx, acct)).To(Succeed())
	g.Expect(d.change(g, "rita", "full-ledger", func(a *v1alpha1.CustomerAccount) {
		a.Spec.Incidents = append(a.Spec.Incidents, reported("one-more", "rita", ""))
	})).To(Succeed())
	g.Expect(d.change(g, "alice", "full-ledger", approve("alice"))).To(Succeed())
	g.Expect(d.change(g, "bob", "full-ledger", func(a *v1alpha1.CustomerAccount) { a.Spec.DisplayName = "Full Ledger Ltd" })).To(Succeed())
}
