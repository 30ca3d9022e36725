package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/controller"
)

// A conflict storm: every other status write of the manager is refused
// with a 409 while a second writer keeps adding incidents, and the
// enforcer's namespace writes fail with a 500 for a while. No incident is
// lost, each transition is recorded and announced once, Ready=False names
// the enforcement failure while it lasts, and once all is written the
// manager stops writing (no hot loop).
func TestConflictStormAndFailingEnforcement(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	_, cfg, admin := controlPlane(t, g)
	policy := &v1alpha1.AccountPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "steady"},
		Spec: v1alpha1.AccountPolicySpec{
			Thresholds:  v1alpha1.Thresholds{Warned: 2, FinalNotice: 4, Terminated: 100},
			Enforcement: v1alpha1.Enforcement{Warned: []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges}},
		},
	}
	g.Expect(admin.Create(ctx, policy)).To(Succeed())
	g.Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "umbrella-prod",
		Labels: map[string]string{v1alpha1.LabelAccount: "umbrella"}}})).To(Succeed())

	var statusWrites, refused atomic.Int64
	var namespaceFailures atomic.Int64
	namespaceFailures.Store(6)
	errEnforce := apierrors.NewInternalError(errors.New("injected: etcd leader changed"))
	stop := startManager(g, cfg, func(mgr ctrl.Manager, _ context.CancelFunc, o *controller.Options) {
		o.Client = interceptor.NewClient(withoutWatch{mgr.GetClient()}, interceptor.Funcs{
			SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
				if _, ok := obj.(*v1alpha1.CustomerAccount); ok && sub == "status" {
					if statusWrites.Add(1)%2 == 1 {
						refused.Add(1)
						return apierrors.NewConflict(schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "customeraccounts"},
							obj.GetName(), errors.New("injected conflict"))
					}
				}
				return c.SubResource(sub).Update(ctx, obj, opts...)
			},
		})
		o.Enforcer.Client = interceptor.NewClient(withoutWatch{mgr.GetClient()}, interceptor.Funcs{
			Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
				if _, ok := obj.(*corev1.Namespace); ok && namespaceFailures.Add(-1) >= 0 {
					return errEnforce
				}
				return c.Patch(ctx, obj, p, opts...)
			},
		})
	})
	defer func() { g.Expect(stop()).To(Succeed()) }()

	g.Expect(admin.Create(ctx, &v1alpha1.CustomerAccount{ObjectMeta: metav1.ObjectMeta{Name: "umbrella"},
		Spec: v1alpha1.CustomerAccountSpec{PolicyName: policy.Name}})).To(Succeed())
	// The second writer: ten incidents, one at a time, each with retries.
	const incidents = 10
	for i := range incidents {
		g.Eventually(func() error {
			a := &v1alpha1.CustomerAccount{}
			if err := admin.Get(ctx, client.ObjectKey{Name: "umbrella"}, a); err != nil {
				return err
			}
			a.Spec.Incidents = append(a.Spec.Incidents, v1alpha1.Incident{
				ID: fmt.Sprintf("late-%d", i), Category: v1alpha1.CategoryNonPayment, OccurredAt: metav1.NewTime(time.Now().Add(-time.Minute)),
				ReportedBy: "billing", Summary: "Late again.",
			})
			return admin.Update(ctx, a)
		}, waitFor, pollEach).Should(Succeed())
		if i == 2 {
			// Warned, with the freeze failing: Ready says why.
			g.Eventually(func(g Gomega) {
				a := &v1alpha1.CustomerAccount{}
				g.Expect(admin.Get(ctx, client.ObjectKey{Name: "umbrella"}, a)).To(Succeed())
				c := meta.FindStatusCondition(a.Status.Conditions, v1alpha1.ConditionReady)
				g.Expect(c).NotTo(BeNil())
				g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
				g.Expect(c.Reason).To(Equal(v1alpha1.ReasonEnforcementFailed))
				g.Expect(c.Message).To(ContainSubstring("injected: etcd leader changed"))
			}, waitFor, pollEach).Should(Succeed())
		}
	}

	g.Eventually(func(g Gomega) {
		a := &v1alpha1.CustomerAccount{}
		g.Expect(admin.Get(ctx, client.ObjectKey{Name: "umbrella"}, a)).To(Succeed())
		g.Expect(a.Status.Score).To(HaveValue(Equal(int32(incidents))), "no incident lost")
		g.Expect(a.Status.Phase).To(Equal(v1alpha1.PhaseFinalNotice))
		g.Expect(a.Status.ObservedGeneration).To(Equal(a.Generation))
		c := meta.FindStatusCondition(a.Status.Conditions, v1alpha1.ConditionReady)
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		var to []string
		for _, h := range a.Status.History {
			to = append(to, string(h.To))
		}
		g.Expect(strings.Join(to, ",")).To(Equal("FinalNotice,Warned"), "each transition recorded once")
		var events eventsv1.EventList
		g.Expect(admin.List(ctx, &events)).To(Succeed())
		n := 0
		for _, e := range events.Items {
			if e.Regarding.Name == "umbrella" && e.Action == "Transition" {
				n++
			}
		}
		g.Expect(n).To(Equal(2), "each transition announced once")
	}, waitFor, pollEach).Should(Succeed())
	g.Expect(refused.Load()).To(BeNumerically(">", 0))

	settled := statusWrites.Load()
	g.Consistently(statusWrites.Load, 3*time.Second, pollEach).Should(Equal(settled), "no hot loop once settled")
	t.Logf("status writes attempted: %d (%d refused with 409) for %d spec changes and 2 transitions", settled, refused.Load(), incidents+1)
	g.Expect(settled).To(BeNumerically("<=", 6*(incidents+1)), "writes bounded")
}
