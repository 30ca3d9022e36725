package cli_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// specWithout returns the account's spec as JSON with one field removed, to
// check a command wrote exactly that field.
func specWithout(t *testing.T, acct *v1alpha1.CustomerAccount, field string) map[string]any {
	t.Helper()
	raw, err := json.Marshal(acct.Spec)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, field)
	return m
}

func sameExcept(t *testing.T, before, after *v1alpha1.CustomerAccount, field string) {
	t.Helper()
	if b, a := specWithout(t, before, field), specWithout(t, after, field); !reflect.DeepEqual(b, a) {
		t.Errorf("spec outside %s changed:\n%v\n->\n%v", field, b, a)
	}
}

// TestDecisions: hold, approve and reinstate each write exactly their field,
// and approve and reinstate refuse outside FinalNotice / Terminated.
func TestDecisions(t *testing.T) {
	testenv.Require(t)
	now := time.Now().UTC()
	acct := newAccount(t, "", incident("a", v1alpha1.CategoryAbuse, v1alpha1.SeverityMajor, now.Add(-time.Hour)))
	name := acct.Name
	setPhase(t, name, v1alpha1.PhaseWarned, now.Add(-2*time.Hour))

	before := get(t, name)
	run(t, "approve", name, "--by", "dave").fails(t, "is Warned, not in FinalNotice", "nothing was recorded")
	run(t, "reinstate", name, "--reason", "r").fails(t, "is Warned, not Terminated", "nothing was recorded")
	if after := get(t, name); after.ResourceVersion != before.ResourceVersion {
		t.Fatalf("refused decisions changed the account")
	}

	// hold --for: exactly spec.hold.
	run(t, "hold", name, "--for", "24h", "--reason", "Presenting the issue to the customer.", "--by", "carol").ok(t)
	held := get(t, name)
	h := held.Spec.Hold
	if !h.IsDefined() || h.By != "carol" || h.Reason != "Presenting the issue to the customer." ||
		h.Until.Sub(now.Add(24*time.Hour)).Abs() > time.Minute {
		t.Fatalf("hold = %+v", h)
	}
	sameExcept(t, before, held, "hold")
	// hold --until replaces it and says so.
	r := run(t, "hold", name, "--until", now.Add(48*time.Hour).Format(time.RFC3339), "--reason", "Longer talk.", "--by", "carol").ok(t)
	if got := get(t, name).Spec.Hold; !got.Until.Time.Equal(now.Add(48 * time.Hour).Truncate(time.Second)) {
		t.Errorf("hold after --until = %+v", got)
	}
	if !strings.Contains(r.stdout, "replaces the hold by carol") {
		t.Errorf("hold output: %q", r.stdout)
	}

	// approve in FinalNotice: exactly one entry of spec.terminationApprovals, dated now.
	setPhase(t, name, v1alpha1.PhaseFinalNotice, now.Add(-time.Hour))
	before = get(t, name)
	run(t, "approve", name, "--note", "Reviewed with legal.", "--by", "dave").ok(t)
	approved := get(t, name)
	if as := approved.Spec.TerminationApprovals; len(as) != 1 || as[0].By != "dave" || as[0].Note != "Reviewed with legal." || time.Since(as[0].At.Time) > time.Minute {
		t.Fatalf("approvals = %+v", as)
	}
	sameExcept(t, before, approved, "terminationApprovals")
	// A second approval by the same person is refused; another person's is added.
	run(t, "approve", name, "--by", "dave").fails(t, "dave already approved")
	run(t, "approve", name, "--by", "erin").ok(t)
	if as := get(t, name).Spec.TerminationApprovals; len(as) != 2 {
		t.Errorf("approvals after erin = %+v", as)
	}

	// reinstate in Terminated: exactly spec.reinstatement.
	terminatedAt := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	setPhase(t, name, v1alpha1.PhaseTerminated, terminatedAt)
	run(t, "reinstate", name, "--reason", "r", "--at", terminatedAt.Add(-time.Minute).Format(time.RFC3339)).
		fails(t, "is not after the termination")
	before = get(t, name)
	run(t, "reinstate", name, "--reason", "Fresh start agreed.", "--by", "erin").ok(t)
	reinstated := get(t, name)
	if ri := reinstated.Spec.Reinstatement; !ri.IsDefined() || ri.By != "erin" || ri.Reason != "Fresh start agreed." || !ri.At.After(terminatedAt) {
		t.Fatalf("reinstatement = %+v", ri)
	}
	sameExcept(t, before, reinstated, "reinstatement")

	// Terminated within the current second by the operator's clock (here a
	// second ahead of ours): the reinstatement is dated after it, since one
	// dated the same second would not lift it (issue Trust, item 15).
	justNow := time.Now().UTC().Truncate(time.Second).Add(time.Second)
	setPhase(t, name, v1alpha1.PhaseTerminated, justNow)
	run(t, "reinstate", name, "--reason", "Fresh start agreed.", "--by", "erin").ok(t)
	if ri := get(t, name).Spec.Reinstatement; !ri.IsDefined() || !ri.At.After(justNow) {
		t.Fatalf("reinstatement right after a termination = %+v, want dated after %s", ri, justNow)
	}

	run(t, "hold", "no-such-account", "--for", "1h", "--reason", "r", "--by", "x").fails(t, `customer account "no-such-account" not found`)
}
