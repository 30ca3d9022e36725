package v1alpha1_test

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// rejection is an object (create) or an edit (update) the apiserver must refuse.
type rejection struct {
	name   string
	policy bool                      // an AccountPolicy instead of a CustomerAccount
	create func(spec map[string]any) // edits the valid spec before create
	update func(spec map[string]any) // when set, create must succeed and this edit must be refused
	want   []string                  // substrings of the error the user sees
}

const (
	msgCannotRemove = "recorded incidents cannot be removed; to stop one counting, waive it (set incidents[].waiver)"
	msgCannotEdit   = "a recorded incident cannot be edited; to stop it counting, waive it (set incidents[].waiver), or record a new incident with a new id"
	msgWaiverFinal  = "an incident's waiver is final and cannot be changed or removed; record a new incident if the matter comes up again"
	msgAppealFinal  = "an appeal is filed once and decided once: neither the appeal nor its decision can be changed or removed"
	msgDecider      = "an appeal is decided by someone who neither reported the incident nor filed the appeal"
	msgAscending    = "thresholds must be strictly ascending: warned < finalNotice < terminated"
	msgHTTPS        = "webhook url must be an absolute https:// URL, or http:// to a Service in the cluster (a host ending in .svc or .svc.cluster.local) with inClusterHTTP: Allow"
	msgWindow       = `window must be a positive duration such as "2160h" (hours are the largest unit)`
)

func setInc(key string, v any) func(map[string]any) {
	return func(s map[string]any) { incidentAt(s, 0)[key] = v }
}

func dropInc(key string) func(map[string]any) {
	return func(s map[string]any) { delete(incidentAt(s, 0), key) }
}

func setThresholds(w, f, t int64) func(map[string]any) {
	return func(s map[string]any) {
		s["thresholds"] = map[string]any{"warned": w, "finalNotice": f, "terminated": t}
	}
}

func setKey(key string, v any) func(map[string]any) {
	return func(s map[string]any) { s[key] = v }
}

func withWaiver(s map[string]any) { incidentAt(s, 0)["waiver"] = waiver("Our outage caused it.") }

func withAppeal(s map[string]any) {
	incidentAt(s, 0)["appeal"] = map[string]any{"by": "customer", "at": "2026-10-06T09:00:00Z", "statement": "That is not what happened."}
}

func withDecision(by, outcome string) func(map[string]any) {
	return func(s map[string]any) {
		incidentAt(s, 0)["appeal"].(map[string]any)["decision"] = map[string]any{
			"outcome": outcome, "by": by, "at": "2026-10-07T09:00:00Z", "reason": "Reviewed the recording."}
	}
}

