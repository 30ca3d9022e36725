package e2e

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/controller"
	"github.com/accountops/account-lifecycle-operator/internal/enforcement"
)

// The operator tells its operator what it does: one info line for the
// transition it recorded and one per enforcement change, and nothing at
// all for a settled account.
func TestOperatorLogsWhatItRecords(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	_, _, admin := controlPlane(t, g)
	policy := &v1alpha1.AccountPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "standard"},
		Spec: v1alpha1.AccountPolicySpec{
			Thresholds:  v1alpha1.Thresholds{Warned: 1, FinalNotice: 5, Terminated: 9},
			Enforcement: v1alpha1.Enforcement{Warned: []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges}},
		},
	}
	g.Expect(admin.Create(ctx, policy)).To(Succeed())
	g.Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: "hooli-prod", Labels: map[string]string{v1alpha1.LabelAccount: "hooli"}}})).To(Succeed())
	now := time.Now().Truncate(time.Second)
	g.Expect(admin.Create(ctx, &v1alpha1.CustomerAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "hooli"},
		Spec: v1alpha1.CustomerAccountSpec{PolicyName: policy.Name, Incidents: []v1alpha1.Incident{{
			ID: "late-invoice", Category: v1alpha1.CategoryNonPayment, OccurredAt: metav1.NewTime(now.Add(-time.Minute)),
			ReportedBy: "billing", Summary: "Invoice 90 days overdue.",
		}}},
	})).To(Succeed())

	var mu sync.Mutex
	var lines []string
	logger := funcr.NewJSON(func(obj string) { mu.Lock(); lines = append(lines, obj); mu.Unlock() }, funcr.Options{})
	r := &controller.CustomerAccountReconciler{
		Client: admin, Clock: clocktesting.NewFakeClock(now), Recorder: discard{},
		Enforcer: &enforcement.Enforcer{Client: admin, OperatorNamespace: operatorNamespace},
	}
	reconcile := func() []string {
		mu.Lock()
		lines = nil
		mu.Unlock()
		_, err := r.Reconcile(log.IntoContext(ctx, logger), ctrl.Request{NamespacedName: client.ObjectKey{Name: "hooli"}})
		g.Expect(err).NotTo(HaveOccurred())
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), lines...)
	}
	got := strings.Join(reconcile(), "\n")
	g.Expect(got).To(ContainSubstring(`"msg":"transition recorded","from":"Good","to":"Warned","reason":"Escalated"`))
	g.Expect(got).To(ContainSubstring(`"msg":"enforcement","namespace":"hooli-prod","type":"Normal","reason":"AccessRestricted"`))
	g.Expect(reconcile()).To(BeEmpty(), "a settled account logs nothing")
}
