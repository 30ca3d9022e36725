package e2e

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/controller"
	"github.com/accountops/account-lifecycle-operator/internal/enforcement"
)

// errCrash stands for the process dying: the manager is stopped at once.
var errCrash = errors.New("simulated crash")

// crashNow "kills" the manager, once: it closes crash and cancels the
// manager's context, and fails the request at hand.
func crashNow(crash chan struct{}, cancel context.CancelFunc) error {
	select {
	case <-crash:
	default:
		close(crash)
		cancel()
	}
	return errCrash
}

// runManager runs a manager until it stops, either because crashAfter
// RoleBinding deletions were allowed through (then it "crashes" on the
// next one) or because stop is closed. crashAfter < 0 never crashes.
func runManager(g Gomega, cfg *rest.Config, crashAfter int32) (crashed <-chan struct{}, stop func()) {
	direct, err := client.NewWithWatch(cfg, client.Options{Scheme: controller.NewScheme()})
	g.Expect(err).NotTo(HaveOccurred())
	crash := make(chan struct{})
	var deleted atomic.Int32
	stopManager := startManager(g, cfg, func(_ ctrl.Manager, cancel context.CancelFunc, o *controller.Options) {
		o.Enforcer.Client = interceptor.NewClient(direct, interceptor.Funcs{
			Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
				if _, ok := obj.(*rbacv1.RoleBinding); ok && crashAfter >= 0 && deleted.Add(1) > crashAfter {
					return crashNow(crash, cancel)
				}
				return c.Delete(ctx, obj, opts...)
			},
		})
	})
	return crash, func() { _ = stopManager() }
}

// The manager dies after the access record is written but before any
// binding is removed, and again after some are removed; a fresh manager
// finishes revoking, and reinstatement still restores every binding exactly.
func TestManagerCrashDuringRevokeThenFreshManagerFinishes(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	_, cfg, admin := controlPlane(t, g)

	tenant := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "hooli-prod",
		Labels: map[string]string{v1alpha1.LabelAccount: "hooli"}}}
	g.Expect(admin.Create(ctx, tenant)).To(Succeed())
	var originals []rbacv1.RoleBinding
	for _, b := range []struct{ name, kind, subject, role string }{
		{"admins", rbacv1.UserKind, "gavin", "admin"},
		{"devs", rbacv1.GroupKind, "hooli-devs", "edit"},
		{"auditors", rbacv1.GroupKind, "hooli-audit", "view"},
		{"ci", rbacv1.ServiceAccountKind, "deployer", "edit"},
	} {
		s := rbacv1.Subject{Kind: b.kind, Name: b.subject}
		if b.kind == rbacv1.ServiceAccountKind {
			s.Namespace = tenant.Name
		} else {
			s.APIGroup = rbacv1.GroupName
		}
		rb := rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: b.name, Namespace: tenant.Name,
				Labels: map[string]string{"team": b.subject}, Annotations: map[string]string{"owner": "platform"}},
			Subjects: []rbacv1.Subject{s},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: b.role},
		}
		g.Expect(admin.Create(ctx, rb.DeepCopy())).To(Succeed())
		originals = append(originals, rb)
	}
	bindings := func(g Gomega) map[string]rbacv1.RoleBinding {
		var list rbacv1.RoleBindingList
		g.Expect(admin.List(ctx, &list, client.InNamespace(tenant.Name))).To(Succeed())
		out := map[string]rbacv1.RoleBinding{}
		for _, rb := range list.Items {
			out[rb.Name] = rb
		}
		return out
	}
	// records are the record Secrets of the tenant's bindings.
	records := func(g Gomega) []corev1.Secret {
		var list corev1.SecretList
		g.Expect(admin.List(ctx, &list, client.InNamespace(operatorNamespace),
			client.MatchingLabels{enforcement.LabelRecordNamespaceUID: string(tenant.UID)})).To(Succeed())
		return list.Items
	}

	policy := &v1alpha1.AccountPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "immediate"},
		Spec: v1alpha1.AccountPolicySpec{
			Thresholds:   v1alpha1.Thresholds{Warned: 1, FinalNotice: 2, Terminated: 3},
			NoticePeriod: &metav1.Duration{}, Approvals: v1alpha1.Approvals{Required: ptr.To[int32](0)},
			Enforcement: v1alpha1.Enforcement{Terminated: []v1alpha1.EnforcementAction{v1alpha1.ActionRevokeAccess}},
		},
	}
	g.Expect(admin.Create(ctx, policy)).To(Succeed())

	// First manager: dies on its first binding deletion, after the record.
	crashed, stop := runManager(g, cfg, 0)
	g.Expect(admin.Create(ctx, &v1alpha1.CustomerAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "hooli"},
		Spec: v1alpha1.CustomerAccountSpec{PolicyName: policy.Name, Incidents: []v1alpha1.Incident{{
			ID: "chargeback-fraud", Category: v1alpha1.CategoryNonPayment, Severity: v1alpha1.SeverityCritical,
			OccurredAt: metav1.NewTime(time.Now().Add(-time.Minute)), ReportedBy: "billing",
			Summary: "Disputed every invoice of the quarter.",
		}}},
	})).To(Succeed())
	g.Eventually(crashed, waitFor).Should(BeClosed())
	stop()
	g.Expect(records(g)).NotTo(BeEmpty(), "the record is written before any binding is removed")
	g.Expect(bindings(g)).To(HaveLen(4))

	// Second manager: removes one binding, then dies.
	crashed, stop = runManager(g, cfg, 1)
	g.Eventually(crashed, waitFor).Should(BeClosed())
	stop()
	g.Expect(records(g)).NotTo(BeEmpty())
	g.Expect(bindings(g)).To(HaveLen(3))

	// A fresh manager finishes the job.
	_, stop = runManager(g, cfg, -1)
	defer stop()
	g.Eventually(func(g Gomega) {
		g.Expect(bindings(g)).To(BeEmpty())
		a := &v1alpha1.CustomerAccount{}
		g.Expect(admin.Get(ctx, client.ObjectKey{Name: "hooli"}, a)).To(Succeed())
		g.Expect(a.Status.Phase).To(Equal(v1alpha1.PhaseTerminated))
		g.Expect(a.Status.Namespaces).To(ConsistOf(HaveField("Actions", ConsistOf(v1alpha1.ActionRevokeAccess))))
	}, waitFor, pollEach).Should(Succeed())

	// Reinstatement restores every binding exactly and drops the record.
	g.Eventually(func() error {
		a := &v1alpha1.CustomerAccount{}
		if err := admin.Get(ctx, client.ObjectKey{Name: "hooli"}, a); err != nil {
			return err
		}
		a.Spec.Reinstatement = v1alpha1.Reinstatement{By: "cfo", At: metav1.NewTime(time.Now().Add(time.Second)), Reason: "Paid in full."}
		return admin.Update(ctx, a)
	}, waitFor, pollEach).Should(Succeed())
	g.Eventually(func(g Gomega) {
		got := bindings(g)
		g.Expect(got).To(HaveLen(len(originals)))
		for _, want := range originals {
			rb := got[want.Name]
			g.Expect(rb.Labels).To(Equal(want.Labels), want.Name)
			g.Expect(rb.Annotations).To(Equal(want.Annotations), want.Name)
			g.Expect(rb.Subjects).To(Equal(want.Subjects), want.Name)
			g.Expect(rb.RoleRef).To(Equal(want.RoleRef), want.Name)
		}
		g.Expect(records(g)).To(BeEmpty(), "the records are dropped once every binding is back")
	}, waitFor, pollEach).Should(Succeed())
}
