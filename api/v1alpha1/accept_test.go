package v1alpha1_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// defaultedPolicySpec is the spec the apiserver stores for a policy that
// sets only thresholds 3/6/10.
func defaultedPolicySpec() v1alpha1.AccountPolicySpec {
	i32 := func(v int32) *int32 { return &v }
	dur := func(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }
	return v1alpha1.AccountPolicySpec{
		Mode:           v1alpha1.ModeEnforce,
		Window:         dur(2160 * time.Hour),
		SeverityPoints: v1alpha1.SeverityPoints{Minor: i32(1), Major: i32(2), Critical: i32(3)},
		CategoryWeights: v1alpha1.CategoryWeights{Abuse: i32(1), SupportLoad: i32(1), NonPayment: i32(1),
			PolicyViolation: i32(1), PoorFit: i32(1), Other: i32(1)},
		Thresholds:     v1alpha1.Thresholds{Warned: 3, FinalNotice: 6, Terminated: 10},
		NoticePeriod:   dur(336 * time.Hour),
		Approvals:      v1alpha1.Approvals{Required: i32(1)},
		AppealWindow:   dur(336 * time.Hour),
		RecoveryPeriod: dur(0),
		Enforcement: v1alpha1.Enforcement{
			FinalNotice: []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges},
			Terminated: []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges, v1alpha1.ActionRevokeAccess,
				v1alpha1.ActionScaleToZero, v1alpha1.ActionIsolateNetwork, v1alpha1.ActionBlockNewWorkloads},
		},
	}
}

// TestPolicyDefaults: a policy that sets only thresholds gets every documented
// default from the apiserver.
func TestPolicyDefaults(t *testing.T) {
	testenv.Require(t)
	ctx := t.Context()
	obj := policyObj(uniqueName("minimal"), validPolicySpec())
	if err := k8sClient.Create(ctx, obj); err != nil {
		t.Fatalf("create minimal policy: %v", err)
	}
	var got v1alpha1.AccountPolicy
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &got); err != nil {
		t.Fatal(err)
	}
	want := defaultedPolicySpec()
	if !reflect.DeepEqual(got.Spec, want) {
		t.Fatalf("defaulted spec:\n got %+v\nwant %+v", got.Spec, want)
	}
	// The stored form is what kubectl users see: exact strings, warned absent.
	raw := specOf(mustGet(t, ctx, obj))
	for key, want := range map[string]string{"window": "2160h", "noticePeriod": "336h", "recoveryPeriod": "0s"} {
		if raw[key] != want {
			t.Errorf("stored %s = %v, want %q", key, raw[key], want)
		}
	}
	if w, found, _ := unstructured.NestedFieldNoCopy(raw, "enforcement", "warned"); found {
		t.Errorf("enforcement.warned defaulted to %v, want absent (no actions)", w)
	}
}

// TestPolicyDefaultsFromGoClient: a Go client sending a typed policy with
// only thresholds set gets the same defaults (unset optional fields are
// omitted on the wire, not sent as zeros).
func TestPolicyDefaultsFromGoClient(t *testing.T) {
	testenv.Require(t)
	ctx := t.Context()
	pol := &v1alpha1.AccountPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: uniqueName("typed")},
		Spec:       v1alpha1.AccountPolicySpec{Thresholds: v1alpha1.Thresholds{Warned: 3, FinalNotice: 6, Terminated: 10}},
	}
	if err := k8sClient.Create(ctx, pol); err != nil {
		t.Fatalf("create typed minimal policy: %v", err)
	}
	if want := defaultedPolicySpec(); !reflect.DeepEqual(pol.Spec, want) {
		t.Fatalf("defaulted spec:\n got %+v\nwant %+v", pol.Spec, want)
	}
}

// TestIncidentDefaults: an incident without severity or attribution is a
// Minor, Customer-caused incident.
func TestIncidentDefaults(t *testing.T) {
	testenv.Require(t)
	ctx := t.Context()
	spec := validAccountSpec()
	delete(incidentAt(spec, 0), "severity")
	obj := accountObj(uniqueName("defaults"), spec)
	if err := k8sClient.Create(ctx, obj); err != nil {
		t.Fatalf("create: %v", err)
	}
	var got v1alpha1.CustomerAccount
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &got); err != nil {
		t.Fatal(err)
	}
	inc := got.Spec.Incidents[0]
	if inc.Severity != v1alpha1.SeverityMinor || inc.Attribution != v1alpha1.AttributionCustomer {
		t.Fatalf("severity/attribution = %q/%q, want Minor/Customer", inc.Severity, inc.Attribution)
	}
	if inc.Points != nil || inc.Waiver.IsDefined() {
		t.Fatalf("points/waiver should stay unset, got %v/%v", inc.Points, inc.Waiver)
	}
}

