package lifecycle

import (
	"testing"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// TestEvaluateRecoveryImmediate covers stepping down with no recovery period.
func TestEvaluateRecoveryImmediate(t *testing.T) {
	now := at(100 * day)
	expired := incidents(minors("m", 6, at(5*day))...) // stop counting at day 95
	runCases(t, []evalCase{
		{
			name:    "FinalNotice steps straight down to Good in one transition",
			account: acct(v1alpha1.PhaseFinalNotice, at(10*day), expired),
			now:     now,
			want: want{phase: v1alpha1.PhaseGood, since: now, from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonRecovered,
				msg: []string{"below the Warned threshold (3)", "from FinalNotice to Good"}},
		},
		{
			name:    "FinalNotice steps down to Warned while the score still reaches Warned",
			account: acct(v1alpha1.PhaseFinalNotice, at(10*day), expired, incidents(minors("n", 3, at(50*day))...)),
			now:     now,
			want:    want{phase: v1alpha1.PhaseWarned, since: now, from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonRecovered, score: 3, next: at(140 * day)},
		},
		{
			name:    "a hold does not block stepping down",
			account: acct(v1alpha1.PhaseFinalNotice, at(10*day), expired, hold(at(200*day))),
			now:     now,
			want:    want{phase: v1alpha1.PhaseGood, since: now, from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonRecovered, next: at(200 * day), held: true},
		},
		{
			name:    "a waiver steps the account down at once",
			account: acct(v1alpha1.PhaseWarned, at(96*day), incidents(minors("w", 3, at(96*day), waived(at(99*day)))...)),
			now:     now,
			want:    want{phase: v1alpha1.PhaseGood, since: now, from: v1alpha1.PhaseWarned, reason: v1alpha1.ReasonRecovered},
		},
		{
			name:    "with no recovery period a waiver dated in the future steps down at once too",
			account: acct(v1alpha1.PhaseWarned, at(96*day), incidents(minors("w", 3, at(96*day), waived(at(105*day)))...)),
			now:     now,
			want:    want{phase: v1alpha1.PhaseGood, since: now, from: v1alpha1.PhaseWarned, reason: v1alpha1.ReasonRecovered},
		},
	})
}

// TestEvaluateRecoveryPeriod covers the derived moment the score fell below a
// threshold and the recovery period that must follow it.
func TestEvaluateRecoveryPeriod(t *testing.T) {
	p := pol(recovery(7 * day))
	// Six points counting from day 5 to day 95: FinalNotice since day 10.
	allAt95 := func(opts ...accOpt) *v1alpha1.CustomerAccount {
		return acct(v1alpha1.PhaseFinalNotice, at(10*day), append([]accOpt{incidents(minors("m", 6, at(5*day))...)}, opts...)...)
	}
	// Three points expire at day 95 and three at day 110: below FinalNotice
	// from day 95, below Warned from day 110.
	staggered := incidents(append(minors("a", 3, at(5*day)), minors("b", 3, at(20*day))...)...)
	runCases(t, []evalCase{
		{
			name:    "mid-recovery: below the thresholds but not yet for the recovery period",
			policy:  p,
			account: allAt95(),
			now:     at(98 * day),
			want: want{phase: v1alpha1.PhaseFinalNotice, since: at(10 * day), next: at(102 * day),
				explain: []string{"below the FinalNotice threshold (6)", "7-day recovery period", "the recovery period ends"}},
		},
		{
			name:    "one nanosecond before the recovery period is served",
			policy:  p,
			account: allAt95(),
			now:     at(102*day - 1),
			want:    want{phase: v1alpha1.PhaseFinalNotice, since: at(10 * day), next: at(102 * day)},
		},
		{
			name:    "recovery period served exactly: steps down to the level",
			policy:  p,
			account: allAt95(),
			now:     at(102 * day),
			want: want{phase: v1alpha1.PhaseGood, since: at(102 * day), from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonRecovered,
				msg: []string{"has been since " + fmtTime(at(95*day)), "7-day recovery period"}},
		},
		{
			name:    "staggered: below FinalNotice for less than the period",
			policy:  p,
			account: acct(v1alpha1.PhaseFinalNotice, at(20*day), staggered),
			now:     at(100 * day),
			want:    want{phase: v1alpha1.PhaseFinalNotice, since: at(20 * day), score: 3, next: at(102 * day)},
		},
		{
			name:    "staggered: below FinalNotice long enough, still at Warned level",
			policy:  p,
			account: acct(v1alpha1.PhaseFinalNotice, at(20*day), staggered),
			now:     at(105 * day),
			want:    want{phase: v1alpha1.PhaseWarned, since: at(105 * day), from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonRecovered, score: 3, next: at(110 * day)},
		},
		{
			name:    "staggered: evaluated late, steps down only as far as the recovery allows",
			policy:  p,
			account: acct(v1alpha1.PhaseFinalNotice, at(20*day), staggered),
			now:     at(115 * day),
			want: want{phase: v1alpha1.PhaseWarned, since: at(115 * day), from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonRecovered, next: at(117 * day),
				msg: []string{"steps down further once the score stays below 3 for 7-day"}},
		},
		{
			name:    "staggered: evaluated late enough, steps straight down to Good",
			policy:  p,
			account: acct(v1alpha1.PhaseFinalNotice, at(20*day), staggered),
			now:     at(117 * day),
			want:    want{phase: v1alpha1.PhaseGood, since: at(117 * day), from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonRecovered},
		},
		{
			name:    "the drop is derived, not remembered: Warned since day 115 still steps down at day 117",
			policy:  p,
			account: acct(v1alpha1.PhaseWarned, at(115*day), staggered),
			now:     at(117 * day),
			want:    want{phase: v1alpha1.PhaseGood, since: at(117 * day), from: v1alpha1.PhaseWarned, reason: v1alpha1.ReasonRecovered},
		},
		{
			name:   "a rise during recovery restarts the clock from the last fall",
			policy: p,
			// Above FinalNotice again from day 97 until the waiver at day 99.
			account: allAt95(incidents(minors("r", 6, at(97*day), waived(at(99*day)))...)),
			now:     at(104 * day),
			want:    want{phase: v1alpha1.PhaseFinalNotice, since: at(10 * day), next: at(106 * day)},
		},
		{
			name:    "a waiver starts the recovery clock when it is given, not retroactively",
			policy:  p,
			account: acct(v1alpha1.PhaseFinalNotice, at(20*day), incidents(minors("w", 6, at(20*day), waived(at(100*day)))...)),
			now:     at(103 * day),
			want:    want{phase: v1alpha1.PhaseFinalNotice, since: at(20 * day), next: at(107 * day)},
		},
		{
			name:    "after a waiver the recovery period ends and the account steps down",
			policy:  p,
			account: acct(v1alpha1.PhaseFinalNotice, at(20*day), incidents(minors("w", 6, at(20*day), waived(at(100*day)))...)),
			now:     at(107 * day),
			want:    want{phase: v1alpha1.PhaseGood, since: at(107 * day), from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonRecovered},
		},
		{
			name:    "a waiver dated in the future: not counted now, recovery runs from its date",
			policy:  p,
			account: acct(v1alpha1.PhaseFinalNotice, at(20*day), incidents(minors("w", 6, at(20*day), waived(at(105*day)))...)),
			now:     at(100 * day),
			want:    want{phase: v1alpha1.PhaseFinalNotice, since: at(20 * day), next: at(112 * day), explain: []string{"the recovery period ends"}},
		},
		{
			name:    "a waived incident yet to occur will hold back recovery, and the next evaluation says so",
			policy:  p,
			account: allAt95(incidents(minors("w", 6, at(99*day), waived(at(100*day)))...)),
			now:     at(98 * day),
			want:    want{phase: v1alpha1.PhaseFinalNotice, since: at(10 * day), next: at(107 * day)},
		},
		{
			name:    "a waived incident exactly at now has not counted yet: recovery already served",
			policy:  p,
			account: allAt95(incidents(minors("w", 6, at(102*day), waived(at(104*day)))...)),
			now:     at(102 * day),
			want:    want{phase: v1alpha1.PhaseGood, since: at(102 * day), from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonRecovered},
		},
		{
			name:    "a waiver dated in the future, once its date has come: recovery period running",
			policy:  p,
			account: acct(v1alpha1.PhaseFinalNotice, at(20*day), incidents(minors("w", 6, at(20*day), waived(at(105*day)))...)),
			now:     at(105 * day),
			want:    want{phase: v1alpha1.PhaseFinalNotice, since: at(20 * day), next: at(112 * day)},
		},
		{
			name:    "a score that never reached the threshold (thresholds raised) has served its recovery",
			policy:  p,
			account: acct(v1alpha1.PhaseFinalNotice, at(90*day), incidents(minors("m", 2, at(80*day))...)),
			now:     at(91 * day),
			want:    want{phase: v1alpha1.PhaseGood, since: at(91 * day), from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonRecovered, score: 2, next: at(170 * day)},
		},
		{
			name:    "vendor incidents do not hold back recovery",
			policy:  p,
			account: allAt95(incidents(minors("v", 9, at(90*day), vendor)...)),
			now:     at(102 * day),
			want:    want{phase: v1alpha1.PhaseGood, since: at(102 * day), from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonRecovered},
		},
		{
			name:    "Terminated never recovers on its own",
			policy:  p,
			account: acct(v1alpha1.PhaseTerminated, at(20*day), incidents(minors("m", 9, at(5*day))...)),
			now:     at(200 * day),
			want:    want{phase: v1alpha1.PhaseTerminated, since: at(20 * day)},
		},
	})
}
