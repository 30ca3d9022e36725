package v1alpha1_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// applyAs server-side applies obj with the given field manager.
func applyAs(ctx context.Context, manager string, obj *unstructured.Unstructured) error {
	return k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner(manager))
}

func incidentIDs(t *testing.T, ctx context.Context, name string) []string {
	t.Helper()
	var got v1alpha1.CustomerAccount
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, &got); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(got.Spec.Incidents))
	for i, inc := range got.Spec.Incidents {
		ids[i] = inc.ID
	}
	return ids
}

// TestServerSideApplyWriters: incidents are a map keyed by id, so two
// writers add entries without overwriting each other, each owning its own
// entry; a writer that drops its entry from its manifest is refused rather
// than silently deleting the record.
func TestServerSideApplyWriters(t *testing.T) {
	testenv.Require(t)
	ctx := t.Context()
	name := uniqueName("ssa")
	support := incident("ticket-flood-0412")
	billing := incident("invoice-2026-10-overdue")
	billing["category"] = "NonPayment"
	billing["reportedBy"] = "billing-system"

	if err := applyAs(ctx, "support-tool", accountObj(name, map[string]any{"incidents": []any{support}})); err != nil {
		t.Fatalf("support-tool apply: %v", err)
	}
	if err := applyAs(ctx, "billing-system", accountObj(name, map[string]any{"incidents": []any{billing}})); err != nil {
		t.Fatalf("billing-system apply: %v", err)
	}
	ids := incidentIDs(t, ctx, name)
	if strings.Join(ids, ",") != "ticket-flood-0412,invoice-2026-10-overdue" {
		t.Fatalf("incidents after two writers = %v, want both", ids)
	}

	// Each manager owns exactly its own list entry.
	stored := mustGet(t, ctx, accountObj(name, nil))
	owners := map[string]string{}
	for _, mf := range stored.GetManagedFields() {
		owners[mf.Manager] = mf.FieldsV1.GetRawString()
	}
	if !strings.Contains(owners["support-tool"], `k:{\"id\":\"ticket-flood-0412\"}`) ||
		strings.Contains(owners["support-tool"], "invoice-2026-10-overdue") {
		t.Errorf("support-tool owns %s", owners["support-tool"])
	}
	if !strings.Contains(owners["billing-system"], `k:{\"id\":\"invoice-2026-10-overdue\"}`) ||
		strings.Contains(owners["billing-system"], "ticket-flood-0412") {
		t.Errorf("billing-system owns %s", owners["billing-system"])
	}

	// Re-applying the same manifest is a no-op, not an edit.
	if err := applyAs(ctx, "support-tool", accountObj(name, map[string]any{"incidents": []any{support}})); err != nil {
		t.Fatalf("support-tool re-apply: %v", err)
	}

	// support-tool's new manifest lacks its incident: apply would delete it.
	err := applyAs(ctx, "support-tool", accountObj(name, map[string]any{"displayName": "Acme"}))
	requireInvalid(t, err, "spec.incidents", msgCannotRemove)

	// A third writer waives the support incident by applying only id+waiver.
	waive := map[string]any{"id": "ticket-flood-0412", "waiver": waiver("Tickets were about our outage.")}
	if err := applyAs(ctx, "kubectl-account", accountObj(name, map[string]any{"incidents": []any{waive}})); err != nil {
		t.Fatalf("waiving through apply: %v", err)
	}

	// Now the entry is co-owned, so dropping it from support-tool's manifest
	// would strip the entry's fields rather than the entry: still refused,
	// because the stripped fields are required.
	err = applyAs(ctx, "support-tool", accountObj(name, map[string]any{"displayName": "Acme"}))
	requireInvalid(t, err, "spec.incidents[0].summary: Required value")

	var got v1alpha1.CustomerAccount
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Spec.Incidents) != 2 || got.Spec.DisplayName != "" {
		t.Fatalf("after refused applies: %d incidents, displayName %q", len(got.Spec.Incidents), got.Spec.DisplayName)
	}
	inc := got.Spec.Incidents[0]
	if !inc.Waiver.IsDefined() || inc.Summary != support["summary"] || inc.Severity != v1alpha1.SeverityMajor {
		t.Fatalf("support incident after waiver: %+v", inc)
	}
}

// TestStatusIsASubresource: status written through the main resource is
// ignored; only the status subresource (the operator) can set it, and spec
// edits through the status endpoint are ignored in turn.
func TestStatusIsASubresource(t *testing.T) {
	testenv.Require(t)
	ctx := t.Context()
	acct := &v1alpha1.CustomerAccount{
		ObjectMeta: metav1.ObjectMeta{Name: uniqueName("status")},
		Spec:       v1alpha1.CustomerAccountSpec{DisplayName: "Initech"},
	}
	if err := k8sClient.Create(ctx, acct); err != nil {
		t.Fatal(err)
	}
	acct.Status.Phase = v1alpha1.PhaseTerminated
	acct.Status.Score = ptr.To[int32](99)
	if err := k8sClient.Update(ctx, acct); err != nil {
		t.Fatalf("update via main resource: %v", err)
	}
	var got v1alpha1.CustomerAccount
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(acct), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status.Phase != "" || got.Status.Score != nil {
		t.Fatalf("main endpoint wrote status: %+v", got.Status)
	}

	got.Status.Phase = v1alpha1.PhaseWarned
	got.Status.Score = ptr.To[int32](4)
	got.Spec.DisplayName = "changed through status"
	if err := k8sClient.Status().Update(ctx, &got); err != nil {
		t.Fatalf("status update: %v", err)
	}
	var after v1alpha1.CustomerAccount
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(acct), &after); err != nil {
		t.Fatal(err)
	}
	if after.Status.Phase != v1alpha1.PhaseWarned || ptr.Deref(after.Status.Score, 0) != 4 || after.Spec.DisplayName != "Initech" {
		t.Fatalf("after status update: phase %q score %d displayName %q", after.Status.Phase, ptr.Deref(after.Status.Score, 0), after.Spec.DisplayName)
	}
}
