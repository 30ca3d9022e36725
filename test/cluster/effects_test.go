package cluster

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/enforcement"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// A tenant bound to the aggregated edit ClusterRole, the most common
// binding in real clusters, can work; under FinalNotice the freeze refuses
// its changes, naming the account; once Terminated, RBAC refuses even its
// reads (its binding is gone); reinstated, it works again.
func TestEditorIsStoppedAndComesBack(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	n := names(t)
	ctx := context.Background()
	p := policy(t, g, n("editor-policy"), v1alpha1.Enforcement{
		FinalNotice: []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges},
		Terminated:  []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges, v1alpha1.ActionRevokeAccess},
	})
	ns := tenantNamespace(t, g, n("initech"), n("initech-app"))
	g.Expect(admin.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "developers", Namespace: ns.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "peter@initech.example"}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
	})).To(Succeed())
	peter := tenantUser(t, "peter@initech.example")
	configMap := func(name string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns.Name}, Data: map[string]string{"k": "v"}}
	}

	// Before: edit works (it has rules only because the controller manager
	// aggregates them).
	g.Eventually(func() error { return peter.Create(ctx, configMap("before")) }, waitFor, pollEach).Should(Succeed())

	account(t, g, n("initech"), p.Name, 2)
	settled(g, n("initech"), v1alpha1.PhaseFinalNotice)
	// The API server's admission sees the frozen label through its own
	// namespace informer, a moment after the operator wrote it.
	g.Eventually(func(g Gomega) {
		err := peter.Create(ctx, configMap("frozen"))
		g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "a frozen namespace took a change: %v", err)
		g.Expect(err.Error()).To(ContainSubstring("account " + n("initech") + " is in phase FinalNotice"))
	}, 5*time.Second, 50*time.Millisecond).Should(Succeed())
	g.Expect(peter.List(ctx, &corev1.ConfigMapList{}, client.InNamespace(ns.Name))).To(Succeed(), "reads stay allowed while frozen")

	report(g, n("initech"), 1)
	settled(g, n("initech"), v1alpha1.PhaseTerminated)
	err := peter.List(ctx, &corev1.ConfigMapList{}, client.InNamespace(ns.Name))
	g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "the revoked editor could still read: %v", err)
	g.Expect(err.Error()).To(ContainSubstring(`cannot list resource "configmaps"`), "refused by RBAC, not by admission")

	reinstate(g, n("initech"))
	settled(g, n("initech"), v1alpha1.PhaseGood)
	g.Eventually(func() error { return peter.Create(ctx, configMap("after")) }, waitFor, pollEach).Should(Succeed())
}

// ScaleToZero: the tenant's pods go away (a Deployment's and a running
// Job's), and reinstated, the same number are Running again.
func TestWorkloadsStopAndComeBack(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	n := names(t)
	ctx := context.Background()
	p := policy(t, g, n("scale-policy"), v1alpha1.Enforcement{
		Terminated: []v1alpha1.EnforcementAction{v1alpha1.ActionScaleToZero},
	})
	ns := tenantNamespace(t, g, n("globex"), n("globex-prod"))
	web := map[string]string{"app": "web"}
	g.Expect(admin.Create(ctx, testenv.Deployment(ns.Name, "web", 3))).To(Succeed())
	worker := map[string]string{"app": "worker"}
	g.Expect(admin.Create(ctx, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "reindex", Namespace: ns.Name},
		Spec: batchv1.JobSpec{
			Parallelism: ptr.To[int32](2), Completions: ptr.To[int32](2),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: worker},
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{Name: "reindex", Image: "busybox"}}},
			},
		},
	})).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(runningPods(g, ns.Name, web)).To(Equal(3))
		g.Expect(runningPods(g, ns.Name, worker)).To(Equal(2))
	}, waitFor, pollEach).Should(Succeed())

	account(t, g, n("globex"), p.Name, 3)
	settled(g, n("globex"), v1alpha1.PhaseTerminated)
	g.Eventually(func(g Gomega) {
		g.Expect(allPods(g, ns.Name)).To(BeZero(), "pods still there under ScaleToZero")
	}, waitFor, pollEach).Should(Succeed())
	// And they stay gone: no controller (the Job's above all) starts new
	// ones. The controllers act within milliseconds here, so a few seconds
	// show it.
	g.Consistently(func(g Gomega) {
		g.Expect(allPods(g, ns.Name)).To(BeZero(), "a pod was started under ScaleToZero")
	}, 3*time.Second, pollEach).Should(Succeed())

	reinstate(g, n("globex"))
	settled(g, n("globex"), v1alpha1.PhaseGood)
	g.Eventually(func(g Gomega) {
		g.Expect(runningPods(g, ns.Name, web)).To(Equal(3))
		g.Expect(runningPods(g, ns.Name, worker)).To(Equal(2))
	}, waitFor, pollEach).Should(Succeed())
	// Restored exactly, with nothing left over: the deployment controller
	// copied the Deployment's record annotation onto its ReplicaSet, which
	// is not a conflict to report, and no record annotation remains.
	var sets appsv1.ReplicaSetList
	g.Expect(admin.List(ctx, &sets, client.InNamespace(ns.Name))).To(Succeed())
	for _, rs := range sets.Items {
		g.Expect(rs.Annotations).NotTo(HaveKey(enforcement.AnnotationPriorReplicas), "ReplicaSet %s", rs.Name)
	}
	g.Expect(warnings(g, n("globex"))).NotTo(ContainElement(Or(HavePrefix(v1alpha1.ReasonRestoreConflict), HavePrefix(v1alpha1.ReasonDriftCorrected))))
}

