package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/controller"
	"github.com/accountops/account-lifecycle-operator/internal/enforcement"
)

// electingManager runs a manager with leader election, as two replicas do;
// kill stops it without releasing the lease, as a crash would.
type electingManager struct {
	elected <-chan struct{}
	kill    func()
}

func startElectingManager(g Gomega, cfg *rest.Config) electingManager {
	ctx, cancel := context.WithCancel(context.Background())
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: controller.NewScheme(), Client: controller.ClientOptions(), Cache: controller.CacheOptions(),
		Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Controller:              config.Controller{SkipNameValidation: ptr.To(true)},
		LeaderElection:          true,
		LeaderElectionID:        "account-lifecycle-operator.accounts.lifecycle.dev",
		LeaderElectionNamespace: operatorNamespace,
		LeaseDuration:           ptr.To(2 * time.Second),
		RenewDeadline:           ptr.To(1 * time.Second),
		RetryPeriod:             ptr.To(200 * time.Millisecond),
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(controller.SetupAll(mgr, controller.DefaultOptions(mgr, operatorNamespace))).To(Succeed())
	done := make(chan struct{})
	go func() { _ = mgr.Start(ctx); close(done) }()
	return electingManager{elected: mgr.Elected(), kill: func() { cancel(); <-done }}
}

// Two managers with leader election; the leader is killed again and again
// while a wave of accounts goes Good -> FinalNotice -> Terminated. Every
// account ends right, with each transition recorded and announced once and
// one record per removed binding. RELIABILITY_LONG=1: 200 accounts, 10 kills.
func TestLeaderKilledDuringAWave(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	_, cfg, admin := controlPlane(t, g)
	accounts, kills := 20, 2
	if os.Getenv("RELIABILITY_LONG") == "1" {
		accounts, kills = 200, 10
	}
	policy := &v1alpha1.AccountPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "swift"},
		Spec: v1alpha1.AccountPolicySpec{
			Thresholds:   v1alpha1.Thresholds{Warned: 1, FinalNotice: 2, Terminated: 3},
			NoticePeriod: &metav1.Duration{}, Approvals: v1alpha1.Approvals{Required: ptr.To[int32](0)},
			Enforcement: v1alpha1.Enforcement{Terminated: []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges, v1alpha1.ActionRevokeAccess}},
		},
	}
	g.Expect(admin.Create(ctx, policy)).To(Succeed())

	replicas := []electingManager{startElectingManager(g, cfg), startElectingManager(g, cfg)}
	defer func() {
		for _, m := range replicas {
			m.kill()
		}
	}()
	for i := range accounts {
		name := fmt.Sprintf("tenant-%03d", i)
		g.Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name,
			Labels: map[string]string{v1alpha1.LabelAccount: name}}})).To(Succeed())
		g.Expect(admin.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "team", Namespace: name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name + "-admin"}},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
		})).To(Succeed())
		g.Expect(admin.Create(ctx, &v1alpha1.CustomerAccount{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: v1alpha1.CustomerAccountSpec{PolicyName: policy.Name, Incidents: []v1alpha1.Incident{{
				ID: "fraud", Category: v1alpha1.CategoryNonPayment, Severity: v1alpha1.SeverityCritical,
				OccurredAt: metav1.NewTime(time.Now().Add(-time.Minute)), ReportedBy: "billing", Summary: "Chargeback fraud.",
			}}},
		})).To(Succeed())
	}

	// Kill whichever replica leads, and start a new one in its place.
	for range kills {
		var leader int
		g.Eventually(func() bool {
			for i, m := range replicas {
				select {
				case <-m.elected:
					leader = i
					return true
				default:
				}
			}
			return false
		}, waitFor, 50*time.Millisecond).Should(BeTrue(), "a leader is elected")
		time.Sleep(300 * time.Millisecond) // let it work for a moment before dying
		replicas[leader].kill()
		replicas[leader] = startElectingManager(g, cfg)
	}

	g.Eventually(func(g Gomega) {
		var list v1alpha1.CustomerAccountList
		g.Expect(admin.List(ctx, &list)).To(Succeed())
		g.Expect(list.Items).To(HaveLen(accounts))
		for _, a := range list.Items {
			g.Expect(a.Status.Phase).To(Equal(v1alpha1.PhaseTerminated), a.Name)
		}
	}, 4*waitFor, 200*time.Millisecond).Should(Succeed())

	var list v1alpha1.CustomerAccountList
	g.Expect(admin.List(ctx, &list)).To(Succeed())
	var events eventsv1.EventList
	g.Expect(admin.List(ctx, &events)).To(Succeed())
	announced := map[string]int{}
	for _, e := range events.Items {
		if e.Action == "Transition" {
			announced[e.Regarding.Name]++
		}
	}
	for _, a := range list.Items {
		// Each transition is recorded once: FinalNotice then Terminated, or,
		// where a leader died after enforcing but before recording a new
		// account's first transition, the phase its successor recovered
		// from the namespace (reason StateRecovered) and what followed.
		seen := map[string]bool{}
		for _, h := range a.Status.History {
			key := string(h.To) + "/" + h.Reason
			g.Expect(seen[key]).To(BeFalse(), "%s: %s recorded twice: %+v", a.Name, key, a.Status.History)
			seen[key] = true
		}
		g.Expect(a.Status.History).NotTo(BeEmpty(), a.Name)
		g.Expect(a.Status.History[0].To).To(Equal(v1alpha1.PhaseTerminated), a.Name)
		g.Expect(announced[a.Name]).To(Equal(len(a.Status.History)), "%s: each recorded transition announced once", a.Name)
		var bindings rbacv1.RoleBindingList
		g.Expect(admin.List(ctx, &bindings, client.InNamespace(a.Name))).To(Succeed())
		g.Expect(bindings.Items).To(BeEmpty(), a.Name)
		var records corev1.SecretList
		g.Expect(admin.List(ctx, &records, client.InNamespace(operatorNamespace),
			client.MatchingLabels{enforcement.LabelRecordNamespace: a.Name})).To(Succeed())
		g.Expect(records.Items).To(HaveLen(1), "%s: one record for its one binding", a.Name)
	}
}
