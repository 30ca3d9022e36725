package lifecycle

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// Decision is the outcome of evaluating an account at a moment.
type Decision struct {
	// Phase is the phase after this evaluation.
	Phase v1alpha1.AccountPhase
	// PhaseSince is when Phase was entered: unchanged unless a transition
	// happened, then now.
	PhaseSince time.Time
	// Transition is nil when the phase did not change.
	Transition *Transition
	// Level is the highest phase whose threshold the score reaches.
	Level v1alpha1.AccountPhase
	// Score is the sum of the counted incidents' points.
	Score int32
	// Thresholds are the phases whose threshold the score reaches, ascending.
	Thresholds []v1alpha1.AccountPhase
	// Counted, Vendor and Waived count incidents; a waived vendor incident
	// is only in Vendor.
	Counted, Vendor, Waived int32
	// PrimaryConcern is the category with the most counted points, "" when
	// the score is 0.
	PrimaryConcern v1alpha1.IncidentCategory
	// Conditions are TerminationPending and Held, with LastTransitionTime now
	// (merge them with meta.SetStatusCondition).
	Conditions []metav1.Condition
	// NextEvaluation is the next moment the outcome can change with no edit:
	// now when another transition is already due, nil if never.
	NextEvaluation *time.Time
	// Explanation says why this phase, what happens next and when.
	Explanation string
	// Ignored lists the human decisions recorded on the account that have no
	// effect (a reinstatement not after the termination, an approval given
	// outside a FinalNotice), each saying why, so none is ignored silently.
	Ignored []string
	// ApprovalObservations are what status.approvalObservations should
	// say: per approval, the recorded observation while it is about the
	// same approval, else the approval seen now, in the phase recorded
	// before this evaluation.
	ApprovalObservations []v1alpha1.ApprovalObservation
}

// Transition is a phase change decided by Evaluate.
type Transition struct {
	From v1alpha1.AccountPhase `json:"from"`
	To   v1alpha1.AccountPhase `json:"to"`
	// Reason is v1alpha1.ReasonEscalated, v1alpha1.ReasonTerminated, v1alpha1.ReasonRecovered or
	// v1alpha1.ReasonReinstated.
	Reason string `json:"reason"`
	// Message says why, what next and when.
	Message string `json:"message"`
}

// state is the account's phase as recorded in its status.
type state struct {
	phase rank
	since time.Time
}

// outcome is one step of the state machine.
type outcome struct {
	phase      rank
	transition *Transition
	next       moment
}

// Evaluate decides where an account stands at now under the policy. It is
// pure: no client, no clock. The current state is account.Status.Phase and
// PhaseSince; an empty (or unknown) phase is a new account, Good since its
// creationTimestamp (or now if that is zero). Unset policy fields take the
// API server's defaults (v1alpha1's Effective* and For helpers: a nil
// approvals.required is 1, a zero or nil window 90 days), explicit zeros are
// taken as given, negative periods as 0. Check a policy with CheckPolicy
// first; with a nil policy Evaluate keeps the recorded state.
func Evaluate(account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, now time.Time) Decision {
	now = now.Round(0) // compare wall clocks only
	if account == nil {
		account = &v1alpha1.CustomerAccount{}
	}
	st := currentState(account, now)
	if policy == nil {
		return Decision{
			Phase: st.phase.phase(), PhaseSince: st.since, Level: v1alpha1.PhaseGood,
			Explanation: "No policy was given, so the account keeps its recorded phase and nothing was evaluated.",
		}
	}
	f := newFacts(account, policy, now)
	f.approvals = observeApprovals(account, st, now)
	o := decide(f, account, st)
	final, next := st, o.next
	if o.transition != nil {
		// Describe and schedule from the phase just entered.
		final = state{phase: o.phase, since: now}
		if o2 := decide(f, account, final); o2.transition != nil {
			next = moment{at: now, why: whyTransitionDue}
		} else {
			next = o2.next
		}
	}
	d := Decision{
		Phase:          final.phase.phase(),
		PhaseSince:     final.since,
		Transition:     o.transition,
		Level:          f.level.phase(),
		Score:          clamp32(f.score),
		Counted:        f.counted,
		Vendor:         f.vendor,
		Waived:         f.waived,
		PrimaryConcern: f.primaryConcern(),
		Conditions:     conditions(f, account, final),
		Explanation:    explain(f, account, final, next),
		Ignored:        ignoredDecisions(f, account, st),

		ApprovalObservations: f.approvals,
	}
	if len(d.Ignored) > 0 {
		d.Explanation += " Ignored: " + strings.Join(d.Ignored, "; ") + "."
	}
	for k := warned; k <= terminated; k++ {
		if f.score >= f.rules.th[k] {
			d.Thresholds = append(d.Thresholds, k.phase())
		}
	}
	if !next.at.IsZero() {
		d.NextEvaluation = &next.at
	}
	return d
}