// warnings are the reasons and notes of the account's Warning Events.
func warnings(g Gomega, account string) []string {
	var list eventsv1.EventList
	g.Expect(admin.List(context.Background(), &list, client.InNamespace(metav1.NamespaceDefault))).To(Succeed())
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Name == account && e.Regarding.Kind == "CustomerAccount" && e.Type == corev1.EventTypeWarning {
			out = append(out, e.Reason+": "+e.Note)
		}
	}
	return out
}

// BlockNewWorkloads: the quota refuses a new pod (as the controllers keep
// its usage counted), even to an administrator; lifted, pods start again.
func TestQuotaRefusesNewPods(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	n := names(t)
	ctx := context.Background()
	p := policy(t, g, n("quota-policy"), v1alpha1.Enforcement{
		Warned: []v1alpha1.EnforcementAction{v1alpha1.ActionBlockNewWorkloads},
	})
	ns := tenantNamespace(t, g, n("hooli"), n("hooli-jobs"))
	pod := func(name string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns.Name},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	}
	g.Expect(admin.Create(ctx, pod("before"))).To(Succeed())

	a := account(t, g, n("hooli"), p.Name, 1)
	settled(g, n("hooli"), v1alpha1.PhaseWarned)
	// The quota bites once the controller manager has counted its usage.
	g.Eventually(func(g Gomega) {
		err := admin.Create(ctx, pod("blocked"))
		g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "a pod was created under BlockNewWorkloads: %v", err)
		g.Expect(err.Error()).To(ContainSubstring("exceeded quota: " + enforcement.QuotaName))
	}, waitFor, pollEach).Should(Succeed())
	g.Expect(runningPods(g, ns.Name, nil)).To(Equal(1), "the running pod is left alone")

	// Waiving the incident lifts the block.
	g.Eventually(func(g Gomega) {
		cur := &v1alpha1.CustomerAccount{}
		g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(a), cur)).To(Succeed())
		cur.Spec.Incidents[0].Waiver = &v1alpha1.Waiver{By: "support-lead", At: metav1.Now(), Reason: "Our own outage caused it."}
		g.Expect(admin.Update(ctx, cur)).To(Succeed())
	}, waitFor, pollEach).Should(Succeed())
	settled(g, n("hooli"), v1alpha1.PhaseGood)
	g.Eventually(func() error { return admin.Create(ctx, pod("after")) }, waitFor, pollEach).Should(Succeed())
}

