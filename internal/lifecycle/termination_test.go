package lifecycle

import (
	"strings"
	"testing"
	"time"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// TestEvaluateTermination covers FinalNotice -> Terminated: score, notice
// period, approval and hold.
func TestEvaluateTermination(t *testing.T) {
	since := at(80 * day) // entered FinalNotice; the notice period ends at day 94
	fn := func(opts ...accOpt) *v1alpha1.CustomerAccount {
		return acct(v1alpha1.PhaseFinalNotice, since, append([]accOpt{incidents(minors("m", 9, at(75*day))...)}, opts...)...)
	}
	runCases(t, []evalCase{
		{
			name:    "notice period running: pending, next evaluation when it ends, approval will also be needed",
			account: fn(),
			now:     at(90 * day),
			want: want{phase: v1alpha1.PhaseFinalNotice, since: since, score: 9, next: at(94 * day), pending: v1alpha1.ReasonNoticePeriod,
				tpMsg: []string{"runs until " + fmtTime(at(94*day)), "no termination approval is recorded", "on or after " + fmtTime(since)}},
		},
		{
			name:    "one nanosecond before the notice period ends",
			account: fn(approval(at(81 * day))),
			now:     at(94*day - 1),
			want:    want{phase: v1alpha1.PhaseFinalNotice, since: since, score: 9, next: at(94 * day), pending: v1alpha1.ReasonNoticePeriod, tpMsg: []string{"approved by vp-sales"}},
		},
		{
			name:    "terminates exactly when the notice period ends, with approval",
			account: fn(approval(at(81 * day))),
			now:     at(94 * day),
			want: want{phase: v1alpha1.PhaseTerminated, since: at(94 * day), from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonTerminated, score: 9, next: at(165 * day),
				msg: []string{"14-day notice period", "vp-sales approved termination at " + fmtTime(at(81*day)), "until a reinstatement"}},
		},
		{
			name:    "notice over, no approval: awaiting approval",
			account: fn(),
			now:     at(100 * day),
			want:    want{phase: v1alpha1.PhaseFinalNotice, since: since, score: 9, next: at(165 * day), pending: v1alpha1.ReasonAwaitingApproval},
		},
		{
			name:    "approval given before the current FinalNotice began does not count",
			account: fn(approval(since.Add(-1))),
			now:     at(100 * day),
			want: want{phase: v1alpha1.PhaseFinalNotice, since: since, score: 9, next: at(165 * day), pending: v1alpha1.ReasonAwaitingApproval,
				tpMsg: []string{"given before this FinalNotice began", "a new approval is needed"}},
		},
		{
			name:    "approval exactly when FinalNotice began counts",
			account: fn(approval(since)),
			now:     at(100 * day),
			want:    want{phase: v1alpha1.PhaseTerminated, since: at(100 * day), from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonTerminated, score: 9, next: at(165 * day)},
		},
		{
			name:    "approval dated now counts",
			account: fn(approval(at(100 * day))),
			now:     at(100 * day),
			want:    want{phase: v1alpha1.PhaseTerminated, since: at(100 * day), from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonTerminated, score: 9, next: at(165 * day)},
		},
		{
			name:    "approval first seen while Warned (written in advance, dated in the future) does not count",
			account: fn(approval(at(85*day)), seen(at(70*day), v1alpha1.PhaseWarned)),
			now:     at(100 * day),
			want: want{phase: v1alpha1.PhaseFinalNotice, since: since, score: 9, next: at(165 * day), pending: v1alpha1.ReasonAwaitingApproval,
				tpMsg: []string{"first seen at " + fmtTime(at(70*day)) + " while the account was Warned", "a new approval is needed"}},
		},
		{
			name:    "approval first seen during the previous FinalNotice does not count",
			account: fn(approval(since), seen(since.Add(-1), v1alpha1.PhaseFinalNotice)),
			now:     at(100 * day),
			want:    want{phase: v1alpha1.PhaseFinalNotice, since: since, score: 9, next: at(165 * day), pending: v1alpha1.ReasonAwaitingApproval},
		},
		{
			name:    "approval first seen during this FinalNotice counts",
			account: fn(approval(at(82*day)), seen(at(82*day), v1alpha1.PhaseFinalNotice)),
			now:     at(100 * day),
			want:    want{phase: v1alpha1.PhaseTerminated, since: at(100 * day), from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonTerminated, score: 9, next: at(165 * day)},
		},
		{
			name:    "an observation of another approval is replaced: the new one is seen now",
			account: fn(approval(at(82*day)), seen(at(70*day), v1alpha1.PhaseWarned), func(a *v1alpha1.CustomerAccount) { a.Status.ApprovalObservations[0].At = mt(at(81 * day)) }),
			now:     at(100 * day),
			want:    want{phase: v1alpha1.PhaseTerminated, since: at(100 * day), from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonTerminated, score: 9, next: at(165 * day)},
		},
		{
			name:    "approval dated in the future counts from then",
			account: fn(approval(at(105 * day))),
			now:     at(100 * day),
			want: want{phase: v1alpha1.PhaseFinalNotice, since: since, score: 9, next: at(105 * day), pending: v1alpha1.ReasonAwaitingApproval,
				tpMsg: []string{"dated " + fmtTime(at(105*day))}, explain: []string{"approval's date arrives"}},
		},
		{
			name:    "approvals.required 0 terminates when the notice period ends",
			policy:  pol(noApproval),
			account: fn(),
			now:     at(94 * day),
			want:    want{phase: v1alpha1.PhaseTerminated, since: at(94 * day), from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonTerminated, score: 9, next: at(165 * day)},
		},
		{
			name:    "approvals.required 0: notice message does not ask for approval",
			policy:  pol(noApproval),
			account: fn(),
			now:     at(90 * day),
			want:    want{phase: v1alpha1.PhaseFinalNotice, since: since, score: 9, next: at(94 * day), pending: v1alpha1.ReasonNoticePeriod},
			check: func(t *testing.T, d Decision) {
				if m := d.Conditions[0].Message; strings.Contains(m, "approval") {
					t.Errorf("message %q asks for an approval the policy does not require", m)
				}
			},
		},
		{
			name:    "a policy with every optional field unset takes the API server's defaults",
			policy:  &v1alpha1.AccountPolicy{Spec: v1alpha1.AccountPolicySpec{Thresholds: v1alpha1.Thresholds{Warned: 3, FinalNotice: 6, Terminated: 9}}},
			account: fn(),
			now:     at(90 * day),
			want: want{phase: v1alpha1.PhaseFinalNotice, since: since, score: 9, next: at(94 * day), pending: v1alpha1.ReasonNoticePeriod,
				tpMsg: []string{"14-day notice period", "no termination approval is recorded"}},
		},
		{
			name:    "approvals.required unset means one approval is required",
			policy:  pol(func(s *v1alpha1.AccountPolicySpec) { s.Approvals.Required = nil }),
			account: fn(),
			now:     at(100 * day),
			want:    want{phase: v1alpha1.PhaseFinalNotice, since: since, score: 9, next: at(165 * day), pending: v1alpha1.ReasonAwaitingApproval},
		},
		{
			name:    "score below the termination threshold: FinalNotice is not pending termination",
			account: acct(v1alpha1.PhaseFinalNotice, since, incidents(minors("m", 8, at(75*day))...), approval(at(81*day))),
			now:     at(100 * day),
			want:    want{phase: v1alpha1.PhaseFinalNotice, since: since, score: 8, next: at(165 * day), tpMsg: []string{"Score 8 is below the termination threshold (9)"}},
		},
		{
			name:    "a hold pauses termination that is otherwise due",
			account: fn(approval(at(81*day)), hold(at(103*day))),
			now:     at(100 * day),
			want: want{phase: v1alpha1.PhaseFinalNotice, since: since, score: 9, next: at(103 * day), pending: v1alpha1.ReasonHoldActive, held: true,
				tpMsg: []string{"hold by dana", fmtTime(at(103 * day))}},
		},
		{
			name:    "termination happens when the hold ends",
			account: fn(approval(at(81*day)), hold(at(103*day))),
			now:     at(103 * day),
			want:    want{phase: v1alpha1.PhaseTerminated, since: at(103 * day), from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonTerminated, score: 9, next: at(165 * day)},
		},
		{
			name:    "notice running and held: the notice period is the first reason, the hold is mentioned",
			account: fn(hold(at(103 * day))),
			now:     at(90 * day),
			want: want{phase: v1alpha1.PhaseFinalNotice, since: since, score: 9, next: at(94 * day), pending: v1alpha1.ReasonNoticePeriod, held: true,
				tpMsg: []string{"runs until", "hold by dana"}},
		},
	})
}

// TestEvaluateTerminatedAndReinstated covers the sticky Terminated phase and
// the fresh start a reinstatement gives.
func TestEvaluateTerminatedAndReinstated(t *testing.T) {
	since := at(100 * day) // terminated
	old := incidents(minors("m", 9, at(75*day))...)
	runCases(t, []evalCase{
		{
			name:    "Terminated is sticky even when nothing counts any more",
			account: acct(v1alpha1.PhaseTerminated, since),
			now:     at(400 * day),
			want:    want{phase: v1alpha1.PhaseTerminated, since: since, explain: []string{"until a reinstatement is recorded"}},
		},
		{
			name:    "a reinstatement from before the termination does not lift it",
			account: acct(v1alpha1.PhaseTerminated, since, old, reinstatement(at(50*day))),
			now:     at(110 * day),
			want:    want{phase: v1alpha1.PhaseTerminated, since: since, score: 9, next: at(165 * day)},
		},
		{
			name:    "a reinstatement dated exactly at the termination does not lift it",
			account: acct(v1alpha1.PhaseTerminated, since, old, reinstatement(since)),
			now:     at(110 * day),
			want:    want{phase: v1alpha1.PhaseTerminated, since: since},
		},
		{
			name:    "reinstatement gives a fresh start: earlier incidents stop counting",
			account: acct(v1alpha1.PhaseTerminated, since, old, reinstatement(at(110*day))),
			now:     at(110 * day),
			want: want{phase: v1alpha1.PhaseGood, since: at(110 * day), from: v1alpha1.PhaseTerminated, reason: v1alpha1.ReasonReinstated,
				msg: []string{"Reinstated by ceo", "paid in full", "no longer count"}},
		},
		{
			name:    "an incident exactly at reinstatement.at counts",
			account: acct(v1alpha1.PhaseTerminated, since, old, incidents(inc("same", at(110*day))), reinstatement(at(110*day))),
			now:     at(110 * day),
			want:    want{phase: v1alpha1.PhaseGood, since: at(110 * day), from: v1alpha1.PhaseTerminated, reason: v1alpha1.ReasonReinstated, score: 1, next: at(200 * day)},
		},
		{
			name:    "incidents since the reinstatement give one transition into the warranted phase",
			account: acct(v1alpha1.PhaseTerminated, since, old, incidents(minors("n", 4, at(106*day))...), reinstatement(at(105*day))),
			now:     at(110 * day),
			want: want{phase: v1alpha1.PhaseWarned, since: at(110 * day), from: v1alpha1.PhaseTerminated, reason: v1alpha1.ReasonReinstated, score: 4, next: at(196 * day),
				msg: []string{"enters Warned directly"}},
		},
		{
			name:    "incidents since the reinstatement never lead straight back to Terminated",
			account: acct(v1alpha1.PhaseTerminated, since, old, incidents(minors("n", 9, at(106*day))...), reinstatement(at(105*day))),
			now:     at(110 * day),
			want: want{phase: v1alpha1.PhaseFinalNotice, since: at(110 * day), from: v1alpha1.PhaseTerminated, reason: v1alpha1.ReasonReinstated, score: 9, next: at(124 * day),
				pending: v1alpha1.ReasonNoticePeriod},
		},
		{
			name:    "a hold keeps a reinstated account Good",
			account: acct(v1alpha1.PhaseTerminated, since, old, incidents(minors("n", 4, at(106*day))...), reinstatement(at(105*day)), hold(at(115*day))),
			now:     at(110 * day),
			want: want{phase: v1alpha1.PhaseGood, since: at(110 * day), from: v1alpha1.PhaseTerminated, reason: v1alpha1.ReasonReinstated, score: 4, next: at(115 * day), held: true,
				msg: []string{"keeps the account Good until " + fmtTime(at(115*day))}},
		},
		{
			name:    "a reinstatement dated in the future lifts Terminated then, and the ledger counts until then",
			account: acct(v1alpha1.PhaseTerminated, since, old, reinstatement(at(120*day))),
			now:     at(110 * day),
			want:    want{phase: v1alpha1.PhaseTerminated, since: since, score: 9, next: at(120 * day), explain: []string{"lifts it then"}},
		},
	})
}

// seen records that the account's approval was first seen at `when` in phase.
func seen(when time.Time, phase v1alpha1.AccountPhase) accOpt {
	return func(a *v1alpha1.CustomerAccount) {
		a.Status.ApprovalObservations = nil
		for _, ap := range a.Spec.TerminationApprovals {
			a.Status.ApprovalObservations = append(a.Status.ApprovalObservations, v1alpha1.ApprovalObservation{By: ap.By, At: ap.At, SeenAt: mt(when), Phase: phase})
		}
	}
}

// Issue Trust, item 6: an approval written while the account was Good, dated
// in the future, is seen then and never stands in for the human decision
// when a FinalNotice later runs its course.
func TestApprovalWrittenInAdvanceNeverCounts(t *testing.T) {
	policy := pol()
	a := acct(v1alpha1.PhaseGood, at(0), approval(at(60*day)))
	d := Evaluate(a, policy, at(10*day))
	if len(d.ApprovalObservations) != 1 {
		t.Fatalf("observations %+v, want one", d.ApprovalObservations)
	}
	if o := d.ApprovalObservations[0]; o.Phase != v1alpha1.PhaseGood || !o.SeenAt.Time.Equal(at(10*day)) {
		t.Fatalf("observation %+v, want seen at day 10 while Good", o)
	}
	a = withState(a, d)
	// The score reaches termination: Good -> FinalNotice in one evaluation.
	incidents(minors("m", 9, at(20*day))...)(a)
	d = Evaluate(a, policy, at(20*day))
	if d.Phase != v1alpha1.PhaseFinalNotice {
		t.Fatalf("phase %s, want FinalNotice", d.Phase)
	}
	a = withState(a, d)
	for _, now := range []time.Time{at(60 * day), at(70 * day)} {
		d = Evaluate(a, policy, now)
		if d.Phase != v1alpha1.PhaseFinalNotice || d.Conditions[0].Reason != v1alpha1.ReasonAwaitingApproval {
			t.Fatalf("at %s: phase %s, pending %s: %s", fmtTime(now), d.Phase, d.Conditions[0].Reason, d.Conditions[0].Message)
		}
		a = withState(a, d)
	}
	// A fresh approval during the notice counts.
	approval(at(71 * day))(a)
	if d = Evaluate(a, policy, at(71*day)); d.Phase != v1alpha1.PhaseTerminated {
		t.Fatalf("with an approval given during the notice: phase %s (%s)", d.Phase, d.Conditions[0].Message)
	}
}

// Issue Trust, item 15: decisions that have no effect are reported, not
// ignored silently.
func TestIgnoredDecisionsAreReported(t *testing.T) {
	since := at(100 * day)
	for _, tc := range []struct {
		name    string
		account *v1alpha1.CustomerAccount
		want    string // "" : nothing ignored
	}{
		{"reinstatement dated exactly at the termination", acct(v1alpha1.PhaseTerminated, since, reinstatement(since)),
			"the reinstatement by ceo dated " + fmtTime(since) + " is not after the termination"},
		{"reinstatement from before the termination", acct(v1alpha1.PhaseTerminated, since, reinstatement(at(50*day))), "does not lift it"},
		{"reinstatement after the termination", acct(v1alpha1.PhaseTerminated, since, reinstatement(at(101*day))), ""},
		{"approval given while Warned", acct(v1alpha1.PhaseWarned, since, approval(at(105*day))),
			"given while the account is Warned; an approval counts only when given during a FinalNotice"},
		{"approval left over from before the phase began", acct(v1alpha1.PhaseGood, since, approval(at(90*day))), ""},
		{"approval first seen before this FinalNotice", acct(v1alpha1.PhaseFinalNotice, since, approval(at(105*day)), seen(at(99*day), v1alpha1.PhaseWarned)),
			"given before this FinalNotice began"},
		{"approval during this FinalNotice", acct(v1alpha1.PhaseFinalNotice, since, approval(at(105*day))), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate(tc.account, pol(), at(106*day))
			got := strings.Join(d.Ignored, "; ")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("ignored = %q, want %q", got, tc.want)
			}
			if tc.want != "" && !strings.Contains(d.Explanation, "Ignored: ") {
				t.Errorf("explanation does not say what was ignored: %s", d.Explanation)
			}
		})
	}
}
