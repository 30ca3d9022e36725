package lifecycle

import (
	"cmp"
	"slices"
	"time"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// Why the outcome may change next; carried into explanations.
const (
	whyOccurs        = "a recorded incident occurs"
	whyExpires       = "an incident stops counting"
	whyHoldEnds      = "the hold ends"
	whyNoticeEnds    = "the notice period ends"
	whyApprovalDated = "the termination approval's date arrives"
	whyAppeal        = "an appeal's filing or decision takes effect"
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

// edge is a change of the score at a moment, kept pointer-free (seconds and
// nanoseconds rather than time.Time) because sorting edges dominates the cost.
type edge struct {
	sec   int64
	nsec  int64
	delta int64
}

func edgeAt(t time.Time, delta int64) edge {
	return edge{sec: t.Unix(), nsec: int64(t.Nanosecond()), delta: delta}
}

func (e edge) time() time.Time { return time.Unix(e.sec, e.nsec).UTC() }

func compareEdges(a, b edge) int {
	switch {
	case a.sec != b.sec:
		return cmp.Compare(a.sec, b.sec)
	default:
		return cmp.Compare(a.nsec, b.nsec)
	}
}

// facts is everything about the ledger at now that does not depend on the
// account's recorded phase; Evaluate computes it once.
type facts struct {
	now   time.Time
	rules rules
	score int64
	level rank

	counted, vendor, waived int32
	categoryPoints          []int64 // by categoryIndex

	// Per threshold k, from the score history (see newFacts):
	recovered  [4]bool      // below k now and for the whole recovery period
	recoveryAt [4]time.Time // if not, the earliest later moment it will be
	dropAt     [4]time.Time // when the score last fell below k, if dropped
	dropped    [4]bool

	scoreChange moment // next time the counted set changes

	// approvals are when each termination approval was first seen.
	approvals []v1alpha1.ApprovalObservation
	// reporters maps each reporter (or relay) of a counted incident to the
	// ids it reported: none of them counts as an approver.
	reporters map[string][]string
	// appeals are the undecided appeals of counted incidents.
	appeals []pendingAppeal
}

// newFacts reads the ledger once. For the recovery rule it builds the score
// history: a step function changing only at occurrences, expiries,
// reinstatement.at and waiver times, in which a waived incident counted until
// its waiver. Judged at a later moment τ, the history before τ is this same
// function (a waiver dated after τ clips the incident at τ, which only
// matters after τ), so one sorted sweep over at most 2n edges (O(n log n))
// tells both whether each threshold's recovery is served now and when it will
// be if the current score holds.
func newFacts(account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, now time.Time) *facts {
	f := &facts{now: now, rules: rulesOf(policy), categoryPoints: make([]int64, len(v1alpha1.Categories))}
	reinstated := reinstatedAt(account)
	incidents := account.Spec.Incidents
	edges := make([]edge, 0, 2*len(incidents))
	for i := range incidents {
		inc := &incidents[i]
		if inc.Attribution == v1alpha1.AttributionVendor {
			f.vendor++
			continue
		}
		start, end := span(inc, reinstated, f.rules.window)
		stopped := inc.Waiver.IsDefined()
		if inc.Waiver.IsDefined() {
			f.waived++
			end = minTime(end, inc.Waiver.At.Time)
		}
		if at := overturnedAt(inc); at != nil {
			// An overturned appeal stops the incident counting from the
			// decision on, like a waiver.
			if !stopped {
				f.waived++
			}
			stopped = stopped || !at.After(now)
			end = minTime(end, *at)
		}
		if a := inc.Appeal; a.IsDefined() {
			f.scoreChange.offer(a.At.Time, now, whyAppeal)
			if a.Decision.IsDefined() {
				f.scoreChange.offer(a.Decision.At.Time, now, whyAppeal)
			}
		}
		if !start.Before(end) {
			continue
		}
		pts := int64(Points(policy, inc))
		if !stopped {
			if !start.After(now) && now.Before(end) {
				f.score += pts
				f.counted++
				f.categoryPoints[categoryIndex(inc.Category)] += pts
				f.countedBy(inc)
			}
			f.scoreChange.offer(start, now, whyOccurs)
			f.scoreChange.offer(end, now, whyExpires)
		}
		if pts != 0 {
			edges = append(edges, edgeAt(start, pts), edgeAt(end, -pts))
		}
	}
	f.level = f.rules.levelOf(f.score)
	f.sweep(edges)
	return f
}

// sweep walks the score history. For threshold k, the moments the recovery
// rule accepts are those τ with no "above" interval [a, b) (history >= k)
// meeting [τ-recovery, τ): the gaps [b_i+recovery, a_i+1] and [b_last+recovery, ∞).
func (f *facts) sweep(edges []edge) {
	slices.SortFunc(edges, compareEdges)
	now, rp := f.now, f.rules.recovery
	var blocked, open, pendingSet [4]bool
	var opened, pending [4]time.Time
	var s int64
	for i := 0; i < len(edges); {
		first, prev := edges[i], s
		for ; i < len(edges) && compareEdges(edges[i], first) == 0; i++ {
			s += edges[i].delta
		}
		at := first.time()
		for k := warned; k <= terminated; k++ {
			th := f.rules.th[k]
			switch {
			case prev < th && s >= th: // an above interval opens
				open[k], opened[k] = true, at
				if pendingSet[k] && !pending[k].After(at) && pending[k].After(now) && f.recoveryAt[k].IsZero() {
					f.recoveryAt[k] = pending[k]
				}
				pendingSet[k] = false
			case prev >= th && s < th: // and closes
				open[k] = false
				if opened[k].Before(now) && at.After(now.Add(-rp)) {
					blocked[k] = true
				}
				if !at.After(now) {
					f.dropAt[k], f.dropped[k] = at, true
				}
				pending[k], pendingSet[k] = at.Add(rp), true
			}
		}
	}
	for k := warned; k <= terminated; k++ {
		if pendingSet[k] && pending[k].After(now) && f.recoveryAt[k].IsZero() {
			f.recoveryAt[k] = pending[k]
		}
		if open[k] && opened[k].Before(now) { // only with thresholds <= 0
			blocked[k] = true
		}
		below := f.score < f.rules.th[k]
		f.recovered[k] = below && (rp == 0 || !blocked[k])
		if f.recovered[k] || !below {
			f.recoveryAt[k] = time.Time{}
		}
	}
}

// stepDown is the lowest phase at or above the level that the account may
// step down to from phase: the score must have been below the threshold of
// every phase above it for the recovery period.
func (f *facts) stepDown(from rank) rank {
	to := from
	for q := from - 1; q >= f.level; q-- {
		if !f.recovered[q+1] {
			break
		}
		to = q
	}
	return to
}

// offerRecovery offers the moment a pending step down from phase can happen.
func (f *facts) offerRecovery(m *moment, from rank) {
	for k := f.level + 1; k <= from; k++ {
		m.offer(f.recoveryAt[k], f.now, whyRecovered)
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

// countedBy notes who reported (and relayed) a counted incident, and its
// appeal if undecided.
func (f *facts) countedBy(inc *v1alpha1.Incident) {
	if f.reporters == nil {
		f.reporters = map[string][]string{}
	}
	for _, who := range []string{inc.ReportedBy, inc.RelayedBy} {
		if who != "" && !slices.Contains(f.reporters[who], inc.ID) {
			f.reporters[who] = append(f.reporters[who], inc.ID)
		}
	}
	if undecided(inc, f.now) {
		f.appeals = append(f.appeals, pendingAppeal{incident: inc.ID, by: inc.Appeal.By, at: inc.Appeal.At.Time, occurredAt: inc.OccurredAt.Time})
	}
}
