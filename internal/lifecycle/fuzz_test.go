package lifecycle

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// gen turns fuzz bytes into values; past the end it yields zeros.
type gen struct {
	b []byte
	i int
}

func (g *gen) byte() byte {
	if g.i >= len(g.b) {
		return 0
	}
	g.i++
	return g.b[g.i-1]
}

func (g *gen) intn(n int) int { return int(g.byte()) % n }

// tick is the fuzz time grain: coarse, so that events often coincide.
const tick = 6 * time.Hour

// moment is a time on a 6-hour grid over ~64 days, sometimes nudged by a
// nanosecond or a minute to probe the boundaries.
func (g *gen) moment() time.Time {
	t := t0.Add(time.Duration(g.byte()) * tick)
	switch g.intn(8) {
	case 0:
		t = t.Add(time.Nanosecond)
	case 1:
		t = t.Add(-time.Nanosecond)
	case 2:
		t = t.Add(time.Duration(g.intn(60)) * time.Minute)
	}
	return t
}

func (g *gen) days(max int) time.Duration { return time.Duration(g.intn(max)) * day }

// points is below n, or unset (nil) for n-1.
func (g *gen) points(n int) *int32 {
	if v := int32(g.intn(n)); v < int32(n-1) {
		return &v
	}
	return nil
}

func (g *gen) policy() *v1alpha1.AccountPolicy {
	p := pol()
	s := &p.Spec
	// Unset fields take the API server's defaults; explicit zeros are kept.
	if w := g.days(40); w > 0 {
		s.Window = dur(w)
	} else {
		s.Window = nil
	}
	s.NoticePeriod = dur(g.days(12))
	s.RecoveryPeriod = []*metav1.Duration{nil, dur(0), dur(time.Duration(g.intn(8)) * tick), dur(g.days(10))}[g.intn(4)]
	// nil takes the default, 1; 0 needs no approval.
	s.Approvals.Required = []*int32{nil, i32(0), i32(1), i32(2), i32(3)}[g.intn(5)]
	s.AppealWindow = []*metav1.Duration{nil, dur(0), dur(g.days(20))}[g.intn(3)]
	s.SeverityPoints = v1alpha1.SeverityPoints{Minor: g.points(3), Major: g.points(4), Critical: g.points(9)}
	s.CategoryWeights = v1alpha1.CategoryWeights{Abuse: g.points(3), SupportLoad: g.points(2), NonPayment: i32(1), PolicyViolation: g.points(3), PoorFit: nil, Other: g.points(2)}
	w := int32(1 + g.intn(5))
	fn := w + int32(1+g.intn(5))
	s.Thresholds = v1alpha1.Thresholds{Warned: w, FinalNotice: fn, Terminated: fn + int32(1+g.intn(6))}
	return p
}

func (g *gen) incident(id string) v1alpha1.Incident {
	i := inc(id, g.moment(),
		cat(v1alpha1.Categories[g.intn(len(v1alpha1.Categories))]),
		sev([]v1alpha1.Severity{"", v1alpha1.SeverityMinor, v1alpha1.SeverityMajor, v1alpha1.SeverityCritical}[g.intn(4)]))
	switch g.intn(8) {
	case 0:
		vendor(&i)
	case 1:
		i.Attribution = ""
	}
	if g.intn(5) == 0 {
		points(int32(g.intn(7)))(&i)
	}
	if g.intn(5) == 0 {
		waived(g.moment())(&i)
	}
	i.ReportedBy = g.reporter()
	if g.intn(4) == 0 {
		i.Appeal = &v1alpha1.Appeal{By: "customer", At: mt(g.moment()), Statement: "not what happened"}
		if g.intn(2) == 0 {
			outcome := []v1alpha1.AppealOutcome{v1alpha1.AppealUpheld, v1alpha1.AppealOverturned}[g.intn(2)]
			i.Appeal.Decision = v1alpha1.AppealDecision{Outcome: outcome, By: "ombudsman", At: mt(g.moment()), Reason: "reviewed"}
		}
	}
	return i
}

// reporter is one of a few people, some of whom also approve.
func (g *gen) reporter() string {
	return []string{"support", "vp-sales", "dana", "ops"}[g.intn(4)]
}

