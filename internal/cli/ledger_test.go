package cli_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/cli"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

func incidentByID(t *testing.T, acct *v1alpha1.CustomerAccount, id string) v1alpha1.Incident {
	t.Helper()
	for _, inc := range acct.Spec.Incidents {
		if inc.ID == id {
			return inc
		}
	}
	t.Fatalf("account %s has no incident %s", acct.Name, id)
	return v1alpha1.Incident{}
}

// owned returns each field manager's managed fields of the account.
func owned(acct *v1alpha1.CustomerAccount) map[string]string {
	out := map[string]string{}
	for _, mf := range acct.ManagedFields {
		out[mf.Manager] += mf.FieldsV1.GetRawString()
	}
	return out
}

// TestReportAndWaive: report adds entries by server-side apply without
// touching a third writer's entry; edits are refused with a pointer to waive;
// waive adds a waiver once and leaves the incident otherwise as recorded.
func TestReportAndWaive(t *testing.T) {
	testenv.Require(t)
	ctx := t.Context()
	acct := newAccount(t, "")
	name := acct.Name

	// A third writer (the billing system) records its own incident.
	billing := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"incidents": []any{map[string]any{
		"id": "invoice-overdue", "category": "NonPayment", "occurredAt": "2026-10-01T09:00:00Z",
		"reportedBy": "billing-system", "summary": "Invoice 2026-10 is 60 days overdue.",
	}}}}}
	billing.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("CustomerAccount"))
	billing.SetName(name)
	if err := k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(billing), client.FieldOwner("billing-system")); err != nil {
		t.Fatal(err)
	}
	billingBefore := incidentByID(t, get(t, name), "invoice-overdue")

	run(t, "report", name, "--id", "shouted-at-oncall", "--category", "Abuse", "--severity", "Major",
		"--occurred-at", "2026-11-20T10:00:00Z", "--summary", "Shouted at the on-call engineer.", "--reported-by", "jane").ok(t)
	r := run(t, "report", name, "--id", "ticket-flood", "--category", "SupportLoad", "--points", "3",
		"--summary", "Forty tickets in a day.").ok(t)
	if !strings.Contains(r.stdout, "incident ticket-flood recorded") {
		t.Errorf("report output: %q", r.stdout)
	}

	got := get(t, name)
	ids := []string{}
	for _, inc := range got.Spec.Incidents {
		ids = append(ids, inc.ID)
	}
	if !reflect.DeepEqual(ids, []string{"invoice-overdue", "shouted-at-oncall", "ticket-flood"}) {
		t.Fatalf("incidents = %v", ids)
	}
	shout := incidentByID(t, got, "shouted-at-oncall")
	if shout.Category != v1alpha1.CategoryAbuse || shout.Severity != v1alpha1.SeverityMajor || shout.ReportedBy != "jane" ||
		!shout.OccurredAt.Equal(&metav1.Time{Time: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}) || shout.Attribution != v1alpha1.AttributionCustomer {
		t.Errorf("recorded %+v", shout)
	}
	flood := incidentByID(t, got, "ticket-flood")
	if flood.Points == nil || *flood.Points != 3 || flood.ReportedBy == "" || time.Since(flood.OccurredAt.Time) > time.Minute {
		t.Errorf("recorded %+v (want points 3, a default reporter and occurredAt now)", flood)
	}
	if b := incidentByID(t, got, "invoice-overdue"); !reflect.DeepEqual(b, billingBefore) {
		t.Errorf("third writer's incident changed: %+v", b)
	}
	own := owned(got)
	if strings.Contains(own[cli.FieldManager], "invoice-overdue") || !strings.Contains(own["billing-system"], `k:{\"id\":\"invoice-overdue\"}`) {
		t.Errorf("ownership of the third writer's entry changed: %v", own)
	}
	for _, id := range []string{"shouted-at-oncall", "ticket-flood"} {
		if !strings.Contains(own[cli.FieldManager], `k:{\"id\":\"`+id+`\"}`) {
			t.Errorf("%s does not own %s: %s", cli.FieldManager, id, own[cli.FieldManager])
		}
	}

	// Re-reporting exactly the same is a no-op; different content is refused.
	rv := get(t, name).ResourceVersion
	r = run(t, "report", name, "--id", "shouted-at-oncall", "--category", "Abuse", "--severity", "Major",
		"--occurred-at", "2026-11-20T10:00:00Z", "--summary", "Shouted at the on-call engineer.", "--reported-by", "jane").ok(t)
	if !strings.Contains(r.stdout, "nothing changed") {
		t.Errorf("identical report: %q", r.stdout)
	}
	run(t, "report", name, "--id", "shouted-at-oncall", "--category", "Abuse", "--severity", "Major",
		"--occurred-at", "2026-11-20T10:00:00Z", "--summary", "Was only a bit loud.", "--reported-by", "jane").
		fails(t, "already recorded", "cannot be edited", "kubectl account waive "+name+" shouted-at-oncall")
	run(t, "report", name, "--id", "invoice-overdue", "--category", "NonPayment", "--summary", "Other text.").
		fails(t, "waive it")
	if after := get(t, name).ResourceVersion; after != rv {
		t.Errorf("refused reports changed the account: resourceVersion %s -> %s", rv, after)
	}

	// Waive: waiver added, the incident otherwise as recorded. -o name
	// prints what kubectl -o name would, for scripts that chain commands.
	out := run(t, "waive", name, "ticket-flood", "--reason", "The tickets were about our outage.", "--by", "bob", "-o", "name").ok(t).stdout
	if want := "customeraccount.accounts.lifecycle.dev/" + name + "\n"; out != want {
		t.Errorf("waive -o name printed %q, want %q", out, want)
	}
	got = get(t, name)
	waived := incidentByID(t, got, "ticket-flood")
	if w := waived.Waiver; !w.IsDefined() || w.By != "bob" || w.Reason != "The tickets were about our outage." || time.Since(w.At.Time) > time.Minute {
		t.Fatalf("waiver = %+v", waived.Waiver)
	}
	waived.Waiver = nil
	if !reflect.DeepEqual(waived, flood) {
		t.Errorf("waive changed the incident:\n%+v\nwas\n%+v", waived, flood)
	}
	if s := incidentByID(t, got, "shouted-at-oncall"); !reflect.DeepEqual(s, shout) {
		t.Errorf("waive changed another incident: %+v", s)
	}
	if b := incidentByID(t, got, "invoice-overdue"); !reflect.DeepEqual(b, billingBefore) {
		t.Errorf("waive changed the third writer's incident: %+v", b)
	}

	rv = got.ResourceVersion
	run(t, "waive", name, "ticket-flood", "--reason", "again").fails(t, "already waived by bob", "a waiver is final")
	run(t, "waive", name, "no-such-thing", "--reason", "r").fails(t, `has no incident "no-such-thing"`, "invoice-overdue, shouted-at-oncall, ticket-flood")
	if after := get(t, name).ResourceVersion; after != rv {
		t.Errorf("refused waivers changed the account")
	}

	// A third writer's incident can be waived too; its owner keeps its fields.
	run(t, "waive", name, "invoice-overdue", "--reason", "Paid; our invoice was wrong.", "--by", "bob").ok(t)
	got = get(t, name)
	if b := incidentByID(t, got, "invoice-overdue"); !b.Waiver.IsDefined() || b.Summary != billingBefore.Summary {
		t.Errorf("third writer's incident after waive: %+v", b)
	}
	if !strings.Contains(owned(got)["billing-system"], `f:summary`) {
		t.Errorf("billing-system lost its fields: %s", owned(got)["billing-system"])
	}
	// Reporting after waiving keeps every entry.
	run(t, "report", name, "--id", "late-again", "--category", "NonPayment", "--summary", "Late again.").ok(t)
	if n := len(get(t, name).Spec.Incidents); n != 4 {
		t.Errorf("%d incidents after a further report, want 4", n)
	}

	// No account: refused, nothing created.
	run(t, "report", "no-such-account", "--id", "x", "--category", "Other", "--summary", "s").fails(t, `customer account "no-such-account" not found`)
	var none v1alpha1.CustomerAccount
	if err := k8s.Get(ctx, client.ObjectKey{Name: "no-such-account"}, &none); err == nil {
		t.Error("report created an account")
	}
}
