package lifecycle

import (
	"slices"
	"testing"
	"time"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// TestEvaluateCounting covers which incidents count and what they weigh.
func TestEvaluateCounting(t *testing.T) {
	now := at(100 * day)
	runCases(t, []evalCase{
		{
			name:    "new account with nothing recorded is Good since its creation",
			account: acct("", time.Time{}),
			now:     now,
			want:    want{phase: v1alpha1.PhaseGood, since: t0, explain: []string{"below the Warned threshold (3)", "Nothing changes"}},
		},
		{
			name:    "new account without creation timestamp is Good since now",
			account: acct("", time.Time{}, created(time.Time{})),
			now:     now,
			want:    want{phase: v1alpha1.PhaseGood, since: now},
		},
		{
			name:    "unknown recorded phase is treated as a new account",
			account: acct("Bogus", at(50*day)),
			now:     now,
			want:    want{phase: v1alpha1.PhaseGood, since: t0},
		},
		{
			name:    "new account reaching Warned escalates from Good",
			account: acct("", time.Time{}, incidents(minors("w", 3, at(95*day))...)),
			now:     now,
			want: want{phase: v1alpha1.PhaseWarned, since: now, from: v1alpha1.PhaseGood, reason: v1alpha1.ReasonEscalated, score: 3, next: at(185 * day),
				msg: []string{"Score 3 reaches the Warned threshold (3)", "FinalNotice follows if the score reaches 6"}},
		},
		{
			name:    "incident exactly at the window edge does not count",
			account: acct(v1alpha1.PhaseGood, t0, incidents(minors("e", 3, at(10*day))...)),
			now:     now,
			want:    want{phase: v1alpha1.PhaseGood, since: t0},
		},
		{
			name:    "incident one second inside the window counts and expires exactly at occurredAt+window",
			account: acct(v1alpha1.PhaseWarned, at(11*day), incidents(minors("e", 3, at(10*day))...)),
			now:     now.Add(-time.Second),
			want:    want{phase: v1alpha1.PhaseWarned, since: at(11 * day), score: 3, next: now, explain: []string{"an incident stops counting"}},
		},
		{
			name: "vendor incidents are shown and never counted",
			account: acct(v1alpha1.PhaseGood, t0, incidents(append(minors("v", 5, at(95*day), vendor, sev(v1alpha1.SeverityCritical)),
				inc("c", at(96*day)))...)),
			now:  now,
			want: want{phase: v1alpha1.PhaseGood, since: t0, score: 1, next: at(186 * day)},
			check: func(t *testing.T, d Decision) {
				if d.Vendor != 5 || d.Counted != 1 || d.Waived != 0 {
					t.Errorf("counted/vendor/waived %d/%d/%d, want 1/5/0", d.Counted, d.Vendor, d.Waived)
				}
			},
		},
		{
			name: "waived incidents never count; a waived vendor incident is Vendor only",
			account: acct(v1alpha1.PhaseGood, t0, incidents(append(minors("w", 3, at(95*day), waived(at(96*day))),
				inc("vw", at(95*day), vendor, waived(at(96*day))), inc("c1", at(90*day)), inc("c2", at(91*day)))...)),
			now:  now,
			want: want{phase: v1alpha1.PhaseGood, since: t0, score: 2, next: at(180 * day)},
			check: func(t *testing.T, d Decision) {
				if d.Vendor != 1 || d.Counted != 2 || d.Waived != 3 {
					t.Errorf("counted/vendor/waived %d/%d/%d, want 2/1/3", d.Counted, d.Vendor, d.Waived)
				}
			},
		},
		{
			name: "an incident's points override weight x severity",
			account: acct(v1alpha1.PhaseGood, t0, incidents(
				inc("big", at(95*day), points(7), sev(v1alpha1.SeverityMinor)),
				inc("free", at(95*day), points(0), sev(v1alpha1.SeverityCritical)))),
			now:  now,
			want: want{phase: v1alpha1.PhaseFinalNotice, since: now, from: v1alpha1.PhaseGood, reason: v1alpha1.ReasonEscalated, score: 7, next: at(185 * day)},
		},
		{
			name: "category weights multiply severity points; empty severity is Minor",
			policy: pol(func(s *v1alpha1.AccountPolicySpec) {
				s.CategoryWeights.Abuse = i32(3)
				s.SeverityPoints.Minor = i32(2)
			}),
			account: acct(v1alpha1.PhaseGood, t0, incidents(
				inc("abuse", at(95*day), cat(v1alpha1.CategoryAbuse), sev(v1alpha1.SeverityMajor)),
				inc("load", at(95*day), cat(v1alpha1.CategorySupportLoad), sev("")))),
			now:  now,
			want: want{phase: v1alpha1.PhaseFinalNotice, since: now, from: v1alpha1.PhaseGood, reason: v1alpha1.ReasonEscalated, score: 8, next: at(185 * day)},
			check: func(t *testing.T, d Decision) {
				if d.PrimaryConcern != v1alpha1.CategoryAbuse {
					t.Errorf("primary concern %q, want Abuse", d.PrimaryConcern)
				}
				if !slices.Equal(d.Thresholds, []v1alpha1.AccountPhase{v1alpha1.PhaseWarned, v1alpha1.PhaseFinalNotice}) || d.Level != v1alpha1.PhaseFinalNotice {
					t.Errorf("thresholds %v level %s, want [Warned FinalNotice] FinalNotice", d.Thresholds, d.Level)
				}
			},
		},
		{
			name:    "future incidents do not count until they occur",
			account: acct(v1alpha1.PhaseGood, t0, incidents(minors("f", 3, at(105*day))...)),
			now:     now,
			want:    want{phase: v1alpha1.PhaseGood, since: t0, next: at(105 * day), explain: []string{"a recorded incident occurs"}},
		},
		{
			name:    "future incidents escalate once they occur",
			account: acct(v1alpha1.PhaseGood, t0, incidents(minors("f", 3, at(105*day))...)),
			now:     at(105 * day),
			want:    want{phase: v1alpha1.PhaseWarned, since: at(105 * day), from: v1alpha1.PhaseGood, reason: v1alpha1.ReasonEscalated, score: 3, next: at(195 * day)},
		},
	})
}

// TestEvaluateEscalation covers moving up, holds and the FinalNotice cap.
func TestEvaluateEscalation(t *testing.T) {
	now := at(100 * day)
	heavyCritical := pol(func(s *v1alpha1.AccountPolicySpec) { s.SeverityPoints.Critical = i32(9) })
	runCases(t, []evalCase{
		{
			name:    "a Critical incident on a Good account gives FinalNotice, never Terminated",
			policy:  heavyCritical,
			account: acct(v1alpha1.PhaseGood, t0, incidents(inc("fraud", at(99*day), sev(v1alpha1.SeverityCritical), cat(v1alpha1.CategoryAbuse)))),
			now:     now,
			want: want{phase: v1alpha1.PhaseFinalNotice, since: now, from: v1alpha1.PhaseGood, reason: v1alpha1.ReasonEscalated, score: 9, next: at(114 * day),
				pending: v1alpha1.ReasonNoticePeriod,
				msg:     []string{"Terminated threshold (9)", "termination always follows a full notice period", "Termination is possible from " + fmtTime(at(114*day)), "approval dated on or after " + fmtTime(now)},
				tpMsg:   []string{"runs until " + fmtTime(at(114*day)), "no termination approval is recorded"}},
		},
		{
			name:    "Warned escalates to FinalNotice",
			account: acct(v1alpha1.PhaseWarned, at(50*day), incidents(minors("m", 6, at(95*day))...)),
			now:     now,
			want:    want{phase: v1alpha1.PhaseFinalNotice, since: now, from: v1alpha1.PhaseWarned, reason: v1alpha1.ReasonEscalated, score: 6, next: at(185 * day)},
		},
		{
			name:    "a hold pauses escalation until hold.until",
			account: acct(v1alpha1.PhaseWarned, at(50*day), incidents(minors("m", 6, at(95*day))...), hold(at(103*day))),
			now:     now,
			want: want{phase: v1alpha1.PhaseWarned, since: at(50 * day), score: 6, next: at(103 * day), held: true,
				explain: []string{"hold by dana pauses escalation until " + fmtTime(at(103*day)), "the hold ends"}},
			check: func(t *testing.T, d Decision) {
				containsAll(t, "Held message", d.Conditions[1].Message, []string{"dana", "meeting the customer", fmtTime(at(103 * day))})
			},
		},
		{
			name:    "escalation happens at hold.until while the score is still high",
			account: acct(v1alpha1.PhaseWarned, at(50*day), incidents(minors("m", 6, at(95*day))...), hold(at(103*day))),
			now:     at(103 * day),
			want:    want{phase: v1alpha1.PhaseFinalNotice, since: at(103 * day), from: v1alpha1.PhaseWarned, reason: v1alpha1.ReasonEscalated, score: 6, next: at(185 * day)},
			check: func(t *testing.T, d Decision) {
				containsAll(t, "Held message", d.Conditions[1].Message, []string{"ended at " + fmtTime(at(103*day))})
			},
		},
		{
			name:    "a hold on an account with nothing to escalate is still reported",
			account: acct(v1alpha1.PhaseGood, t0, hold(at(103*day))),
			now:     now,
			want:    want{phase: v1alpha1.PhaseGood, since: t0, next: at(103 * day), held: true},
		},
		{
			name:    "zero notice and no approval needed: FinalNotice first, evaluate again at once",
			policy:  pol(noApproval, func(s *v1alpha1.AccountPolicySpec) { s.NoticePeriod = dur(0) }),
			account: acct(v1alpha1.PhaseGood, t0, incidents(minors("m", 9, at(99*day))...)),
			now:     now,
			want: want{phase: v1alpha1.PhaseFinalNotice, since: now, from: v1alpha1.PhaseGood, reason: v1alpha1.ReasonEscalated, score: 9, next: now,
				pending: v1alpha1.ReasonNoticePeriod, tpMsg: []string{"termination is due now"}, explain: []string{"another transition is due"}},
			check: func(t *testing.T, d Decision) {
				again := Evaluate(acct(d.Phase, d.PhaseSince, incidents(minors("m", 9, at(99*day))...)),
					pol(noApproval, func(s *v1alpha1.AccountPolicySpec) { s.NoticePeriod = dur(0) }), now)
				if again.Phase != v1alpha1.PhaseTerminated || again.Transition == nil {
					t.Errorf("second evaluation at the same instant gave %s, want Terminated", again.Phase)
				}
			},
		},
		{
			name:    "a recorded phase without phaseSince restarts the notice period",
			account: acct(v1alpha1.PhaseFinalNotice, time.Time{}, incidents(minors("m", 9, at(99*day))...), approval(t0)),
			now:     now,
			want:    want{phase: v1alpha1.PhaseFinalNotice, since: now, score: 9, next: at(114 * day), pending: v1alpha1.ReasonNoticePeriod},
		},
	})
}

func TestEvaluateWithoutPolicyKeepsState(t *testing.T) {
	d := Evaluate(acct(v1alpha1.PhaseFinalNotice, at(5*day), incidents(minors("m", 9, at(4*day))...)), nil, at(100*day))
	if d.Phase != v1alpha1.PhaseFinalNotice || !d.PhaseSince.Equal(at(5*day)) || d.Transition != nil || d.NextEvaluation != nil {
		t.Errorf("decision %+v, want FinalNotice since day 5, no transition, no next evaluation", d)
	}
}

func TestPrimaryConcern(t *testing.T) {
	now := at(100 * day)
	for _, tc := range []struct {
		name string
		incs []v1alpha1.Incident
		want v1alpha1.IncidentCategory
	}{
		{"none counted", []v1alpha1.Incident{inc("v", at(99*day), vendor)}, ""},
		{"only zero points", []v1alpha1.Incident{inc("z", at(99*day), points(0))}, ""},
		{"most points wins", []v1alpha1.Incident{
			inc("a", at(99*day), cat(v1alpha1.CategoryAbuse)),
			inc("n", at(99*day), cat(v1alpha1.CategoryNonPayment), sev(v1alpha1.SeverityMajor)),
		}, v1alpha1.CategoryNonPayment},
		{"ties go to the earlier category in v1alpha1.Categories", []v1alpha1.Incident{
			inc("p", at(99*day), cat(v1alpha1.CategoryPoorFit), sev(v1alpha1.SeverityMajor)),
			inc("s", at(99*day), cat(v1alpha1.CategorySupportLoad), sev(v1alpha1.SeverityMajor)),
		}, v1alpha1.CategorySupportLoad},
		{"waived points are not a concern", []v1alpha1.Incident{
			inc("a", at(99*day), cat(v1alpha1.CategoryAbuse), sev(v1alpha1.SeverityCritical), waived(at(99*day))),
			inc("o", at(99*day)),
		}, v1alpha1.CategoryOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Evaluate(acct(v1alpha1.PhaseGood, t0, incidents(tc.incs...)), pol(), now).PrimaryConcern; got != tc.want {
				t.Errorf("primary concern %q, want %q", got, tc.want)
			}
		})
	}
}
