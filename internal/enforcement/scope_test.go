package enforcement

import (
	"context"
	"maps"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// Protected namespaces labelled for the account are never touched, and are
// reported once (status + Warning); a steady state emits nothing.
func TestProtectedNamespacesAreNeverTouched(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	tenant := tenantNamespace(t, acct.Name, nil)
	labelled := tenantNamespace(t, acct.Name, map[string]string{v1alpha1.LabelProtected: "true"})
	populate(t, labelled)
	for _, name := range []string{"default", operatorNS} {
		setLabel(t, name, v1alpha1.LabelAccount, acct.Name)
		t.Cleanup(func() { setLabel(t, name, v1alpha1.LabelAccount, "") })
	}
	protected := []string{"default", operatorNS, labelled}
	rv := map[string]map[string]string{}
	for _, ns := range protected {
		rv[ns] = resourceVersions(t, ns)
	}

	res, err := newEnforcer(admin).Enforce(ctx, terminated(acct))
	if err != nil {
		t.Fatal(err)
	}
	requireStatus(t, res, tenant, allActions)
	for _, ns := range protected {
		st := requireStatus(t, res, ns, nil)
		if !strings.Contains(st.Message, "protected") {
			t.Errorf("status message of %s = %q, want it to say it is protected", ns, st.Message)
		}
		e := requireEvent(t, res, ns, v1alpha1.ReasonProtectedNamespace, "protected")
		if e.Type != corev1.EventTypeWarning {
			t.Errorf("protected event type = %s, want Warning", e.Type)
		}
		if got := resourceVersions(t, ns); !maps.Equal(got, rv[ns]) {
			t.Errorf("protected namespace %s was written:\nbefore %v\nafter  %v", ns, rv[ns], got)
		}
		n := get(t, "", ns, &corev1.Namespace{})
		if _, ok := n.Labels[v1alpha1.LabelPhase]; ok {
			t.Errorf("protected namespace %s got a phase label", ns)
		}
	}
	for i := 1; i < len(res.Namespaces); i++ {
		if res.Namespaces[i-1].Name >= res.Namespaces[i].Name {
			t.Errorf("status not sorted by name: %v", res.Namespaces)
		}
	}

	// Once the status carries the report, it is not announced again.
	acct.Status.Namespaces = res.Namespaces
	res, err = newEnforcer(admin).Enforce(ctx, terminated(acct))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 0 {
		t.Errorf("steady state emitted events: %+v", res.Events)
	}
}

func setLabel(t *testing.T, ns, key, value string) {
	t.Helper()
	n := get(t, "", ns, &corev1.Namespace{})
	patch := client.MergeFrom(n.DeepCopy())
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	if value == "" {
		delete(n.Labels, key)
	} else {
		n.Labels[key] = value
	}
	if err := admin.Patch(context.Background(), n, patch); err != nil {
		t.Fatal(err)
	}
}

// Dry run (policy dryRun or exempt account) changes nothing but the phase
// label and reports what would be in force.
func TestDryRunChangesNothing(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	for _, reason := range []string{"dry run", "exempt"} {
		t.Run(reason, func(t *testing.T) {
			acct := newAccount(t)
			ns := tenantNamespace(t, acct.Name, nil)
			populate(t, ns)
			before := snapshot(t, ns)
			req := terminated(acct)
			req.DryRun, req.DryRunReason = true, reason
			res, err := newEnforcer(admin).Enforce(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			st := requireStatus(t, res, ns, allActions)
			if !strings.HasPrefix(st.Message, reason+":") || !strings.Contains(st.Message, "would be in force") {
				t.Errorf("message = %q", st.Message)
			}
			if res.Restricted || len(res.Events) != 0 {
				t.Errorf("dry run: Restricted=%t events=%+v, want false and none", res.Restricted, res.Events)
			}
			// Only the phase labels: a dry run does not touch the in-force mark.
			want := withPhase(before, ns, "Terminated")
			delete(want["Namespace/"+ns].GetAnnotations(), AnnotationInForce)
			requireSameWorld(t, want, snapshot(t, ns))
		})
	}
}

// Switching to dry run after real enforcement changes nothing either, and
// says what is still in force.
func TestDryRunReportsWhatIsStillInForce(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	enforced := []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges, v1alpha1.ActionBlockNewWorkloads}
	if _, err := newEnforcer(admin).Enforce(ctx, Request{Account: acct, Phase: v1alpha1.PhaseFinalNotice, Actions: enforced}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, ns)
	res, err := newEnforcer(admin).Enforce(ctx, Request{Account: acct, Phase: v1alpha1.PhaseFinalNotice, DryRun: true, DryRunReason: "exempt"})
	if err != nil {
		t.Fatal(err)
	}
	st := requireStatus(t, res, ns, nil)
	if !strings.Contains(st.Message, "still in force from before: FreezeChanges, BlockNewWorkloads") {
		t.Errorf("message = %q", st.Message)
	}
	if !res.Restricted {
		t.Error("Restricted = false while actions are still in force")
	}
	requireSameWorld(t, before, snapshot(t, ns))
}

func TestRequestValidation(t *testing.T) {
	testenv.Require(t)
	e := newEnforcer(admin)
	acct := newAccount(t)
	for name, req := range map[string]Request{
		"no account":     {Phase: v1alpha1.PhaseGood},
		"no phase":       {Account: acct},
		"unknown action": {Account: acct, Phase: v1alpha1.PhaseWarned, Actions: []v1alpha1.EnforcementAction{"DeleteEverything"}},
	} {
		if _, err := e.Enforce(context.Background(), req); err == nil {
			t.Errorf("%s: Enforce accepted %+v", name, req)
		}
	}
	if _, err := e.Release(context.Background(), nil); err == nil {
		t.Error("Release accepted a nil account")
	}
}

// A namespace being deleted is left alone (creating objects in it would
// fail) and reported with what is in force in it.
func TestNamespaceBeingDeletedIsLeftAlone(t *testing.T) {
	testenv.Require(t)
	ctx := context.Background()
	acct := newAccount(t)
	ns := tenantNamespace(t, acct.Name, nil)
	populate(t, ns)
	if _, err := newEnforcer(admin).Enforce(ctx, terminated(acct)); err != nil {
		t.Fatal(err)
	}
	// envtest runs no namespace controller, so the namespace stays Terminating.
	if err := admin.Delete(ctx, get(t, "", ns, &corev1.Namespace{})); err != nil {
		t.Fatal(err)
	}
	rv := resourceVersions(t, ns)
	res, err := newEnforcer(admin).Enforce(ctx, reinstated(acct))
	if err != nil {
		t.Fatal(err)
	}
	st := requireStatus(t, res, ns, allActions)
	if !strings.Contains(st.Message, "being deleted") || !res.Restricted || len(res.Events) != 0 {
		t.Errorf("status %+v, restricted %t, events %+v", st, res.Restricted, res.Events)
	}
	if got := resourceVersions(t, ns); !maps.Equal(got, rv) {
		t.Errorf("a namespace being deleted was written:\nbefore %v\nafter  %v", rv, got)
	}
}
