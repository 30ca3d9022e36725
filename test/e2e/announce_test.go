package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/controller"
)

// Issue Trust, item 18: the manager dies after recording a transition and
// before announcing it. The next manager announces it, once; a third one
// does not announce it again.
func TestTransitionAnnouncedAfterCrashBeforeEvent(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	_, cfg, admin := controlPlane(t, g)
	policy := &v1alpha1.AccountPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "standard"},
		Spec:       v1alpha1.AccountPolicySpec{Thresholds: v1alpha1.Thresholds{Warned: 1, FinalNotice: 5, Terminated: 9}},
	}
	g.Expect(admin.Create(ctx, policy)).To(Succeed())

	crashed := make(chan struct{})
	stop := startManager(g, cfg, func(mgr ctrl.Manager, cancel context.CancelFunc, o *controller.Options) {
		o.Client = interceptor.NewClient(withoutWatch{mgr.GetClient()}, interceptor.Funcs{
			Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				if e, ok := obj.(*eventsv1.Event); ok && e.Action == "Transition" {
					return crashNow(crashed, cancel)
				}
				return c.Create(ctx, obj, opts...)
			},
		})
	})
	g.Expect(admin.Create(ctx, &v1alpha1.CustomerAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "globex"},
		Spec: v1alpha1.CustomerAccountSpec{PolicyName: policy.Name, Incidents: []v1alpha1.Incident{{
			ID: "late-invoice", Category: v1alpha1.CategoryNonPayment, OccurredAt: metav1.NewTime(time.Now().Add(-time.Minute)),
			ReportedBy: "billing", Summary: "Invoice 90 days overdue.",
		}}},
	})).To(Succeed())
	g.Eventually(crashed, waitFor).Should(BeClosed())
	_ = stop()
	a := &v1alpha1.CustomerAccount{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Name: "globex"}, a)).To(Succeed())
	g.Expect(a.Status.Phase).To(Equal(v1alpha1.PhaseWarned), "the transition was recorded before the crash")

	transitionEvents := func(g Gomega) []eventsv1.Event {
		var list eventsv1.EventList
		g.Expect(admin.List(ctx, &list)).To(Succeed())
		var out []eventsv1.Event
		for _, e := range list.Items {
			if e.Regarding.Name == "globex" && e.Action == "Transition" {
				out = append(out, e)
			}
		}
		return out
	}
	g.Expect(transitionEvents(g)).To(BeEmpty())

	for range 2 {
		stop = startManager(g, cfg, nil)
		g.Eventually(func(g Gomega) {
			events := transitionEvents(g)
			g.Expect(events).To(HaveLen(1))
			g.Expect(events[0].Reason).To(Equal("Escalated"))
			g.Expect(events[0].Note).To(ContainSubstring("Warned"))
		}, waitFor, pollEach).Should(Succeed())
		g.Expect(stop()).To(Succeed())
	}
}

// withoutWatch lets the interceptor wrap the manager's (cached) client,
// which the controllers never use to watch.
type withoutWatch struct{ client.Client }

func (withoutWatch) Watch(context.Context, client.ObjectList, ...client.ListOption) (watch.Interface, error) {
	return nil, errors.New("watch is not used through this client")
}
