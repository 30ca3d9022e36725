package enforcement

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// Terminated with all five actions, then reinstated: every object is back
// exactly as it was and nothing the operator made is left.
func TestRoundTripTerminatedThenReinstated(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, map[string]string{"env": "prod"})
	populate(t, ns)
	before := snapshot(t, ns)

	res, err := newEnforcer(admin).Enforce(ctx, terminated(acct))
	if err != nil {
		t.Fatal(err)
	}
	requireStatus(t, res, ns, allActions)
	if !res.Restricted {
		t.Error("Restricted = false with all actions in force")
	}
	requireEvent(t, res, ns, v1alpha1.ReasonAccessRestricted, "RevokeAccess")
	requireTerminatedWorld(t, ns, acct.Name)

	// BlockNewWorkloads is enforced by the API server's quota admission once
	// the quota controller (not run by envtest; done here) fills in status.
	q := get(t, ns, QuotaName, &corev1.ResourceQuota{})
	q.Status = corev1.ResourceQuotaStatus{Hard: q.Spec.Hard, Used: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0")}}
	if err := admin.Status().Update(ctx, q); err != nil {
		t.Fatal(err)
	}
	eventually(t, "quota blocks new pods", func() error {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "sneaky-", Namespace: ns},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.example/x:1"}}},
		}
		err := admin.Create(ctx, pod)
		if apierrors.IsForbidden(err) && strings.Contains(err.Error(), "exceeded quota") {
			return nil
		}
		if err == nil {
			_ = admin.Delete(ctx, pod)
		}
		return fmt.Errorf("creating a pod: got %v, want Forbidden: exceeded quota", err)
	})

	res, err = newEnforcer(admin).Enforce(ctx, reinstated(acct))
	if err != nil {
		t.Fatal(err)
	}
	requireStatus(t, res, ns, nil)
	if res.Restricted {
		t.Error("Restricted = true after reinstatement")
	}
	requireEvent(t, res, ns, v1alpha1.ReasonAccessRestored, "RevokeAccess (recreated 5 RoleBindings)")
	requireSameWorld(t, withPhase(before, ns, "Good"), snapshot(t, ns))
}