// TestLedgerAcceptsAppendsAndOneWaiver: what the ledger rules allow — one
// waiver per incident, re-sending the same waiver, new incidents, and edits
// outside the ledger.
func TestLedgerAcceptsAppendsAndOneWaiver(t *testing.T) {
	testenv.Require(t)
	ctx := t.Context()
	obj := accountObj(uniqueName("ledger"), validAccountSpec())
	if err := k8sClient.Create(ctx, obj); err != nil {
		t.Fatalf("create: %v", err)
	}
	steps := []struct {
		name string
		edit func(spec map[string]any)
	}{
		{"add a waiver", withWaiver},
		{"re-send the same waiver", func(map[string]any) {}},
		{"add a new incident", func(s map[string]any) { s["incidents"] = append(s["incidents"].([]any), incident("inc-2")) }},
		{"file an appeal", withAppeal},
		{"decide it", withDecision("ombudsman", "Upheld")},
		{"edit display name and contacts", func(s map[string]any) {
			s["displayName"] = "Acme Robotics GmbH"
			s["contacts"] = []any{map[string]any{"name": "Bo", "email": "bo@acme.example"}}
		}},
	}
	for _, step := range steps {
		cur := mustGet(t, ctx, obj)
		step.edit(specOf(cur))
		if err := k8sClient.Update(ctx, cur); err != nil {
			t.Fatalf("%s: rejected: %v", step.name, err)
		}
	}
	var got v1alpha1.CustomerAccount
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &got); err != nil {
		t.Fatal(err)
	}
	incs := got.Spec.Incidents
	if len(incs) != 2 || incs[0].ID != "inc-1" || incs[1].ID != "inc-2" {
		t.Fatalf("incidents = %+v, want inc-1, inc-2", incs)
	}
	if w := incs[0].Waiver; !w.IsDefined() || w.Reason != "Our outage caused it." || w.By != "jane.doe" {
		t.Fatalf("inc-1 waiver = %+v", w)
	}
	if incs[1].Waiver.IsDefined() || got.Spec.DisplayName != "Acme Robotics GmbH" {
		t.Fatalf("unexpected state: %+v", got.Spec)
	}
}

// ledgerEditable is the full ledger (MaxItems) with every id at the maximal
// 63 characters: the "cannot be removed" rule must evaluate within the
// apiserver's per-call CEL cost limit even then. (The quadratic
// oldSelf.all(o, self.exists(...)) form failed from 400 incidents.)
const ledgerEditable = 500

// longIncidents returns n incidents whose ids have the maximal 63 characters,
// the most expensive case for rules comparing ids.
func longIncidents(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = incident(fmt.Sprintf("inc-%059d", i))
	}
	return out
}

// TestLedgerAtMaxItems: MaxItems (500) incidents are accepted and the 501st
// refused, at create and at update.
func TestLedgerAtMaxItems(t *testing.T) {
	testenv.Require(t)
	ctx := t.Context()
	obj := accountObj(uniqueName("full"), map[string]any{"incidents": longIncidents(500)})
	start := time.Now()
	if err := k8sClient.Create(ctx, obj); err != nil {
		t.Fatalf("create with 500 incidents: %v", err)
	}
	t.Logf("create with 500 incidents: %v", time.Since(start))

	cur := mustGet(t, ctx, obj)
	spec := specOf(cur)
	spec["incidents"] = append(spec["incidents"].([]any), incident("one-too-many"))
	requireInvalid(t, k8sClient.Update(ctx, cur), "spec.incidents: Too many: 501")

	var got v1alpha1.CustomerAccount
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &got); err != nil {
		t.Fatal(err)
	}
	if n := len(got.Spec.Incidents); n != 500 {
		t.Fatalf("stored %d incidents, want 500", n)
	}
}

