package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// The rules about who decides: termination approvals (how many, from whom,
// when) and appeals. The shipped admission policy refuses most wrong
// decisions at the API server; these rules are what make a cluster without
// it just as safe, and they say why a decision does not count.

// observeApprovals keeps the recorded observation of each approval while it
// is about the same approval (same author and date); an approval new to
// the operator is seen now, in the phase recorded before this evaluation
// (so one seen in the very evaluation that enters FinalNotice was written
// before it began).
func observeApprovals(account *v1alpha1.CustomerAccount, st state, now time.Time) []v1alpha1.ApprovalObservation {
	var out []v1alpha1.ApprovalObservation
	for _, a := range account.Spec.TerminationApprovals {
		i := slices.IndexFunc(account.Status.ApprovalObservations, func(o v1alpha1.ApprovalObservation) bool {
			return o.By == a.By && o.At.Equal(&a.At)
		})
		if i >= 0 {
			out = append(out, *account.Status.ApprovalObservations[i].DeepCopy())
			continue
		}
		out = append(out, v1alpha1.ApprovalObservation{By: a.By, At: a.At, SeenAt: metav1.NewTime(now), Phase: st.phase.phase()})
	}
	return out
}

// observation is the operator's observation of the approval by `by`.
func (f *facts) observation(by string) *v1alpha1.ApprovalObservation {
	for i := range f.approvals {
		if f.approvals[i].By == by {
			return &f.approvals[i]
		}
	}
	return nil
}

// judgedApprovals are the account's approvals judged for the FinalNotice st:
// those that count, and why each other one does not.
type judgedApprovals struct {
	counted    []v1alpha1.Decision
	notCounted []string
}

func (f *facts) judgeApprovals(account *v1alpha1.CustomerAccount, st state) judgedApprovals {
	var j judgedApprovals
	for _, a := range account.Spec.TerminationApprovals {
		if why := f.whyNotCounted(a, st); why != "" {
			j.notCounted = append(j.notCounted, why)
		} else {
			j.counted = append(j.counted, a)
		}
	}
	return j
}

// whyNotCounted says why approval a does not count for the FinalNotice st
// ("" when it counts).
func (f *facts) whyNotCounted(a v1alpha1.Decision, st state) string {
	o := f.observation(a.By)
	switch {
	case a.At.Time.Before(st.since):
		return fmt.Sprintf("the termination approval by %s at %s was given before this FinalNotice began at %s, so it does not count",
			a.By, fmtTime(a.At.Time), fmtTime(st.since))
	case !approvalSeenInNotice(o, st.since):
		return fmt.Sprintf("the termination approval by %s was first seen at %s while the account was %s, before this FinalNotice began at %s, so it does not count: an approval must be given during the notice",
			a.By, fmtTime(o.SeenAt.Time), o.Phase, fmtTime(st.since))
	case a.At.After(f.now):
		return fmt.Sprintf("the termination approval by %s is dated %s and counts only from then",
			a.By, fmtTime(a.At.Time))
	case len(f.reporters[a.By]) > 0:
		return fmt.Sprintf("%s reported the counted incident(s) %s and does not count as an approver: termination is approved by someone who did not bring the complaint",
			a.By, strings.Join(f.reporters[a.By], ", "))
	}
	return ""
}

// ApprovalVerdict is one recorded termination approval, judged.
type ApprovalVerdict struct {
	By string
	At time.Time
	// Why it does not count ("" when it counts).
	Why string
}

// Approvals judges the account's termination approvals at now the way
// Evaluate does, for its current FinalNotice, and says how many termination
// needs. Outside FinalNotice no approval counts.
func Approvals(account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, now time.Time) (needed int, verdicts []ApprovalVerdict) {
	st := currentState(account, now)
	f := newFacts(account, policy, now)
	f.approvals = observeApprovals(account, st, now)
	for _, a := range account.Spec.TerminationApprovals {
		why := f.whyNotCounted(a, st)
		if st.phase != finalNotice {
			why = "the account is " + string(st.phase.phase()) + ": an approval counts only when given during a FinalNotice"
		}
		verdicts = append(verdicts, ApprovalVerdict{By: a.By, At: a.At.Time, Why: why})
	}
	return f.rules.approvals, verdicts
}