// requireTerminatedWorld checks every action is in force as specified.
func requireTerminatedWorld(t *testing.T, ns, account string) {
	t.Helper()
	n := get(t, "", ns, &corev1.Namespace{})
	if n.Labels[v1alpha1.LabelFrozen] != "true" || n.Labels[v1alpha1.LabelPhase] != "Terminated" {
		t.Errorf("namespace labels = %v, want frozen=true and phase=Terminated", n.Labels)
	}
	q := get(t, ns, QuotaName, &corev1.ResourceQuota{})
	if p := q.Spec.Hard[corev1.ResourcePods]; !p.IsZero() || len(q.Spec.Hard) != 1 {
		t.Errorf("quota hard = %v, want pods: 0 only", q.Spec.Hard)
	}
	np := get(t, ns, NetworkPolicyName, &networkingv1.NetworkPolicy{})
	if len(np.Spec.PodSelector.MatchLabels)+len(np.Spec.PodSelector.MatchExpressions) != 0 ||
		len(np.Spec.PolicyTypes) != 2 || len(np.Spec.Ingress)+len(np.Spec.Egress) != 0 {
		t.Errorf("network policy spec = %+v, want deny-all ingress and egress", np.Spec)
	}
	var rbs rbacv1.RoleBindingList
	if err := admin.List(context.Background(), &rbs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(rbs.Items) != 1 || rbs.Items[0].Name != "auditors" {
		t.Errorf("RoleBindings left = %s, want only the kept one (auditors)", bindingNames(rbs.Items))
	}
	nsObj := get(t, "", ns, &corev1.Namespace{})
	for _, rec := range recordSecrets(t, ns) {
		if rec.Labels[v1alpha1.LabelAccount] != account || rec.Labels[LabelRecordNamespaceUID] != string(nsObj.UID) ||
			rec.Type != RecordType || len(rec.OwnerReferences) != 0 {
			t.Errorf("record %s: labels = %v, type %s, ownerReferences = %v", rec.Name, rec.Labels, rec.Type, rec.OwnerReferences)
		}
	}
	requireRecorded(t, ns, revocable...)

	wantPrior := map[string]string{
		"Deployment/idle": "0", "Deployment/web": "3", "StatefulSet/db": "2", "ReplicaSet/legacy": "2",
		"CronJob/report": "true", "CronJob/backup": "false", "Job/migrate": "false",
	}
	for key, o := range listWorld(t, ns) {
		a := o.GetAnnotations()
		prior, ok := wantPrior[key]
		switch o.(type) {
		case *appsv1.Deployment, *appsv1.StatefulSet, *appsv1.ReplicaSet:
			r := *replicas(o)
			if key == "ReplicaSet/web-5d9c" {
				if *r != 3 || a[AnnotationPriorReplicas] != "" {
					t.Errorf("%s (owned by a Deployment) was touched: replicas %d, annotations %v", key, *r, a)
				}
				continue
			}
			if !ok || *r != 0 || a[AnnotationPriorReplicas] != prior {
				t.Errorf("%s: replicas %d, prior %q; want 0 and %q", key, *r, a[AnnotationPriorReplicas], prior)
			}
		case *batchv1.CronJob, *batchv1.Job:
			s := *suspend(o)
			if !ok || s == nil || !*s || a[AnnotationPriorSuspend] != prior {
				t.Errorf("%s: suspend %v, prior %q; want true and %q", key, s, a[AnnotationPriorSuspend], prior)
			}
		}
	}
}

// recordSecrets are the record Secrets of the namespace called ns now.
func recordSecrets(t testing.TB, ns string) []corev1.Secret {
	t.Helper()
	nsObj := get(t, "", ns, &corev1.Namespace{})
	var list corev1.SecretList
	if err := admin.List(context.Background(), &list, client.InNamespace(operatorNS),
		client.MatchingLabels{LabelRecordNamespaceUID: string(nsObj.UID)}); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// requireRecorded checks the records hold exactly the named bindings.
func requireRecorded(t *testing.T, ns string, names ...string) {
	t.Helper()
	r := &nsRun{ns: get(t, "", ns, &corev1.Namespace{})}
	recs, err := newEnforcer(admin).readRecords(context.Background(), r, roleBindingRecords)
	if err != nil || len(recs) == 0 {
		t.Fatalf("records of %s: %v (%d present)", ns, err, len(recs))
	}
	var got []string
	for n := range recs {
		got = append(got, n)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(names))
	if !slices.Equal(got, want) {
		t.Errorf("record of %s holds %v, want %v", ns, got, want)
	}
}

func requireStatus(t *testing.T, res Result, ns string, actions []v1alpha1.EnforcementAction) v1alpha1.NamespaceStatus {
	t.Helper()
	for _, st := range res.Namespaces {
		if st.Name == ns {
			if !slices.Equal(sortedActions(st.Actions), sortedActions(actions)) {
				t.Errorf("status of %s: actions %v, want %v (message %q)", ns, st.Actions, actions, st.Message)
			}
			return st
		}
	}
	t.Fatalf("no status entry for %s in %+v", ns, res.Namespaces)
	return v1alpha1.NamespaceStatus{}
}

func sortedActions(a []v1alpha1.EnforcementAction) []v1alpha1.EnforcementAction {
	return slices.Sorted(slices.Values(a))
}

func requireEvent(t *testing.T, res Result, ns, reason, contains string) Event {
	t.Helper()
	for _, e := range res.Events {
		if e.Namespace == ns && e.Reason == reason && strings.Contains(e.Message, contains) {
			return e
		}
	}
	t.Fatalf("no %s event for %s containing %q in %+v", reason, ns, contains, res.Events)
	return Event{}
}

// A second Enforce with the same input makes no write at all.
func TestEnforceTwiceMakesNoWrites(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		req  func(*v1alpha1.CustomerAccount) Request
	}{
		{"terminated", terminated},
		{"finalNotice", func(a *v1alpha1.CustomerAccount) Request {
			return Request{Account: a, Phase: v1alpha1.PhaseFinalNotice, Actions: []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges}}
		}},
		{"good", reinstated},
		{"dryRun", func(a *v1alpha1.CustomerAccount) Request {
			r := terminated(a)
			r.DryRun, r.DryRunReason = true, "dry run"
			return r
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acct := newAccount(t)
			ns := tenantNamespace(t, acct.Name, nil)
			populate(t, ns)
			if _, err := newEnforcer(admin).Enforce(ctx, tc.req(acct)); err != nil {
				t.Fatal(err)
			}
			rv := resourceVersions(t, ns)
			counting, writes := countingClient(t)
			res, err := newEnforcer(counting).Enforce(ctx, tc.req(acct))
			if err != nil {
				t.Fatal(err)
			}
			if n := writes.Load(); n != 0 {
				t.Errorf("second Enforce made %d writes, want 0", n)
			}
			if len(res.Events) != 0 {
				t.Errorf("second Enforce emitted events: %+v", res.Events)
			}
			if got := resourceVersions(t, ns); !maps.Equal(got, rv) {
				t.Errorf("resourceVersions changed:\nbefore %v\nafter  %v", rv, got)
			}
		})
	}
}

// Release (the finalizer) restores everything and removes the labels.
func TestReleaseRestoresEverythingAndRemovesLabels(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	populate(t, ns)
	before := snapshot(t, ns)
	if _, err := newEnforcer(admin).Enforce(ctx, terminated(acct)); err != nil {
		t.Fatal(err)
	}
	res, err := newEnforcer(admin).Release(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	requireStatus(t, res, ns, nil)
	if res.Restricted {
		t.Error("Restricted after Release")
	}
	requireSameWorld(t, before, snapshot(t, ns))
}

// A namespace labelled into a restricted account later is restricted by
// the next Enforce; the namespaces already restricted are not written.
func TestNamespaceJoiningLaterIsRestricted(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	first := tenantNamespace(t, acct.Name, nil)
	populate(t, first)
	if _, err := newEnforcer(admin).Enforce(ctx, terminated(acct)); err != nil {
		t.Fatal(err)
	}
	rv := resourceVersions(t, first)

	later := tenantNamespace(t, acct.Name, nil)
	populate(t, later)
	res, err := newEnforcer(admin).Enforce(ctx, terminated(acct))
	if err != nil {
		t.Fatal(err)
	}
	requireStatus(t, res, first, allActions)
	requireStatus(t, res, later, allActions)
	requireTerminatedWorld(t, later, acct.Name)
	for _, e := range res.Events {
		if e.Namespace != later {
			t.Errorf("event for a namespace already restricted: %+v", e)
		}
	}
	if got := resourceVersions(t, first); !maps.Equal(got, rv) {
		t.Errorf("already restricted namespace was written:\nbefore %v\nafter  %v", rv, got)
	}
}

func bindingNames(bs []rbacv1.RoleBinding) string {
	names := make([]string, len(bs))
	for i := range bs {
		names[i] = bs[i].Name
	}
	return strings.Join(names, ", ")
}