// TestLargeLedgerUpdatesFitCELBudget: on the largest ledger the transition
// rules can handle, a waiver is accepted and a removal is refused with the
// rule's own message, not with a cost-limit error.
func TestLargeLedgerUpdatesFitCELBudget(t *testing.T) {
	testenv.Require(t)
	ctx := t.Context()
	obj := accountObj(uniqueName("large"), map[string]any{"incidents": longIncidents(ledgerEditable)})
	if err := k8sClient.Create(ctx, obj); err != nil {
		t.Fatalf("create with %d incidents: %v", ledgerEditable, err)
	}
	cur := mustGet(t, ctx, obj)
	incidentAt(specOf(cur), 7)["waiver"] = waiver("Duplicate of an earlier incident.")
	start := time.Now()
	if err := k8sClient.Update(ctx, cur); err != nil {
		t.Fatalf("waiving one of %d incidents: %v", ledgerEditable, err)
	}
	t.Logf("update of %d incidents (all transition rules run): %v", ledgerEditable, time.Since(start))

	cur = mustGet(t, ctx, obj)
	spec := specOf(cur)
	spec["incidents"] = spec["incidents"].([]any)[1:]
	err := k8sClient.Update(ctx, cur)
	requireInvalid(t, err, "spec.incidents", msgCannotRemove)
	// A cost-limit error quotes the rule's message too; it must not be one.
	if strings.Contains(err.Error(), "cost") {
		t.Fatalf("removal refused for cost, not by the rule: %v", err)
	}

	var got v1alpha1.CustomerAccount
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &got); err != nil {
		t.Fatal(err)
	}
	if n := len(got.Spec.Incidents); n != ledgerEditable || !got.Spec.Incidents[7].Waiver.IsDefined() {
		t.Fatalf("stored %d incidents (waiver kept: %v), want %d with the waiver", n, got.Spec.Incidents[7].Waiver.IsDefined(), ledgerEditable)
	}
}

// A webhook may be https, with a caBundle, or plain http to a Service in the
// cluster when the policy says so.
func TestWebhookURLsAccepted(t *testing.T) {
	testenv.Require(t)
	ctx := t.Context()
	for i, hook := range []map[string]any{
		{"url": "https://hooks.example.com/accounts", "caBundle": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"},
		{"url": "http://broker-ingress.knative-eventing.svc.cluster.local/default/accounts", "inClusterHTTP": "Allow"},
		{"url": "http://receiver.billing.svc:8080/hooks", "inClusterHTTP": "Allow"},
	} {
		p := policyObj(uniqueName(fmt.Sprintf("hook-%d", i)), map[string]any{
			"thresholds":    map[string]any{"warned": int64(1), "finalNotice": int64(2), "terminated": int64(3)},
			"notifications": map[string]any{"webhook": hook},
		})
		if err := k8sClient.Create(ctx, p); err != nil {
			t.Errorf("webhook %v refused: %v", hook, err)
		}
	}
}

// approvals.required 0 is accepted: termination then needs no human
// decision once the notice period is over (it replaced requireApproval:
// false).
func TestNoApprovalRequiredAccepted(t *testing.T) {
	testenv.Require(t)
	ctx := t.Context()
	p := policyObj(uniqueName("no-approval"), map[string]any{
		"thresholds": map[string]any{"warned": int64(1), "finalNotice": int64(2), "terminated": int64(3)},
		"approvals":  map[string]any{"required": int64(0)},
	})
	if err := k8sClient.Create(ctx, p); err != nil {
		t.Fatalf("approvals.required 0 refused: %v", err)
	}
	var got v1alpha1.AccountPolicy
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(p), &got); err != nil {
		t.Fatal(err)
	}
	if n := got.Spec.EffectiveApprovalsRequired(); n != 0 {
		t.Fatalf("stored policy needs %d approvals, want 0", n)
	}
}

// A later compaction whose removed count is unset is a valid step: the rule
// comparing the counts takes an unset one as 0 instead of failing on it.
func TestCompactionWithoutRemovedCountAccepted(t *testing.T) {
	testenv.Require(t)
	ctx := t.Context()
	spec := validAccountSpec()
	first := compaction("2026-09-01T00:00:00Z", "2026-11-01T00:00:00Z")
	delete(first, "removed")
	spec["compaction"] = first
	obj := accountObj(uniqueName("compact-unset"), spec)
	if err := k8sClient.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	later := compaction("2026-10-01T00:00:00Z", "2026-11-02T00:00:00Z")
	delete(later, "removed")
	obj.Object["spec"].(map[string]any)["compaction"] = later
	if err := k8sClient.Update(ctx, obj); err != nil {
		t.Fatalf("a later compaction without removed refused: %v", err)
	}
}