func rejections() []rejection {
	contacts21 := make([]any, 21)
	for i := range contacts21 {
		contacts21[i] = map[string]any{"name": "Ops", "email": "ops@acme.example"}
	}
	cases := []rejection{
		// CustomerAccount: what a single incident may hold.
		{name: "unknown category", create: setInc("category", "Fraud"),
			want: []string{`spec.incidents[0].category: Unsupported value: "Fraud"`, `"Abuse"`}},
		{name: "unknown severity", create: setInc("severity", "Catastrophic"),
			want: []string{`spec.incidents[0].severity: Unsupported value: "Catastrophic"`, `"Minor"`}},
		{name: "unknown attribution", create: setInc("attribution", "Partner"),
			want: []string{`spec.incidents[0].attribution: Unsupported value: "Partner"`, `"Vendor"`}},
		{name: "uppercase incident id", create: setInc("id", "INC-1"),
			want: []string{`spec.incidents[0].id: Invalid value: "INC-1"`, "should match"}},
		{name: "incident id over 63 chars", create: setInc("id", strings.Repeat("a", 64)),
			want: []string{"spec.incidents[0].id: Too long", "63"}},
		{name: "summary of 1025 chars", create: setInc("summary", strings.Repeat("x", 1025)),
			want: []string{"spec.incidents[0].summary: Too long", "1024"}},
		{name: "negative points", create: setInc("points", int64(-1)),
			want: []string{"spec.incidents[0].points: Invalid value: -1", "greater than or equal to 0"}},
		{name: "waiver without reason", create: setInc("waiver", map[string]any{"by": "jane", "at": "2026-10-05T12:00:00Z"}),
			want: []string{"spec.incidents[0].waiver.reason: Required value"}},
		{name: "duplicate incident ids", create: setKey("incidents", []any{incident("inc-1"), incident("inc-1")}),
			want: []string{"spec.incidents[1]: Duplicate value"}},
		{name: "501 incidents", create: setKey("incidents", incidents(501)),
			want: []string{"spec.incidents: Too many: 501", "at most 500"}},
		{name: "21 contacts", create: setKey("contacts", contacts21),
			want: []string{"spec.contacts: Too many: 21", "at most 20"}},
		{name: "bad contact email", create: setKey("contacts", []any{map[string]any{"name": "Ann", "email": "ann.acme.example"}}),
			want: []string{`spec.contacts[0].email: Invalid value: "ann.acme.example"`, "should match"}},
		{name: "hold without until", create: setKey("hold", map[string]any{"by": "jane", "reason": "talking to them"}),
			want: []string{"spec.hold.until: Required value"}},

		// AccountPolicy.
		{name: "policy without thresholds", policy: true, create: func(s map[string]any) { delete(s, "thresholds") },
			want: []string{"spec.thresholds: Required value"}},
		{name: "policy without terminated threshold", policy: true,
			create: setKey("thresholds", map[string]any{"warned": int64(1), "finalNotice": int64(2)}),
			want:   []string{"spec.thresholds.terminated: Required value"}},
		{name: "revoke and read-only in one phase", policy: true,
			create: setKey("enforcement", map[string]any{"finalNotice": []any{"FreezeChanges", "RevokeAccess", "ReadOnlyAccess"}}),
			want:   []string{"spec.enforcement.finalNotice", "RevokeAccess and ReadOnlyAccess exclude each other: choose one per phase"}},
		{name: "unknown action", policy: true,
			create: setKey("enforcement", map[string]any{"terminated": []any{"DeleteEverything"}}),
			want:   []string{`spec.enforcement.terminated[0]: Unsupported value: "DeleteEverything"`, `"ReadOnlyAccess"`}},
		{name: "equal thresholds", policy: true, create: setThresholds(5, 5, 10), want: []string{"spec.thresholds", msgAscending}},
		{name: "descending thresholds", policy: true, create: setThresholds(10, 6, 3), want: []string{"spec.thresholds", msgAscending}},
		{name: "zero threshold", policy: true, create: setThresholds(0, 6, 10),
			want: []string{"spec.thresholds.warned: Invalid value: 0", "greater than or equal to 1"}},
		{name: "negative category weight", policy: true, create: setKey("categoryWeights", map[string]any{"abuse": int64(-1)}),
			want: []string{"spec.categoryWeights.abuse: Invalid value: -1", "greater than or equal to 0"}},
		// A policy still written for the old field must not be stored with
		// it dropped: dryRun: true would then enforce.
		{name: "the old dryRun field", policy: true, create: setKey("dryRun", true),
			want: []string{"spec.dryRun", "dryRun was replaced by mode: write mode: DryRun (or mode: Enforce) and remove dryRun"}},
		{name: "unknown policy mode", policy: true, create: setKey("mode", "Sometimes"),
			want: []string{`spec.mode: Unsupported value: "Sometimes"`, `"DryRun"`}},
		{name: "six approvals", policy: true, create: setKey("approvals", map[string]any{"required": int64(6)}),
			want: []string{"spec.approvals.required: Invalid value: 6", "less than or equal to 5"}},
		{name: "an empty message", policy: true, create: setKey("messages", map[string]any{"warned": ""}),
			want: []string{"spec.messages.warned", "at least 1 chars long"}},
		{name: "an empty messages object", policy: true, create: setKey("messages", map[string]any{}),
			want: []string{"spec.messages", "at least 1 properties"}},
		{name: "unknown inClusterHTTP", policy: true,
			create: setKey("notifications", map[string]any{"webhook": map[string]any{"url": "http://broker.knative.svc/x", "inClusterHTTP": "Maybe"}}),
			want:   []string{`spec.notifications.webhook.inClusterHTTP: Unsupported value: "Maybe"`, `"Allow"`}},
		{name: "an account that says nothing", create: func(s map[string]any) { clear(s) },
			want: []string{"spec", "at least 1 properties"}},
		{name: "http webhook", policy: true,
			create: setKey("notifications", map[string]any{"webhook": map[string]any{"url": "http://hooks.example.com/x"}}),
			want:   []string{"spec.notifications.webhook.url", msgHTTPS}},
		{name: "http to a Service without inClusterHTTP: Allow", policy: true,
			create: setKey("notifications", map[string]any{"webhook": map[string]any{"url": "http://broker.knative.svc/accounts"}}),
			want:   []string{"spec.notifications.webhook.url", msgHTTPS}},
		{name: "http outside the cluster with inClusterHTTP: Allow", policy: true,
			create: setKey("notifications", map[string]any{"webhook": map[string]any{"url": "http://hooks.example.com/x", "inClusterHTTP": "Allow"}}),
			want:   []string{"spec.notifications.webhook.url", msgHTTPS}},
		{name: "relative webhook url", policy: true,
			create: setKey("notifications", map[string]any{"webhook": map[string]any{"url": "hooks/x"}}),
			want:   []string{"spec.notifications.webhook.url", msgHTTPS}},
		{name: "window in days", policy: true, create: setKey("window", "90d"), want: []string{"spec.window", msgWindow}},
		{name: "zero window", policy: true, create: setKey("window", "0s"), want: []string{"spec.window", msgWindow}},
		{name: "negative notice period", policy: true, create: setKey("noticePeriod", "-24h"),
			want: []string{"spec.noticePeriod", `noticePeriod must be a non-negative duration such as "336h"`}},
		{name: "negative recovery period", policy: true, create: setKey("recoveryPeriod", "-1h"),
			want: []string{"spec.recoveryPeriod", `recoveryPeriod must be a non-negative duration such as "72h"`}},
		{name: "unknown enforcement action", policy: true,
			create: setKey("enforcement", map[string]any{"terminated": []any{"DeleteEverything"}}),
			want:   []string{`spec.enforcement.terminated[0]: Unsupported value: "DeleteEverything"`, `"ScaleToZero"`}},
		{name: "repeated enforcement action", policy: true,
			create: setKey("enforcement", map[string]any{"warned": []any{"FreezeChanges", "FreezeChanges"}}),
			want:   []string{"spec.enforcement.warned[1]: Duplicate value"}},

		// CustomerAccount updates: the ledger is append-only.
		{name: "remove a recorded incident", create: setKey("incidents", []any{incident("inc-1"), incident("inc-2")}),
			update: setKey("incidents", []any{incident("inc-2")}), want: []string{"spec.incidents", msgCannotRemove}},
		{name: "rename an incident", update: setInc("id", "inc-1b"), want: []string{"spec.incidents", msgCannotRemove}},
		{name: "remove all incidents", update: func(s map[string]any) { delete(s, "incidents") },
			want: []string{"spec", msgCannotRemove}},
		{name: "empty the incident list", update: setKey("incidents", []any{}), want: []string{"spec.incidents", msgCannotRemove}},
		// A compaction admits removing only incidents older than its cut-off,
		// and is itself a recorded step.
		{name: "remove an incident newer than the compaction cut-off", create: setKey("incidents", []any{incident("inc-1"), incident("inc-2")}),
			update: func(s map[string]any) {
				s["incidents"] = []any{incident("inc-2")}
				s["compaction"] = compaction("2026-09-01T00:00:00Z", "2026-11-01T00:00:00Z")
			}, want: []string{"spec.incidents", msgCannotRemove}},
		{name: "remove a compaction", create: setKey("compaction", compaction("2026-09-01T00:00:00Z", "2026-11-01T00:00:00Z")),
			update: func(s map[string]any) { delete(s, "compaction") }, want: []string{"spec.compaction", "cannot be removed or edited"}},
		{name: "move a compaction's cut-off back", create: setKey("compaction", compaction("2026-09-01T00:00:00Z", "2026-11-01T00:00:00Z")),
			update: setKey("compaction", compaction("2026-08-01T00:00:00Z", "2026-11-02T00:00:00Z")), want: []string{"spec.compaction", "no earlier"}},
		{name: "edit summary", update: setInc("summary", "It was nothing."), want: []string{"spec.incidents[0]", msgCannotEdit}},
		{name: "edit severity", update: setInc("severity", "Minor"), want: []string{"spec.incidents[0]", msgCannotEdit}},
		{name: "edit category", update: setInc("category", "Other"), want: []string{"spec.incidents[0]", msgCannotEdit}},
		{name: "edit occurredAt", update: setInc("occurredAt", "2026-01-01T00:00:00Z"), want: []string{"spec.incidents[0]", msgCannotEdit}},
		{name: "edit reportedBy", update: setInc("reportedBy", "someone-else"), want: []string{"spec.incidents[0]", msgCannotEdit}},
		{name: "edit attribution", update: setInc("attribution", "Vendor"), want: []string{"spec.incidents[0]", msgCannotEdit}},
		{name: "add points later", update: setInc("points", int64(0)), want: []string{"spec.incidents[0]", msgCannotEdit}},
		{name: "change points", create: setInc("points", int64(2)), update: setInc("points", int64(5)),
			want: []string{"spec.incidents[0]", msgCannotEdit}},
		{name: "remove points", create: setInc("points", int64(2)), update: dropInc("points"),
			want: []string{"spec.incidents[0]", msgCannotEdit}},
		{name: "change a waiver", create: withWaiver, update: func(s map[string]any) {
			incidentAt(s, 0)["waiver"] = waiver("Changed my mind.")
		}, want: []string{"spec.incidents[0]", msgWaiverFinal}},
		{name: "remove a waiver", create: withWaiver, update: dropInc("waiver"), want: []string{"spec.incidents[0]", msgWaiverFinal}},

		// Appeals: filed once, decided once, by someone else.
		{name: "edit an appeal's statement", create: withAppeal, update: func(s map[string]any) {
			incidentAt(s, 0)["appeal"].(map[string]any)["statement"] = "A different story."
		}, want: []string{"spec.incidents[0]", msgAppealFinal}},
		{name: "withdraw an appeal", create: withAppeal, update: dropInc("appeal"), want: []string{"spec.incidents[0]", msgAppealFinal}},
		{name: "change an appeal's decision", create: func(s map[string]any) { withAppeal(s); withDecision("ombudsman", "Upheld")(s) },
			update: withDecision("ombudsman", "Overturned"), want: []string{"spec.incidents[0]", msgAppealFinal}},
		{name: "the reporter decides the appeal", create: withAppeal, update: withDecision("support@vendor.example", "Upheld"),
			want: []string{"spec.incidents[0]", msgDecider}},
		{name: "the appellant decides the appeal", create: withAppeal, update: withDecision("customer", "Overturned"),
			want: []string{"spec.incidents[0]", msgDecider}},
		{name: "an unknown appeal outcome", create: withAppeal, update: withDecision("ombudsman", "Dismissed"),
			want: []string{`spec.incidents[0].appeal.decision.outcome: Unsupported value: "Dismissed"`, `"Overturned"`}},
		{name: "add relayedBy later", update: setInc("relayedBy", "control-plane"), want: []string{"spec.incidents[0]", msgCannotEdit}},
		{name: "a second approval by the same person", create: setKey("terminationApprovals", []any{
			map[string]any{"by": "dana", "at": "2026-10-05T12:00:00Z"}, map[string]any{"by": "dana", "at": "2026-10-06T12:00:00Z"},
		}), want: []string{"spec.terminationApprovals[1]: Duplicate value"}},
	}
	for _, field := range []string{"id", "category", "occurredAt", "reportedBy", "summary"} {
		cases = append(cases, rejection{name: "incident without " + field, create: dropInc(field),
			want: []string{"spec.incidents[0]." + field + ": Required value"}})
	}
	return cases
}