func (g *gen) account() *v1alpha1.CustomerAccount {
	phases := []v1alpha1.AccountPhase{"", v1alpha1.PhaseGood, v1alpha1.PhaseWarned, v1alpha1.PhaseFinalNotice, v1alpha1.PhaseTerminated}
	since := g.moment()
	if g.intn(10) == 0 {
		since = time.Time{}
	}
	a := acct(phases[g.intn(len(phases))], since, created(g.moment()))
	for n := g.intn(14); n > 0; n-- {
		a.Spec.Incidents = append(a.Spec.Incidents, g.incident("i"+string(rune('a'+n))))
	}
	if g.intn(3) == 0 {
		hold(g.moment())(a)
	}
	if g.intn(3) == 0 {
		approval(g.moment())(a)
		if g.intn(2) == 0 {
			// A second approver, who may be a reporter.
			approvalBy(g.reporter(), g.moment())(a)
		}
		for _, ap := range a.Spec.TerminationApprovals {
			if g.intn(2) == 0 {
				// Already seen, at some moment in some phase.
				a.Status.ApprovalObservations = append(a.Status.ApprovalObservations, v1alpha1.ApprovalObservation{
					By: ap.By, At: ap.At, SeenAt: metav1.NewTime(g.moment()), Phase: phases[1+g.intn(len(phases)-1)],
				})
			}
		}
	}
	if g.intn(4) == 0 {
		reinstatement(g.moment())(a)
	}
	return a
}

func FuzzEvaluate(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("the quick brown fox jumps over the lazy dog, twice: the quick brown fox"))
	// Hand-made: FinalNotice account, approval required, no recovery period.
	f.Add([]byte{10, 5, 0, 1, 1, 2, 3, 1, 1, 1, 1, 1, 1, 2, 2, 2, 40, 0, 3, 40, 0, 80, 0, 6, 30, 0, 1, 3, 0, 0, 0, 31, 0, 2, 3, 0, 0, 0})
	// Hand-made: recovery period, waivers, a hold.
	f.Add([]byte{20, 3, 3, 9, 2, 2, 8, 2, 1, 1, 1, 1, 1, 3, 4, 1, 60, 0, 3, 10, 0, 5, 200, 3, 0, 0, 0, 0, 1, 120, 0, 210, 2, 1, 0, 0, 0, 3, 0, 90})
	r := rand.New(rand.NewPCG(1, 2))
	for range 12 {
		b := make([]byte, 48+r.IntN(160))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &gen{b: data}
		policy := g.policy()
		account := g.account()
		now := g.moment()
		checkFeedback(t, g, account, policy, now)
		checkIgnoredIncidents(t, g, account, policy, now)
	})
}

// checkFeedback applies each decision to the status and evaluates again at
// the next evaluation and at moments before it, checking the invariants.
func checkFeedback(t *testing.T, g *gen, account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, now time.Time) {
	for step := 0; step < 12; step++ {
		prev := currentState(account, now)
		d := Evaluate(account, policy, now)
		if again := Evaluate(account, policy, now); !reflect.DeepEqual(d, again) {
			t.Fatalf("Evaluate is not deterministic:\n%+v\n%+v", d, again)
		}
		checkDecision(t, account, policy, now, prev, d)
		account = withState(account, d)
		if d.NextEvaluation == nil {
			// Nothing may change, however long we wait.
			later := now.Add(time.Duration(1+g.intn(255)) * tick)
			assertSameOutcome(t, account, policy, now, d, later)
			return
		}
		next := *d.NextEvaluation
		if next.After(now) {
			// (d) nothing changes strictly before the next evaluation.
			assertSameOutcome(t, account, policy, now, d, next.Add(-time.Nanosecond))
			between := now.Add(time.Duration(float64(next.Sub(now)) * float64(g.byte()) / 256))
			if between.After(now) {
				assertSameOutcome(t, account, policy, now, d, between)
			}
		}
		if g.intn(4) == 0 {
			// Sometimes the reconciler comes late.
			next = next.Add(time.Duration(g.intn(40)) * tick)
		}
		now = next
	}
}

