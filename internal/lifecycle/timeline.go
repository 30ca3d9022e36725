package lifecycle

import (
	"slices"
	"time"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// Why the outcome may change next; carried into explanations.
const (
	whyOccurs        = "a recorded incident occurs"
	whyExpires       = "an incident stops counting"
	whyWaiverFinal   = "a waiver dated in the future takes effect"
	whyHoldEnds      = "the hold ends"
	whyNoticeEnds    = "the notice period ends"
	whyApprovalDated = "the termination approval's date arrives"
	whyReinstated    = "the reinstatement's date arrives"
	whyRecovered     = "the recovery period ends"
	whyTransitionDue = "another transition is due at once"
)

// moment is a candidate next evaluation; the zero value means none.
type moment struct {
	at  time.Time
	why string
}

// offer keeps the earliest candidate strictly after now.
func (m *moment) offer(at, now time.Time, why string) {
	if at.After(now) && (m.at.IsZero() || at.Before(m.at)) {
		m.at, m.why = at, why
	}
}

// edge is a change of the score at a moment.
type edge struct {
	at    time.Time
	delta int64
}

// facts is everything about the ledger at now that does not depend on the
// account's recorded phase; Evaluate computes it once.
type facts struct {
	now   time.Time
	rules rules
	score int64
	level rank

	counted, vendor, waived int32
	categoryPoints          [6]int64

	// For each threshold k the score is below now: the moment it last fell
	// below (dropAt), or that it never reached it (neverAbove), or that a
	// waiver dated in the future keeps the fall happening "now" (moving).
	dropAt     [4]time.Time
	neverAbove [4]bool
	moving     [4]bool

	scoreChange moment // next time the counted set changes
	freeze      moment // next time a moving waived incident stops moving
}

// newFacts derives the score over time from the ledger. The score is a step
// function changing only at occurrences, expiries, reinstatement.at and
// waiver times, so one sorted sweep over at most 2n edges (O(n log n)) yields
// when it last fell below each threshold.
func newFacts(account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, now time.Time) *facts {
	f := &facts{now: now, rules: rulesOf(policy)}
	reinstated := reinstatedAt(account)
	incidents := account.Spec.Incidents
	edges := make([]edge, 0, 2*len(incidents))
	var movingPoints int64
	for i := range incidents {
		inc := &incidents[i]
		if inc.Attribution == v1alpha1.AttributionVendor {
			f.vendor++
			continue
		}
		start, end := span(inc, reinstated, f.rules.window)
		if inc.Waiver != nil {
			f.waived++
			// Past contribution ended at min(waiver.at, now).
			end = minTime(end, inc.Waiver.At.Time)
		}
		if !start.Before(end) {
			continue
		}
		pts := int64(Points(policy, inc))
		switch {
		case inc.Waiver == nil:
			if !start.After(now) && now.Before(end) {
				f.score += pts
				f.counted++
				f.categoryPoints[categoryIndex(inc.Category)] += pts
			}
			f.scoreChange.offer(start, now, whyOccurs)
			f.scoreChange.offer(end, now, whyExpires)
			if !start.After(now) && pts != 0 {
				edges = append(edges, edge{start, pts})
				if !end.After(now) {
					edges = append(edges, edge{end, -pts})
				}
			}
		case !end.After(now):
			if pts != 0 {
				edges = append(edges, edge{start, pts}, edge{end, -pts})
			}
		case !start.After(now):
			// Waived, but its waiver (or natural end) lies ahead: it counted
			// up to this very moment, and will keep "having counted" until
			// then. A waived incident that has not occurred yet is left out:
			// it can only postpone a step down, never bring one earlier.
			movingPoints += pts
			f.freeze.offer(end, now, whyWaiverFinal)
			if pts != 0 {
				edges = append(edges, edge{start, pts}, edge{now, -pts})
			}
		}
	}
	f.level = f.rules.levelOf(f.score)

	slices.SortFunc(edges, func(a, b edge) int { return a.at.Compare(b.at) })
	var seen [4]bool
	var s int64
	for i := 0; i < len(edges); {
		at, prev := edges[i].at, s
		for ; i < len(edges) && edges[i].at.Equal(at); i++ {
			s += edges[i].delta
		}
		for k := warned; k <= terminated; k++ {
			if prev >= f.rules.th[k] && s < f.rules.th[k] {
				f.dropAt[k], seen[k] = at, true
			}
		}
	}
	for k := warned; k <= terminated; k++ {
		f.neverAbove[k] = !seen[k]
		f.moving[k] = f.score < f.rules.th[k] && f.score+movingPoints >= f.rules.th[k]
	}
	return f
}

// recovered reports whether the score has been below threshold k for the
// whole recovery period.
func (f *facts) recovered(k rank) bool {
	if f.score >= f.rules.th[k] {
		return false
	}
	if f.rules.recovery == 0 || f.neverAbove[k] && !f.moving[k] {
		return true
	}
	return !f.moving[k] && !f.now.Before(f.dropAt[k].Add(f.rules.recovery))
}

// stepDown is the lowest phase at or above the level that the account may
// step down to from phase: the score must have been below the threshold of
// every phase above it for the recovery period.
func (f *facts) stepDown(from rank) rank {
	to := from
	for q := from - 1; q >= f.level; q-- {
		if !f.recovered(q + 1) {
			break
		}
		to = q
	}
	return to
}

// offerRecovery offers the moments a pending step down from phase can happen.
func (f *facts) offerRecovery(m *moment, from rank) {
	if f.rules.recovery == 0 {
		return
	}
	for k := f.level + 1; k <= from; k++ {
		switch {
		case f.score >= f.rules.th[k]:
		case f.moving[k]:
			m.offer(f.freeze.at, f.now, f.freeze.why)
		case !f.neverAbove[k]:
			m.offer(f.dropAt[k].Add(f.rules.recovery), f.now, whyRecovered)
		}
	}
}

// primaryConcern is the category with the most counted points; ties go to
// the earlier category in v1alpha1.Categories.
func (f *facts) primaryConcern() v1alpha1.IncidentCategory {
	best := -1
	for i, p := range f.categoryPoints {
		if p > 0 && (best < 0 || p > f.categoryPoints[best]) {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return v1alpha1.Categories[best]
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
