package enforcement

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/utils/ptr"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// What someone else changed while restricted is left as they made it and
// reported (status message + Warning event); everything else is restored
// exactly, and the next call is quiet.
func TestRestoreLeavesOthersChangesAndReportsThem(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	populate(t, ns)
	before := snapshot(t, ns)
	if _, err := newEnforcer(admin).Enforce(ctx, terminated(acct)); err != nil {
		t.Fatal(err)
	}

	// An administrator (exempt from the freeze) acts while restricted.
	create(t, admin, binding(ns, "alice-edit", "ClusterRole", "view", subject(rbacv1.UserKind, "mallory", "")))
	web := get(t, ns, "web", &appsv1.Deployment{})
	web.Spec.Replicas = ptr.To(int32(5))
	backup := get(t, ns, "backup", &batchv1.CronJob{})
	backup.Spec.Suspend = ptr.To(false)
	if err := admin.Update(ctx, web); err != nil {
		t.Fatal(err)
	}
	if err := admin.Update(ctx, backup); err != nil {
		t.Fatal(err)
	}
	// The next Enforce while still Terminated removes the newcomer again,
	// keeping the original in the record, and re-holds the workloads,
	// keeping their original prior values.
	res, err := newEnforcer(admin).Enforce(ctx, terminated(acct))
	if err != nil {
		t.Fatal(err)
	}
	requireEvent(t, res, ns, v1alpha1.ReasonAccessRestricted, "Deployment web")
	requireEvent(t, res, ns, v1alpha1.ReasonRecreatedWhileRevoked, "RoleBinding alice-edit was created again while access was revoked (ClusterRole view for User mallory)")
	requireTerminatedWorld(t, ns, acct.Name)

	// Now the changes happen again and restoration follows before any
	// re-enforcement.
	create(t, admin, binding(ns, "alice-edit", "ClusterRole", "view", subject(rbacv1.UserKind, "mallory", "")))
	web = get(t, ns, "web", &appsv1.Deployment{})
	web.Spec.Replicas = ptr.To(int32(5))
	backup = get(t, ns, "backup", &batchv1.CronJob{})
	backup.Spec.Suspend = ptr.To(false)
	if err := admin.Update(ctx, web); err != nil {
		t.Fatal(err)
	}
	if err := admin.Update(ctx, backup); err != nil {
		t.Fatal(err)
	}
	res, err = newEnforcer(admin).Enforce(ctx, reinstated(acct))
	if err != nil {
		t.Fatal(err)
	}
	st := requireStatus(t, res, ns, nil)
	for _, want := range []string{
		"RoleBinding alice-edit was recreated by someone else",
		"Deployment web was changed to 5 by someone else while restricted and was left as it is (it was 3 before)",
		"CronJob backup was changed to false",
	} {
		e := requireEvent(t, res, ns, v1alpha1.ReasonRestoreConflict, want)
		if e.Type != corev1.EventTypeWarning {
			t.Errorf("%s: type %s, want Warning", want, e.Type)
		}
		if !strings.Contains(st.Message, want) {
			t.Errorf("status message %q does not report %q", st.Message, want)
		}
	}

	want := withPhase(before, ns, "Good")
	gotAlice := get(t, ns, "alice-edit", &rbacv1.RoleBinding{})
	if gotAlice.Subjects[0].Name != "mallory" || gotAlice.RoleRef.Name != "view" {
		t.Errorf("the binding recreated by someone else was replaced: %+v", gotAlice)
	}
	gotWeb := get(t, ns, "web", &appsv1.Deployment{})
	if *gotWeb.Spec.Replicas != 5 || gotWeb.Annotations[AnnotationPriorReplicas] != "" {
		t.Errorf("web: replicas %d annotations %v, want 5 and no prior-replicas", *gotWeb.Spec.Replicas, gotWeb.Annotations)
	}
	gotBackup := get(t, ns, "backup", &batchv1.CronJob{})
	if *gotBackup.Spec.Suspend || gotBackup.Annotations[AnnotationPriorSuspend] != "" {
		t.Errorf("backup: suspend %t annotations %v", *gotBackup.Spec.Suspend, gotBackup.Annotations)
	}
	// Everything else is exactly as before.
	got := snapshot(t, ns)
	for _, k := range []string{"RoleBinding/alice-edit", "Deployment/web", "CronJob/backup"} {
		delete(want, k)
		delete(got, k)
	}
	requireSameWorld(t, want, got)

	acct.Status.Namespaces = res.Namespaces
	res, err = newEnforcer(admin).Enforce(ctx, reinstated(acct))
	if err != nil || len(res.Events) != 0 {
		t.Errorf("after the conflicts were reported: err %v, events %+v", err, res.Events)
	}
}