func currentState(account *v1alpha1.CustomerAccount, now time.Time) state {
	r, ok := rankOf(account.Status.Phase)
	switch {
	case !ok:
		// A new account: Good since it was created.
		if t := account.CreationTimestamp; !t.IsZero() {
			return state{phase: good, since: t.Time}
		}
		return state{phase: good, since: now}
	case account.Status.PhaseSince == nil:
		// The clock restarts rather than cutting a notice period short.
		return state{phase: r, since: now}
	default:
		return state{phase: r, since: account.Status.PhaseSince.Time}
	}
}

// decide applies the lifecycle rules once to the recorded state.
func decide(f *facts, account *v1alpha1.CustomerAccount, st state) outcome {
	held := heldAt(account, f.now)
	switch {
	case st.phase == terminated:
		if ra := reinstatedAt(account); ra != nil && liftsTermination(st.since, *ra) && !ra.After(f.now) {
			to := good
			if !held {
				to = min(f.level, finalNotice)
			}
			return outcome{phase: to, transition: reinstatedTransition(f, account, to)}
		}
	case f.level > st.phase && st.phase < finalNotice:
		if !held {
			to := min(f.level, finalNotice)
			return outcome{phase: to, transition: escalatedTransition(f, st.phase, to)}
		}
	case f.level > st.phase: // FinalNotice with the score reaching Terminated
		if len(failingGates(gateInput{f, account, st})) == 0 {
			return outcome{phase: terminated, transition: terminatedTransition(f, account, st)}
		}
	case f.level < st.phase:
		if to := f.stepDown(st.phase); to < st.phase {
			return outcome{phase: to, transition: recoveredTransition(f, st.phase, to)}
		}
	}
	return outcome{phase: st.phase, next: nextMoment(f, account, st)}
}

// nextMoment is the earliest moment after now at which deciding from st can
// give another outcome, when nothing is edited.
func nextMoment(f *facts, account *v1alpha1.CustomerAccount, st state) moment {
	now := f.now
	m := f.scoreChange
	if h := account.Spec.Hold; heldAt(account, now) {
		m.offer(h.Until.Time, now, whyHoldEnds)
	}
	switch {
	case st.phase == terminated:
		if ra := reinstatedAt(account); ra != nil && liftsTermination(st.since, *ra) {
			m.offer(*ra, now, whyReinstated)
		}
	case st.phase == finalNotice && f.level == terminated:
		m.offer(st.since.Add(f.rules.notice), now, whyNoticeEnds)
		for _, a := range account.Spec.TerminationApprovals {
			if f.rules.approvals > 0 && !a.At.Time.Before(st.since) {
				m.offer(a.At.Time, now, whyApprovalDated)
			}
		}
	case f.level < st.phase:
		f.offerRecovery(&m, st.phase)
	}
	return m
}

// ignoredDecisions are the recorded decisions that have no effect from the
// state st the account was evaluated in.
func ignoredDecisions(f *facts, account *v1alpha1.CustomerAccount, st state) []string {
	var out []string
	if r := account.Spec.Reinstatement; r.IsDefined() && st.phase == terminated && !liftsTermination(st.since, r.At.Time) {
		out = append(out, fmt.Sprintf("the reinstatement by %s dated %s is not after the termination at %s, so it does not lift it; record a reinstatement dated after %s",
			r.By, fmtTime(r.At.Time), fmtTime(st.since), fmtTime(st.since)))
	}
	for _, a := range account.Spec.TerminationApprovals {
		if f.rules.approvals == 0 {
			break
		}
		switch {
		case st.phase < finalNotice && !a.At.Time.Before(st.since):
			// (One from before this phase began is left over from an
			// earlier FinalNotice, and not news.)
			out = append(out, fmt.Sprintf("the termination approval by %s was given while the account is %s; an approval counts only when given during a FinalNotice",
				a.By, st.phase.phase()))
		case st.phase == finalNotice && (!approvalSeenInNotice(f.observation(a.By), st.since) || a.At.Time.Before(st.since)):
			out = append(out, fmt.Sprintf("the termination approval by %s was given before this FinalNotice began at %s and does not count",
				a.By, fmtTime(st.since)))
		case st.phase == finalNotice && len(f.reporters[a.By]) > 0:
			out = append(out, fmt.Sprintf("the termination approval by %s does not count: %s reported the counted incident(s) %s",
				a.By, a.By, strings.Join(f.reporters[a.By], ", ")))
		}
	}
	return out
}

func heldAt(account *v1alpha1.CustomerAccount, now time.Time) bool {
	h := account.Spec.Hold
	return h.IsDefined() && now.Before(h.Until.Time)
}