// A suspended CronJob starts no Job, while the same CronJob in a namespace
// not restricted does within the same minute.
func TestCronJobStartsNothingWhileSuspended(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	n := names(t)
	ctx := context.Background()
	p := policy(t, g, n("cron-policy"), v1alpha1.Enforcement{
		Terminated: []v1alpha1.EnforcementAction{v1alpha1.ActionScaleToZero},
	})
	restricted := tenantNamespace(t, g, n("umbrella"), n("umbrella-cron"))
	control := tenantNamespace(t, g, n("wonka"), n("wonka-cron"))
	cron := func(ns string) *batchv1.CronJob {
		return &batchv1.CronJob{
			ObjectMeta: metav1.ObjectMeta{Name: "nightly", Namespace: ns},
			Spec: batchv1.CronJobSpec{Schedule: "* * * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
				Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{Name: "backup", Image: "busybox"}}}},
			}}},
		}
	}
	g.Expect(admin.Create(ctx, cron(restricted.Name))).To(Succeed())
	g.Expect(admin.Create(ctx, cron(control.Name))).To(Succeed())
	account(t, g, n("umbrella"), p.Name, 3)
	settled(g, n("umbrella"), v1alpha1.PhaseTerminated)
	suspendedAt := time.Now()

	// Within the next scheduled minute, the control CronJob starts a Job...
	g.Eventually(func(g Gomega) {
		g.Expect(jobsSince(g, control.Name, suspendedAt)).NotTo(BeZero())
	}, 90*time.Second, time.Second).Should(Succeed())
	// ...and the suspended one none.
	g.Expect(jobsSince(g, restricted.Name, suspendedAt)).To(BeZero(), "a suspended CronJob started a Job")
	g.Expect(allPods(g, restricted.Name)).To(BeZero())
}

// jobsSince counts the namespace's Jobs created after t.
func jobsSince(g Gomega, namespace string, t time.Time) int {
	var jobs batchv1.JobList
	g.Expect(admin.List(context.Background(), &jobs, client.InNamespace(namespace))).To(Succeed())
	n := 0
	for _, j := range jobs.Items {
		if j.CreationTimestamp.After(t.Truncate(time.Second)) {
			n++
		}
	}
	return n
}

// Deleting a tenant namespace while every restriction is in force
// finishes (the controllers may still delete inside a frozen namespace),
// and the operator keeps no record of it.
func TestDeletingARestrictedNamespaceFinishes(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	n := names(t)
	ctx := context.Background()
	p := policy(t, g, n("delete-policy"), v1alpha1.Enforcement{Terminated: []v1alpha1.EnforcementAction{
		v1alpha1.ActionFreezeChanges, v1alpha1.ActionRevokeAccess, v1alpha1.ActionScaleToZero,
		v1alpha1.ActionIsolateNetwork, v1alpha1.ActionBlockNewWorkloads,
	}})
	ns := tenantNamespace(t, g, n("soylent"), n("soylent-prod"))
	g.Expect(admin.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "developers", Namespace: ns.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "soylent-devs"}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
	})).To(Succeed())
	app := map[string]string{"app": "api"}
	g.Expect(admin.Create(ctx, testenv.Deployment(ns.Name, "api", 2))).To(Succeed())
	g.Eventually(func(g Gomega) { g.Expect(runningPods(g, ns.Name, app)).To(Equal(2)) }, waitFor, pollEach).Should(Succeed())

	account(t, g, n("soylent"), p.Name, 3)
	settled(g, n("soylent"), v1alpha1.PhaseTerminated)
	g.Expect(records(g, ns.Name)).NotTo(BeZero(), "the revoked binding is recorded")

	g.Expect(admin.Delete(ctx, ns)).To(Succeed())
	g.Eventually(func(g Gomega) {
		err := admin.Get(ctx, client.ObjectKeyFromObject(ns), &corev1.Namespace{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "namespace still there: %v", err)
	}, waitFor, pollEach).Should(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(records(g, ns.Name)).To(BeZero(), "records of a deleted namespace left behind")
		a := &v1alpha1.CustomerAccount{}
		g.Expect(admin.Get(ctx, client.ObjectKey{Name: n("soylent")}, a)).To(Succeed())
		g.Expect(a.Status.Namespaces).To(BeEmpty())
	}, waitFor, pollEach).Should(Succeed())
}

// records counts the operator's records of a namespace.
func records(g Gomega, namespace string) int {
	var secrets corev1.SecretList
	g.Expect(admin.List(context.Background(), &secrets, client.InNamespace(operatorNamespace),
		client.MatchingLabels{enforcement.LabelRecordNamespace: namespace})).To(Succeed())
	return len(secrets.Items)
}
