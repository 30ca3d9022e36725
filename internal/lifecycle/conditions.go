package lifecycle

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// gateInput is what the termination gates look at: an account in FinalNotice
// whose score reaches the termination threshold.
type gateInput struct {
	f       *facts
	account *v1alpha1.CustomerAccount
	st      state
}

// gate returns the TerminationPending reason and a message when it holds
// termination back.
type gate func(gateInput) (reason, message string, failed bool)

// terminationGates run in order; the first failing one gives the reason.
var terminationGates = []gate{noticeServed, approvalRecorded, noAppealPending, notHeld}

type gateResult struct{ reason, message string }

func failingGates(in gateInput) []gateResult {
	var out []gateResult
	for _, g := range terminationGates {
		if reason, message, failed := g(in); failed {
			out = append(out, gateResult{reason, message})
		}
	}
	return out
}

func noticeServed(in gateInput) (string, string, bool) {
	end := in.st.since.Add(in.f.rules.notice)
	if in.f.now.Before(end) {
		return v1alpha1.ReasonNoticePeriod, fmt.Sprintf("the %s notice period that began %s runs until %s",
			fmtDuration(in.f.rules.notice), fmtTime(in.st.since), fmtTime(end)), true
	}
	return "", "", false
}

func notHeld(in gateInput) (string, string, bool) {
	if h := in.account.Spec.Hold; heldAt(in.account, in.f.now) {
		return v1alpha1.ReasonHoldActive, fmt.Sprintf("a hold by %s pauses escalation until %s (%s)",
			h.By, fmtTime(h.Until.Time), h.Reason), true
	}
	return "", "", false
}

// conditions are TerminationPending and Held for the account in state st.
func conditions(f *facts, account *v1alpha1.CustomerAccount, st state) []metav1.Condition {
	return []metav1.Condition{terminationPending(f, account, st), heldCondition(f, account)}
}

func terminationPending(f *facts, account *v1alpha1.CustomerAccount, st state) metav1.Condition {
	c := metav1.Condition{
		Type:               v1alpha1.ConditionTerminationPending,
		Status:             metav1.ConditionFalse,
		Reason:             v1alpha1.ReasonNotPending,
		ObservedGeneration: account.Generation,
		LastTransitionTime: metav1.NewTime(f.now),
	}
	switch {
	case st.phase == terminated:
		c.Message = fmt.Sprintf("The account is already Terminated (since %s).", fmtTime(st.since))
		return c
	case st.phase < finalNotice:
		c.Message = fmt.Sprintf("The account is %s; termination is only possible after a full notice period in FinalNotice.", st.phase.phase())
		return c
	case f.level < terminated:
		c.Message = fmt.Sprintf("Score %d is below the termination threshold (%d).", f.score, f.rules.th[terminated])
		return c
	}
	c.Status = metav1.ConditionTrue
	failing := failingGates(gateInput{f, account, st})
	if len(failing) == 0 {
		// Only seen right after entering FinalNotice with nothing left to
		// wait for (noticePeriod 0); Decision.NextEvaluation is then now.
		c.Reason = v1alpha1.ReasonNoticePeriod
		c.Message = fmt.Sprintf("Score %d reaches the termination threshold (%d) and the notice period ended at %s; termination is due now.",
			f.score, f.rules.th[terminated], fmtTime(st.since.Add(f.rules.notice)))
		return c
	}
	c.Reason = failing[0].reason
	msgs := make([]string, len(failing))
	for i, g := range failing {
		msgs[i] = g.message
	}
	c.Message = fmt.Sprintf("Score %d reaches the termination threshold (%d), but %s.", f.score, f.rules.th[terminated], strings.Join(msgs, "; also "))
	if _, _, failed := approvalRecorded(gateInput{f, account, st}); f.rules.approvals > 0 && !failed {
		var by []string
		for _, a := range f.judgeApprovals(account, st).counted {
			by = append(by, fmt.Sprintf("%s at %s", a.By, fmtTime(a.At.Time)))
		}
		c.Message += fmt.Sprintf(" Termination was approved by %s.", strings.Join(by, " and "))
	}
	return c
}

func heldCondition(f *facts, account *v1alpha1.CustomerAccount) metav1.Condition {
	c := metav1.Condition{
		Type:               v1alpha1.ConditionHeld,
		Status:             metav1.ConditionFalse,
		Reason:             v1alpha1.ReasonNoHold,
		ObservedGeneration: account.Generation,
		LastTransitionTime: metav1.NewTime(f.now),
		Message:            "No hold is in place.",
	}
	h := account.Spec.Hold
	switch {
	case heldAt(account, f.now):
		c.Status, c.Reason = metav1.ConditionTrue, v1alpha1.ReasonHoldActive
		c.Message = fmt.Sprintf("Escalation is paused until %s by %s: %s", fmtTime(h.Until.Time), h.By, h.Reason)
	case h.IsDefined():
		c.Message = fmt.Sprintf("The hold by %s ended at %s.", h.By, fmtTime(h.Until.Time))
	}
	return c
}
