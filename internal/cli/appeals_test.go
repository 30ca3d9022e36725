package cli_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// An appeal is filed once and decided once, by someone who neither
// reported the incident nor filed the appeal; a hold can be lifted early.
func TestAppealsAndLiftingAHold(t *testing.T) {
	testenv.Require(t)
	now := time.Now().UTC()
	acct := newAccount(t, "", incident("rude", v1alpha1.CategoryAbuse, v1alpha1.SeverityMajor, now.Add(-time.Hour)))
	name := acct.Name
	reporter := acct.Spec.Incidents[0].ReportedBy

	run(t, "appeal", name, "rude", "--by", "customer", "--statement", "That is not what happened.").ok(t)
	a := incidentByID(t, get(t, name), "rude").Appeal
	if !a.IsDefined() || a.By != "customer" || a.Statement != "That is not what happened." || a.Decision.IsDefined() {
		t.Fatalf("appeal = %+v", a)
	}
	run(t, "appeal", name, "rude", "--by", "customer", "--statement", "Again.").fails(t, "was already appealed by customer")
	run(t, "appeal", name, "nope", "--statement", "x").fails(t, `has no incident "nope"`, "recorded: rude")

	run(t, "decide-appeal", name, "rude", "--outcome", "Dismissed", "--reason", "x").fails(t, `--outcome "Dismissed": use Upheld or Overturned`)
	run(t, "decide-appeal", name, "rude", "--outcome", "Upheld", "--reason", "x", "--by", reporter).fails(t, "reported incident \"rude\" and cannot decide its appeal")
	run(t, "decide-appeal", name, "rude", "--outcome", "Upheld", "--reason", "x", "--by", "customer").fails(t, "filed the appeal")
	run(t, "decide-appeal", name, "rude", "--outcome", "Overturned", "--reason", "The recording shows otherwise.", "--by", "ombudsman").ok(t)
	d := incidentByID(t, get(t, name), "rude").Appeal.Decision
	if !d.IsDefined() || d.Outcome != v1alpha1.AppealOverturned || d.By != "ombudsman" {
		t.Fatalf("decision = %+v", d)
	}
	run(t, "decide-appeal", name, "rude", "--outcome", "Upheld", "--reason", "x", "--by", "ombudsman").fails(t, "already decided (Overturned by ombudsman)")

	run(t, "hold", name, "--lift", "--reason", "x").fails(t, "has no hold in effect to lift")
	// -o json prints the account as written, for scripts.
	out := run(t, "hold", name, "--for", "72h", "--reason", "Meeting their CTO.", "--by", "carol", "-o", "json").ok(t).stdout
	var written v1alpha1.CustomerAccount
	if err := json.Unmarshal([]byte(out), &written); err != nil || written.Name != name || !written.Spec.Hold.IsDefined() || written.Spec.Hold.By != "carol" || written.Kind != "CustomerAccount" {
		t.Fatalf("hold -o json printed %.300s (%v)", out, err)
	}
	run(t, "hold", name, "--for", "72h", "--reason", "x", "-o", "wide").fails(t, `--output "wide": use json, yaml or name`)
	run(t, "hold", name, "--lift", "--for", "1h", "--reason", "x").fails(t, "give no --until or --for with it")
	run(t, "hold", name, "--lift", "--reason", "The CTO declined to meet.", "--by", "carol").ok(t)
	if h := get(t, name).Spec.Hold; !h.IsDefined() || h.Until.After(time.Now()) || h.Reason != "lifted early: The CTO declined to meet." {
		t.Errorf("hold after --lift = %+v", h)
	}
}