// checkDecision checks invariants (a) and (c) and basic consistency.
func checkDecision(t *testing.T, account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, now time.Time, prev state, d Decision) {
	t.Helper()
	r := rulesOf(policy)
	if d.NextEvaluation != nil && d.NextEvaluation.Before(now) {
		t.Fatalf("(c) next evaluation %s is before now %s", fmtTime(*d.NextEvaluation), fmtTime(now))
	}
	if d.NextEvaluation != nil && d.NextEvaluation.Equal(now) && d.Transition == nil {
		t.Fatalf("next evaluation is now without a transition: %s", d.Explanation)
	}
	if d.Transition == nil {
		if d.Phase != prev.phase.phase() || !d.PhaseSince.Equal(prev.since) {
			t.Fatalf("phase %s since %s changed without a transition from %s since %s", d.Phase, fmtTime(d.PhaseSince), prev.phase.phase(), fmtTime(prev.since))
		}
	} else if d.Transition.From != prev.phase.phase() || d.Transition.To != d.Phase || d.Transition.From == d.Transition.To || !d.PhaseSince.Equal(now) || d.Transition.Message == "" {
		t.Fatalf("inconsistent transition %+v from %s to %s since %s", *d.Transition, prev.phase.phase(), d.Phase, fmtTime(d.PhaseSince))
	}
	if d.Phase == v1alpha1.PhaseTerminated && prev.phase != terminated {
		// (a) only a full, approved FinalNotice ends in termination.
		// The approval must also have been first seen during this FinalNotice.
		// Four eyes: only approvals by people who reported (or relayed)
		// no counted incident count, each person once.
		approvals := 0
		for _, a := range account.Spec.TerminationApprovals {
			seen := slices.ContainsFunc(d.ApprovalObservations, func(o v1alpha1.ApprovalObservation) bool {
				return o.By == a.By && o.Phase == v1alpha1.PhaseFinalNotice && !o.SeenAt.Time.Before(prev.since)
			})
			if seen && !a.At.Time.Before(prev.since) && !a.At.Time.After(now) && !reportedCounted(account, policy, a.By, now) {
				approvals++
			}
		}
		approved := approvals >= r.approvals
		// (d) no counted incident has an undecided appeal filed in time.
		appealed := pendingAppealIn(account, policy, prev.since, r.appealWindow, now)
		if prev.phase != finalNotice || now.Sub(prev.since) < r.notice || !approved || appealed != "" || heldAt(account, now) || int64(d.Score) < r.th[terminated] {
			t.Fatalf("(a) terminated from %s since %s at %s (notice %s, approvals %d of %d, appeal pending %q, score %d): %s",
				prev.phase.phase(), fmtTime(prev.since), fmtTime(now), r.notice, approvals, r.approvals, appealed, d.Score, d.Transition.Message)
		}
	}
	var score int64
	var counted int32
	for i := range account.Spec.Incidents {
		if ok, _ := Counts(account, policy, &account.Spec.Incidents[i], now); ok {
			score += int64(Points(policy, &account.Spec.Incidents[i]))
			counted++
		}
	}
	if int64(d.Score) != score || d.Counted != counted {
		t.Fatalf("score %d counted %d, but Counts says %d and %d", d.Score, d.Counted, score, counted)
	}
	if len(d.Conditions) != 2 || d.Conditions[0].Type != v1alpha1.ConditionTerminationPending || d.Conditions[1].Type != v1alpha1.ConditionHeld {
		t.Fatalf("conditions %+v", d.Conditions)
	}
}