// TestSchemaRejects proves each rule by having the real apiserver refuse a
// violation with a message that tells the user what to do.
func TestSchemaRejects(t *testing.T) {
	testenv.Require(t)
	cases := rejections()
	if len(cases) < 20 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			name := uniqueName("reject")
			obj := accountObj(name, validAccountSpec())
			if tc.policy {
				obj = policyObj(name, validPolicySpec())
			}
			if tc.create != nil {
				tc.create(specOf(obj))
			}
			if tc.update == nil {
				requireInvalid(t, k8sClient.Create(ctx, obj), tc.want...)
				probe := &unstructured.Unstructured{}
				probe.SetGroupVersionKind(obj.GroupVersionKind())
				if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, probe); !apierrors.IsNotFound(err) {
					t.Fatalf("rejected object was stored anyway (get: %v)", err)
				}
				return
			}
			if err := k8sClient.Create(ctx, obj); err != nil {
				t.Fatalf("creating the valid starting object: %v", err)
			}
			stored := mustGet(t, ctx, obj)
			edited := stored.DeepCopy()
			tc.update(specOf(edited))
			requireInvalid(t, k8sClient.Update(ctx, edited), tc.want...)
			if rv := mustGet(t, ctx, obj).GetResourceVersion(); rv != stored.GetResourceVersion() {
				t.Fatalf("rejected update changed the object: resourceVersion %s -> %s", stored.GetResourceVersion(), rv)
			}
		})
	}
}

func compaction(before, at string) map[string]any {
	return map[string]any{"by": "ops", "at": at, "before": before, "reason": "yearly archive", "removed": int64(1)}
}

// A compaction admits removing the incidents older than its cut-off.
func TestCompactionRemovesOldIncidents(t *testing.T) {
	testenv.Require(t)
	ctx := t.Context()
	name := uniqueName("compact")
	spec := validAccountSpec()
	old := incident("inc-old")
	old["occurredAt"] = "2025-01-01T00:00:00Z"
	spec["incidents"] = []any{old, incident("inc-new")}
	obj := accountObj(name, spec)
	if err := k8sClient.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	spec = obj.Object["spec"].(map[string]any)
	spec["incidents"] = []any{incident("inc-new")}
	spec["compaction"] = compaction("2026-01-01T00:00:00Z", "2026-11-01T00:00:00Z")
	if err := k8sClient.Update(ctx, obj); err != nil {
		t.Fatalf("compaction refused: %v", err)
	}
}
