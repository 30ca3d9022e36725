package lifecycle

import (
	"strings"
	"testing"
	"time"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

func TestCanApprove(t *testing.T) {
	reported := func(a *v1alpha1.CustomerAccount) {
		a.Spec.Incidents = append(a.Spec.Incidents, inc("rude", at(day), func(i *v1alpha1.Incident) { i.ReportedBy = "vp-sales" }))
	}
	for _, tc := range []struct {
		name    string
		account *v1alpha1.CustomerAccount
		err     string
		// again: a second approval by the same person, which the plugin
		// refuses as pointless and the engine takes as a replacement.
		again bool
	}{
		{"in FinalNotice", acct(v1alpha1.PhaseFinalNotice, at(day)), "", false},
		{"Warned", acct(v1alpha1.PhaseWarned, at(day)), `"acme" is Warned, not in FinalNotice`, false},
		{"new", acct("", time.Time{}), "not yet evaluated, not in FinalNotice", false},
		{"Terminated", acct(v1alpha1.PhaseTerminated, at(day)), "is Terminated, not in FinalNotice", false},
		{"the approver reported an incident", acct(v1alpha1.PhaseFinalNotice, at(day), reported), "vp-sales reported incident(s) rude", false},
		{"the approver's incident was waived", acct(v1alpha1.PhaseFinalNotice, at(day), reported, func(a *v1alpha1.CustomerAccount) {
			waived(at(day))(&a.Spec.Incidents[0])
		}), "", false},
		{"already approved in this FinalNotice", acct(v1alpha1.PhaseFinalNotice, at(day), approvalBy("vp-sales", at(day))), "vp-sales already approved", true},
		{"approved in an earlier FinalNotice", acct(v1alpha1.PhaseFinalNotice, at(day), approvalBy("vp-sales", at(0))), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CanApprove(tc.account, "vp-sales", at(2*day))
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("CanApprove = %v, want %q", err, tc.err)
			}
			// The engine agrees: an approval it is told is fine is not ignored.
			a := tc.account.DeepCopy()
			approval(at(2 * day))(a)
			d := Evaluate(a, pol(), at(2*day))
			ignored := strings.Contains(strings.Join(d.Ignored, " "), "approval")
			if (err == nil) == ignored && tc.account.Status.Phase != v1alpha1.PhaseTerminated && !tc.again {
				t.Errorf("CanApprove = %v but the engine ignored the approval: %v", err, ignored)
			}
		})
	}
}

func TestReinstatementAt(t *testing.T) {
	terminatedAt := at(day).Add(300 * time.Millisecond)
	for _, tc := range []struct {
		name    string
		account *v1alpha1.CustomerAccount
		at      time.Time
		chosen  bool
		want    time.Time
		err     string
	}{
		{"after the termination", acct(v1alpha1.PhaseTerminated, at(day)), at(2 * day), false, at(2 * day), ""},
		{"the same second, unchosen: the next second", acct(v1alpha1.PhaseTerminated, at(day)), terminatedAt, false, at(day).Add(time.Second), ""},
		{"the same second, chosen: refused", acct(v1alpha1.PhaseTerminated, at(day)), terminatedAt, true, time.Time{}, "is not after the termination"},
		{"before the termination, chosen", acct(v1alpha1.PhaseTerminated, at(day)), at(0), true, time.Time{}, "is not after the termination"},
		{"not terminated", acct(v1alpha1.PhaseWarned, at(day)), at(2 * day), false, time.Time{}, "is Warned, not Terminated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReinstatementAt(tc.account, tc.at, tc.chosen)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("ReinstatementAt = %v, %v; want error %q", got, err, tc.err)
			}
			if !got.Equal(tc.want) {
				t.Errorf("ReinstatementAt = %s, want %s", got, tc.want)
			}
			if err != nil {
				return
			}
			// The engine lifts the termination with a reinstatement so dated.
			a := tc.account.DeepCopy()
			reinstatement(got)(a)
			if d := Evaluate(a, pol(), got); d.Phase == v1alpha1.PhaseTerminated {
				t.Errorf("a reinstatement dated %s did not lift the termination: %s", got, d.Explanation)
			}
		})
	}
}

// Settle follows a transition due at once: with no notice period and no
// approval required, a new account over the termination threshold gets its
// FinalNotice and, at the same moment, its termination.
func TestSettleFollowsTransitionsDueNow(t *testing.T) {
	policy := pol(noApproval, func(s *v1alpha1.AccountPolicySpec) { s.NoticePeriod = dur(0) })
	a := acct("", time.Time{}, incidents(minors("x", 9, at(day))...))
	if first := Evaluate(a, policy, at(2*day)); first.Phase != v1alpha1.PhaseFinalNotice {
		t.Fatalf("one evaluation gives %s, want FinalNotice (the case needs a second step)", first.Phase)
	}
	d := Settle(a, policy, at(2*day))
	if d.Phase != v1alpha1.PhaseTerminated {
		t.Errorf("settled on %s, want Terminated: %s", d.Phase, d.Explanation)
	}
	if a.Status.Phase != "" {
		t.Error("Settle changed the account it was given")
	}
}
