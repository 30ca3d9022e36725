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
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// The operator tells its operator what it does: one info line for the
// transition it recorded and one per enforcement change, and nothing at
// all for a settled account.
func TestOperatorLogsWhatItRecords(t *testing.T) {
	t.Parallel() // drives Reconcile itself on its own control plane: no timing
	g := NewWithT(t)
	ctx := context.Background()
	_, _, admin := controlPlane(t, g)
	g.Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: "hooli-prod", Labels: map[string]string{v1alpha1.LabelAccount: "hooli"}}})).To(Succeed())
	now := time.Now().Truncate(time.Second)
	lateInvoiceAccount(g, admin, "hooli", v1alpha1.Thresholds{Warned: 1, FinalNotice: 5, Terminated: 9},
		v1alpha1.Enforcement{Warned: []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges}}, now)

	var mu sync.Mutex
	var lines []string
	logger := funcr.NewJSON(func(obj string) { mu.Lock(); lines = append(lines, obj); mu.Unlock() }, funcr.Options{})
	r := directReconciler(admin, admin, now)
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
