package lifecycle

import (
	"testing"
	"time"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

func TestRecoverPhase(t *testing.T) {
	now := at(200 * day)
	for _, tc := range []struct {
		name      string
		recorded  []RecordedPhase
		phase     v1alpha1.AccountPhase
		since     time.Time
		fromWhere string
	}{
		{"nothing recorded", nil, "", time.Time{}, ""},
		{"unknown labels are ignored", []RecordedPhase{{"a", "Banished", at(day)}}, "", time.Time{}, ""},
		{"the most severe phase wins", []RecordedPhase{{"a", v1alpha1.PhaseGood, at(day)}, {"b", v1alpha1.PhaseTerminated, at(150 * day)}, {"c", v1alpha1.PhaseWarned, at(2 * day)}},
			v1alpha1.PhaseTerminated, at(150 * day), "b"},
		{"ties: the earliest known start", []RecordedPhase{{"a", v1alpha1.PhaseFinalNotice, time.Time{}}, {"b", v1alpha1.PhaseFinalNotice, at(190 * day)}, {"c", v1alpha1.PhaseFinalNotice, at(180 * day)}},
			v1alpha1.PhaseFinalNotice, at(180 * day), "c"},
		{"no start known: now", []RecordedPhase{{"a", v1alpha1.PhaseFinalNotice, time.Time{}}}, v1alpha1.PhaseFinalNotice, now, "a"},
		{"a start in the future: now", []RecordedPhase{{"a", v1alpha1.PhaseFinalNotice, at(300 * day)}}, v1alpha1.PhaseFinalNotice, now, "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			phase, since, from := RecoverPhase(tc.recorded, now)
			if phase != tc.phase || !since.Equal(tc.since) || from != tc.fromWhere {
				t.Errorf("got %s since %s from %q, want %s since %s from %q", phase, since, from, tc.phase, tc.since, tc.fromWhere)
			}
		})
	}
}
