package lifecycle

import (
	"strings"
	"testing"
	"time"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// appealed files an appeal (by the customer) at `when`.
func appealed(when int) incOpt {
	return func(i *v1alpha1.Incident) {
		i.Appeal = &v1alpha1.Appeal{By: "customer", At: mt(at(time.Duration(when) * day)), Statement: "That is not what happened."}
	}
}

// decided decides the incident's appeal at `when`.
func decided(outcome v1alpha1.AppealOutcome, when int) incOpt {
	return func(i *v1alpha1.Incident) {
		i.Appeal.Decision = v1alpha1.AppealDecision{Outcome: outcome, By: "ombudsman", At: mt(at(time.Duration(when) * day)), Reason: "Reviewed the recording."}
	}
}

// Four eyes and appeals, with no admission policy: the engine alone keeps
// a reporter from approving, counts distinct approvers, and holds
// termination back while an appeal is undecided.
func TestDecisionsByTheRightPeople(t *testing.T) {
	since := at(80 * day) // FinalNotice since day 80; the notice period ended at day 94
	fn := func(opts ...accOpt) *v1alpha1.CustomerAccount {
		return acct(v1alpha1.PhaseFinalNotice, since, append([]accOpt{incidents(minors("m", 9, at(75*day))...)}, opts...)...)
	}
	two := pol(func(s *v1alpha1.AccountPolicySpec) { s.Approvals.Required = i32(2) })
	appealedAccount := func(opts ...incOpt) *v1alpha1.CustomerAccount {
		ms := minors("m", 4, at(75*day))
		ms = append(ms, inc("shouted", at(75*day), append([]incOpt{points(5)}, opts...)...))
		return acct(v1alpha1.PhaseFinalNotice, since, incidents(ms...), approval(at(81*day)))
	}
	terminated := want{phase: v1alpha1.PhaseTerminated, since: at(100 * day), from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonTerminated, score: 9, next: at(165 * day)}
	runCases(t, []evalCase{
		{
			name:    "the reporter of the counted incidents cannot approve",
			account: fn(approvalBy("support", at(81*day))),
			now:     at(100 * day),
			want: want{phase: v1alpha1.PhaseFinalNotice, since: since, score: 9, next: at(165 * day), pending: v1alpha1.ReasonAwaitingApproval,
				tpMsg: []string{"0 of 1 termination approval(s) count", "support reported the counted incident(s) ma, mb", "a new approval is needed"}},
		},
		{
			name:    "two approvals required: one is not enough",
			policy:  two,
			account: fn(approval(at(81 * day))),
			now:     at(100 * day),
			want: want{phase: v1alpha1.PhaseFinalNotice, since: since, score: 9, next: at(165 * day), pending: v1alpha1.ReasonAwaitingApproval,
				tpMsg: []string{"1 of 2 termination approval(s) count", "a new approval is needed"}},
		},
		{
			name:    "two approvals required: a reporter's second one does not count",
			policy:  two,
			account: fn(approval(at(81*day)), approvalBy("support", at(82*day))),
			now:     at(100 * day),
			want: want{phase: v1alpha1.PhaseFinalNotice, since: since, score: 9, next: at(165 * day), pending: v1alpha1.ReasonAwaitingApproval,
				tpMsg: []string{"1 of 2 termination approval(s) count", "support reported the counted incident(s)"}},
		},
		{
			name:    "two approvals required: two distinct people terminate",
			policy:  two,
			account: fn(approval(at(81*day)), approvalBy("dana", at(82*day))),
			now:     at(100 * day),
			want: func() want {
				w := terminated
				w.msg = []string{"vp-sales approved termination at " + fmtTime(at(81*day)), "dana approved termination at " + fmtTime(at(82*day))}
				return w
			}(),
		},
		{
			name:    "an undecided appeal filed within the window holds termination back",
			account: appealedAccount(appealed(90)),
			now:     at(100 * day),
			want: want{phase: v1alpha1.PhaseFinalNotice, since: since, score: 9, next: at(165 * day), pending: v1alpha1.ReasonAppealPending,
				tpMsg: []string{"customer appealed incident shouted at " + fmtTime(at(90*day)), "waits for a decision"}},
		},
		{
			name:    "an appeal filed after the window (14 days from the FinalNotice) does not",
			account: appealedAccount(appealed(95)),
			now:     at(100 * day),
			want:    terminated,
		},
		{
			name:    "upheld, the incident stands and termination proceeds",
			account: appealedAccount(appealed(90), decided(v1alpha1.AppealUpheld, 96)),
			now:     at(100 * day),
			want:    terminated,
		},
		{
			name:    "overturned, the incident stops counting and the account steps down",
			account: appealedAccount(appealed(90), decided(v1alpha1.AppealOverturned, 96)),
			now:     at(100 * day),
			want: want{phase: v1alpha1.PhaseWarned, since: at(100 * day), from: v1alpha1.PhaseFinalNotice, reason: v1alpha1.ReasonRecovered, score: 4,
				next: at(165 * day), pending: v1alpha1.ReasonNotPending},
			check: func(t *testing.T, d Decision) {
				a := appealedAccount(appealed(90), decided(v1alpha1.AppealOverturned, 96))
				if ok, why := Counts(a, pol(), &a.Spec.Incidents[4], at(100*day)); ok || why != NotCountedOverturned {
					t.Errorf("Counts = %v, %q; want not counted, %q", ok, why, NotCountedOverturned)
				}
			},
		},
		{
			name:    "a decision dated in the future does not decide yet",
			account: appealedAccount(appealed(90), decided(v1alpha1.AppealUpheld, 101)),
			now:     at(100 * day),
			want: want{phase: v1alpha1.PhaseFinalNotice, since: since, score: 9, next: at(101 * day), pending: v1alpha1.ReasonAppealPending,
				tpMsg: []string{"appealed incident shouted"}},
		},
	})
}

func TestCanDecideAppeal(t *testing.T) {
	a := acct(v1alpha1.PhaseFinalNotice, at(80*day), incidents(
		inc("plain", at(75*day)),
		inc("appealed", at(75*day), appealed(90), func(i *v1alpha1.Incident) { i.RelayedBy = "control-plane" }),
		inc("done", at(75*day), appealed(90), decided(v1alpha1.AppealUpheld, 91)),
	))
	for _, tc := range []struct{ id, by, err string }{
		{"appealed", "ombudsman", ""},
		{"appealed", "support", "support reported incident \"appealed\""},
		{"appealed", "control-plane", "control-plane reported incident"},
		{"appealed", "customer", "customer filed the appeal"},
		{"plain", "ombudsman", "has no appeal"},
		{"done", "ombudsman", "already decided (Upheld by ombudsman)"},
		{"missing", "ombudsman", "has no incident \"missing\""},
	} {
		err := CanDecideAppeal(a, tc.id, tc.by)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("CanDecideAppeal(%s, %s) = %v, want %q", tc.id, tc.by, err, tc.err)
		}
	}
}
