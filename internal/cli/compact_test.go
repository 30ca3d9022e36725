package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// Issue Trust, item 16: a full ledger is refused with a way out, and
// compaction is an explicit, recorded step that archives only incidents
// that can no longer affect the account, writing them to a file first.
func TestCompactArchivesWhatNoLongerCounts(t *testing.T) {
	testenv.Require(t)
	day := 24 * time.Hour
	now := time.Now()
	p := newPolicy(t, nil) // default 90-day window
	acct := newAccount(t, p.Name,
		incident("old-1", v1alpha1.CategoryAbuse, v1alpha1.SeverityMajor, now.Add(-200*day)),
		incident("old-2", v1alpha1.CategoryNonPayment, v1alpha1.SeverityMinor, now.Add(-150*day)),
		incident("recent", v1alpha1.CategoryAbuse, v1alpha1.SeverityMinor, now.Add(-10*day)))
	dir := t.TempDir()
	archive := filepath.Join(dir, "archive.yaml")

	// A cut-off that would take an incident still counting changes nothing.
	run(t, "compact", acct.Name, "--before", now.Format(time.RFC3339), "--reason", "tidy", "--archive", archive, "--by", "ops").
		fails(t, "nothing was changed", "recent: it counts")
	if n := len(get(t, acct.Name).Spec.Incidents); n != 3 {
		t.Fatalf("%d incidents after a refused compaction", n)
	}
	run(t, "compact", acct.Name, "--reason", "tidy", "--archive", archive).fails(t, "--before is required")

	cutoff := now.Add(-100 * day).UTC().Truncate(time.Second)
	run(t, "compact", acct.Name, "--before", cutoff.Format(time.RFC3339), "--reason", "Yearly archive, kept in the CRM.",
		"--archive", archive, "--by", "ops").ok(t)
	got := get(t, acct.Name)
	if len(got.Spec.Incidents) != 1 || got.Spec.Incidents[0].ID != "recent" {
		t.Errorf("incidents after compaction: %+v", got.Spec.Incidents)
	}
	if c := got.Spec.Compaction; !c.IsDefined() || c.By != "ops" || ptr.Deref(c.Removed, 0) != 2 || !c.Before.Time.Equal(cutoff) {
		t.Errorf("compaction = %+v", c)
	}
	raw, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"old-1", "old-2", "Yearly archive"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("archive lacks %q:\n%s", want, raw)
		}
	}
	run(t, "compact", acct.Name, "--before", cutoff.Format(time.RFC3339), "--reason", "again", "--archive", archive).
		fails(t, "exists; choose a new file")
}

func TestReportToAFullLedgerSaysHowToMakeRoom(t *testing.T) {
	testenv.Require(t)
	p := newPolicy(t, nil)
	var incs []v1alpha1.Incident
	for i := range v1alpha1.MaxIncidents {
		incs = append(incs, incident(fmt.Sprintf("i-%d", i), v1alpha1.CategoryOther, v1alpha1.SeverityMinor, time.Now().Add(-400*24*time.Hour)))
	}
	acct := newAccount(t, p.Name, incs...)
	run(t, "report", acct.Name, "--id", "one-more", "--category", "Abuse", "--summary", "Shouted.", "--reported-by", "desk").
		fails(t, "ledger of account", "is full (500 incidents)", "kubectl account compact")
}