// approvalSeenInNotice: the approval was first seen during the FinalNotice
// that began at since.
func approvalSeenInNotice(o *v1alpha1.ApprovalObservation, since time.Time) bool {
	return o != nil && o.Phase == v1alpha1.PhaseFinalNotice && !o.SeenAt.Time.Before(since)
}

// approvalRecorded is the gate of the approvals: enough distinct people,
// each counting, approved during this FinalNotice.
func approvalRecorded(in gateInput) (string, string, bool) {
	need := in.f.rules.approvals
	if need == 0 {
		return "", "", false
	}
	j := in.f.judgeApprovals(in.account, in.st)
	if len(j.counted) >= need {
		return "", "", false
	}
	if len(in.account.Spec.TerminationApprovals) == 0 && need == 1 {
		return v1alpha1.ReasonAwaitingApproval, fmt.Sprintf("no termination approval is recorded; one dated on or after %s, when this FinalNotice began, is needed",
			fmtTime(in.st.since)), true
	}
	parts := []string{fmt.Sprintf("%d of %d termination approval(s) count; each must come from a different person who reported no counted incident, dated on or after %s, when this FinalNotice began",
		len(j.counted), need, fmtTime(in.st.since))}
	parts = append(parts, j.notCounted...)
	if missing := need - len(j.counted); missing == 1 {
		parts = append(parts, "a new approval is needed")
	} else {
		parts = append(parts, fmt.Sprintf("%d more approvals are needed", missing))
	}
	return v1alpha1.ReasonAwaitingApproval, strings.Join(parts, "; "), true
}

// approvedBy says who approved termination and when, for messages ("" when
// no approval is needed).
func approvedBy(f *facts, account *v1alpha1.CustomerAccount, st state) string {
	if f.rules.approvals == 0 {
		return ""
	}
	j := f.judgeApprovals(account, st)
	names := make([]string, len(j.counted))
	for i, a := range j.counted {
		names[i] = fmt.Sprintf("%s approved termination at %s", a.By, fmtTime(a.At.Time))
	}
	return strings.Join(names, "; ")
}

// pendingAppeal is an undecided appeal of a counted incident.
type pendingAppeal struct {
	incident   string
	by         string
	at         time.Time
	occurredAt time.Time
}

// noAppealPending is the gate of appeals: no counted incident has an
// undecided appeal filed within the appeal window, which runs from the
// later of the incident and the start of this FinalNotice (the customer
// has the whole window after being told).
func noAppealPending(in gateInput) (string, string, bool) {
	var open []string
	for _, p := range in.f.appeals {
		from := p.occurredAt
		if in.st.since.After(from) {
			from = in.st.since
		}
		if p.at.After(from.Add(in.f.rules.appealWindow)) {
			continue
		}
		open = append(open, fmt.Sprintf("%s appealed incident %s at %s", p.by, p.incident, fmtTime(p.at)))
	}
	if len(open) == 0 {
		return "", "", false
	}
	return v1alpha1.ReasonAppealPending, strings.Join(open, ", ") +
		", and the appeal waits for a decision (kubectl account decide-appeal) by someone who neither reported the incident nor filed the appeal", true
}

// overturnedAt is when the incident's appeal was overturned, nil if it
// was not (yet).
func overturnedAt(inc *v1alpha1.Incident) *time.Time {
	if !inc.Appeal.IsDefined() || !inc.Appeal.Decision.IsDefined() || inc.Appeal.Decision.Outcome != v1alpha1.AppealOverturned {
		return nil
	}
	return &inc.Appeal.Decision.At.Time
}

// undecided says the incident's appeal is filed by now and not decided by
// now.
func undecided(inc *v1alpha1.Incident, now time.Time) bool {
	a := inc.Appeal
	return a.IsDefined() && !a.At.After(now) && (!a.Decision.IsDefined() || a.Decision.At.After(now))
}