// assertSameOutcome: (d) evaluating at `later`, with the decision applied,
// gives the same phase, score and conditions, and no transition.
func assertSameOutcome(t *testing.T, account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, now time.Time, d Decision, later time.Time) {
	t.Helper()
	e := Evaluate(account, policy, later)
	same := e.Transition == nil && e.Phase == d.Phase && e.Score == d.Score && e.Counted == d.Counted
	for i := range e.Conditions {
		same = same && e.Conditions[i].Status == d.Conditions[i].Status && e.Conditions[i].Reason == d.Conditions[i].Reason
	}
	if !same {
		t.Fatalf("(d) decided at %s with next evaluation %v, but at %s the outcome differs:\nat %s: %s score %d %v\nat %s: %s score %d %v transition %+v",
			fmtTime(now), d.NextEvaluation, fmtTime(later), fmtTime(now), d.Phase, d.Score, condSummary(d), fmtTime(later), e.Phase, e.Score, condSummary(e), e.Transition)
	}
	if d.NextEvaluation != nil && d.NextEvaluation.After(now) && (e.NextEvaluation == nil || !e.NextEvaluation.Equal(*d.NextEvaluation)) {
		t.Fatalf("(d) next evaluation %s at %s, but %v at %s", fmtTime(*d.NextEvaluation), fmtTime(now), e.NextEvaluation, fmtTime(later))
	}
}

func condSummary(d Decision) []string {
	var out []string
	for _, c := range d.Conditions {
		out = append(out, c.Type+"="+string(c.Status)+"/"+c.Reason)
	}
	return out
}

// checkIgnoredIncidents: (b) adding a vendor-caused or a waived incident never
// changes the score; a vendor one never changes the phase either, and a
// waived one can only hold back a step down (it counted until its waiver).
func checkIgnoredIncidents(t *testing.T, g *gen, account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, now time.Time) {
	prev := currentState(account, now)
	base := Evaluate(account, policy, now)
	for _, kind := range []string{"vendor", "waived", "waived-before-occurring"} {
		extra := g.incident("extra")
		switch kind {
		case "vendor":
			vendor(&extra)
		case "waived":
			extra.Attribution = v1alpha1.AttributionCustomer
			waived(g.moment())(&extra)
		default:
			extra.Attribution = v1alpha1.AttributionCustomer
			waived(extra.OccurredAt.Add(-time.Duration(g.intn(4)) * tick))(&extra)
		}
		a := account.DeepCopy()
		a.Spec.Incidents = append(a.Spec.Incidents, extra)
		d := Evaluate(a, policy, now)
		if d.Score != base.Score {
			t.Fatalf("(b) adding a %s incident changed the score from %d to %d", kind, base.Score, d.Score)
		}
		strict := kind != "waived" || rulesOf(policy).recovery == 0 || base.Transition == nil || base.Transition.Reason != v1alpha1.ReasonRecovered
		got, _ := rankOf(d.Phase)
		without, _ := rankOf(base.Phase)
		if strict && got != without || !strict && (got < without || got > prev.phase) {
			t.Fatalf("(b) adding a %s incident (%+v) changed the phase from %s to %s", kind, extra, base.Phase, d.Phase)
		}
	}
}

func withState(account *v1alpha1.CustomerAccount, d Decision) *v1alpha1.CustomerAccount {
	a := account.DeepCopy()
	a.Status.Phase = d.Phase
	since := metav1.NewTime(d.PhaseSince)
	a.Status.PhaseSince = &since
	a.Status.ApprovalObservations = d.ApprovalObservations
	return a
}

// reportedCounted says who reported or relayed an incident that counts at
// now, judged by Counts alone.
func reportedCounted(account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, who string, now time.Time) bool {
	for i := range account.Spec.Incidents {
		inc := &account.Spec.Incidents[i]
		if ok, _ := Counts(account, policy, inc, now); ok && (inc.ReportedBy == who || inc.RelayedBy == who) {
			return true
		}
	}
	return false
}

// pendingAppealIn is the id of a counted incident whose appeal, filed
// within the window after the later of the incident and the FinalNotice
// that began at since, is undecided at now ("" if none).
func pendingAppealIn(account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, since time.Time, window time.Duration, now time.Time) string {
	for i := range account.Spec.Incidents {
		inc := &account.Spec.Incidents[i]
		a := inc.Appeal
		if ok, _ := Counts(account, policy, inc, now); !ok || !a.IsDefined() || a.At.After(now) || (a.Decision.IsDefined() && !a.Decision.At.After(now)) {
			continue
		}
		from := inc.OccurredAt.Time
		if since.After(from) {
			from = since
		}
		if !a.At.After(from.Add(window)) {
			return inc.ID
		}
	}
	return ""
}
