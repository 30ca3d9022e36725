// Package e2e runs the whole operator the way it is deployed: as its service
// account, with exactly the RBAC generated into config/rbac and under the
// shipped admission policy, against a real kube-apiserver.
package e2e

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/manifests"
)

const (
	operatorNamespace = "account-lifecycle-operator-system"
	operatorUser      = "system:serviceaccount:" + operatorNamespace + ":account-lifecycle-operator-controller-manager"
	waitFor           = 30 * time.Second
	pollEach          = 100 * time.Millisecond
)

func TestOperatorAsItsServiceAccount(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env, _, admin := controlPlane(t, g)
	g.Expect(manifests.ApplyDir(ctx, admin, filepath.Join(root, "config", "rbac"), "e2e")).To(Succeed())

	// The manager authenticates as the operator's service account.
	user, err := env.AddUser(envtest.User{Name: operatorUser,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + operatorNamespace}},
		&rest.Config{QPS: 50, Burst: 100})
	g.Expect(err).NotTo(HaveOccurred())
	stop := startManager(g, user.Config(), nil)
	t.Cleanup(func() { g.Expect(stop()).To(Succeed()) })

	// A tenant with a workload and a binding; the policy terminates at once.
	tenant := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "globex-prod",
		Labels: map[string]string{v1alpha1.LabelAccount: "globex"}}}
	g.Expect(admin.Create(ctx, tenant)).To(Succeed())
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: tenant.Name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
	g.Expect(admin.Create(ctx, deploy)).To(Succeed())
	editors := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "developers", Namespace: tenant.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "globex-devs"}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
	}
	g.Expect(admin.Create(ctx, editors)).To(Succeed())

	policy := &v1alpha1.AccountPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "strict"},
		Spec: v1alpha1.AccountPolicySpec{
			Thresholds:   v1alpha1.Thresholds{Warned: 1, FinalNotice: 2, Terminated: 3},
			NoticePeriod: &metav1.Duration{},
			Approvals:    v1alpha1.Approvals{Required: ptr.To[int32](0)},
		},
	}
	g.Expect(admin.Create(ctx, policy)).To(Succeed())
	now := metav1.NewTime(time.Now().Add(-time.Minute))
	account := &v1alpha1.CustomerAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "globex"},
		Spec: v1alpha1.CustomerAccountSpec{PolicyName: policy.Name, Incidents: []v1alpha1.Incident{{
			ID: "unpaid-invoices", Category: v1alpha1.CategoryNonPayment, Severity: v1alpha1.SeverityCritical,
			OccurredAt: now, ReportedBy: "billing", Summary: "Three invoices unpaid after reminders.",
		}}},
	}
	g.Expect(admin.Create(ctx, account)).To(Succeed())

	// Terminated: every default action in force, done by the operator's own
	// identity inside a namespace its admission policy has frozen.
	g.Eventually(func(g Gomega) {
		a := &v1alpha1.CustomerAccount{}
		g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(account), a)).To(Succeed())
		g.Expect(a.Status.Phase).To(Equal(v1alpha1.PhaseTerminated))
		g.Expect(a.Status.Namespaces).To(ConsistOf(HaveField("Actions", HaveLen(5))))
		d := &appsv1.Deployment{}
		g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(deploy), d)).To(Succeed())
		g.Expect(*d.Spec.Replicas).To(BeZero())
		err := admin.Get(ctx, client.ObjectKeyFromObject(editors), &rbacv1.RoleBinding{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "binding still present: %v", err)
	}, waitFor, pollEach).Should(Succeed())

	// Deleting the account restores everything first, as the same identity.
	g.Expect(admin.Delete(ctx, account)).To(Succeed())
	g.Eventually(func(g Gomega) {
		err := admin.Get(ctx, client.ObjectKeyFromObject(account), &v1alpha1.CustomerAccount{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "account not yet gone: %v", err)
	}, waitFor, pollEach).Should(Succeed())
	d := &appsv1.Deployment{}
	g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(deploy), d)).To(Succeed())
	g.Expect(*d.Spec.Replicas).To(Equal(int32(3)))
	g.Expect(d.Annotations).To(BeEmpty())
	rb := &rbacv1.RoleBinding{}
	g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(editors), rb)).To(Succeed())
	g.Expect(rb.Subjects).To(Equal(editors.Subjects))
	g.Expect(rb.RoleRef).To(Equal(editors.RoleRef))
	ns := &corev1.Namespace{}
	g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(tenant), ns)).To(Succeed())
	g.Expect(ns.Labels).To(Equal(map[string]string{
		v1alpha1.LabelAccount: "globex", corev1.LabelMetadataName: tenant.Name,
	}))
	var secrets corev1.SecretList
	g.Expect(admin.List(ctx, &secrets, client.InNamespace(operatorNamespace))).To(Succeed())
	g.Expect(secrets.Items).To(BeEmpty(), "access records left behind")
}
