package lifecycle

import (
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

const day = 24 * time.Hour

// t0 is an arbitrary origin; tests place everything relative to it.
var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func mt(t time.Time) metav1.Time { return metav1.NewTime(t) }

// pol is a defaulted policy with thresholds 3/6/9, a 90-day window, a 14-day
// notice period, approval required and no recovery period.
func pol(mods ...func(*v1alpha1.AccountPolicySpec)) *v1alpha1.AccountPolicy {
	p := &v1alpha1.AccountPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "standard"},
		Spec: v1alpha1.AccountPolicySpec{
			Window:          dur(90 * day),
			SeverityPoints:  v1alpha1.SeverityPoints{Minor: i32(1), Major: i32(2), Critical: i32(3)},
			CategoryWeights: v1alpha1.CategoryWeights{Abuse: i32(1), SupportLoad: i32(1), NonPayment: i32(1), PolicyViolation: i32(1), PoorFit: i32(1), Other: i32(1)},
			Thresholds:      v1alpha1.Thresholds{Warned: 3, FinalNotice: 6, Terminated: 9},
			NoticePeriod:    dur(14 * day),
		},
	}
	for _, m := range mods {
		m(&p.Spec)
	}
	return p
}

func recovery(d time.Duration) func(*v1alpha1.AccountPolicySpec) {
	return func(s *v1alpha1.AccountPolicySpec) { s.RecoveryPeriod = dur(d) }
}

func noApproval(s *v1alpha1.AccountPolicySpec) { s.Approvals.Required = i32(0) }

type accOpt func(*v1alpha1.CustomerAccount)

// acct builds an account in phase since `since` (zero: no phaseSince),
// created at t0.
func acct(phase v1alpha1.AccountPhase, since time.Time, opts ...accOpt) *v1alpha1.CustomerAccount {
	a := &v1alpha1.CustomerAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Generation: 4, CreationTimestamp: mt(t0)},
		Status:     v1alpha1.CustomerAccountStatus{Phase: phase},
	}
	if !since.IsZero() {
		s := mt(since)
		a.Status.PhaseSince = &s
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

func incidents(incs ...v1alpha1.Incident) accOpt {
	return func(a *v1alpha1.CustomerAccount) { a.Spec.Incidents = append(a.Spec.Incidents, incs...) }
}

func hold(until time.Time) accOpt {
	return func(a *v1alpha1.CustomerAccount) {
		a.Spec.Hold = v1alpha1.Hold{Until: mt(until), By: "dana", Reason: "meeting the customer"}
	}
}

func approval(when time.Time) accOpt { return approvalBy("vp-sales", when) }

// approvalBy adds (or replaces) who's termination approval.
func approvalBy(who string, when time.Time) accOpt {
	return func(a *v1alpha1.CustomerAccount) {
		a.Spec.TerminationApprovals = slices.DeleteFunc(a.Spec.TerminationApprovals, func(d v1alpha1.Decision) bool { return d.By == who })
		a.Spec.TerminationApprovals = append(a.Spec.TerminationApprovals, v1alpha1.Decision{By: who, At: mt(when)})
	}
}

func reinstatement(when time.Time) accOpt {
	return func(a *v1alpha1.CustomerAccount) {
		a.Spec.Reinstatement = v1alpha1.Reinstatement{By: "ceo", At: mt(when), Reason: "paid in full"}
	}
}

func created(t time.Time) accOpt {
	return func(a *v1alpha1.CustomerAccount) { a.CreationTimestamp = metav1.Time{Time: t} }
}

type incOpt func(*v1alpha1.Incident)

// inc is a Minor, customer-caused Other incident.
func inc(id string, occurred time.Time, opts ...incOpt) v1alpha1.Incident {
	i := v1alpha1.Incident{
		ID: id, Category: v1alpha1.CategoryOther, Severity: v1alpha1.SeverityMinor,
		OccurredAt: mt(occurred), ReportedBy: "support", Summary: "something happened",
		Attribution: v1alpha1.AttributionCustomer,
	}
	for _, o := range opts {
		o(&i)
	}
	return i
}

func sev(s v1alpha1.Severity) incOpt { return func(i *v1alpha1.Incident) { i.Severity = s } }

func cat(c v1alpha1.IncidentCategory) incOpt { return func(i *v1alpha1.Incident) { i.Category = c } }

func vendor(i *v1alpha1.Incident) { i.Attribution = v1alpha1.AttributionVendor }

func points(n int32) incOpt { return func(i *v1alpha1.Incident) { i.Points = &n } }

func waived(when time.Time) incOpt {
	return func(i *v1alpha1.Incident) {
		i.Waiver = &v1alpha1.Waiver{By: "lee", At: mt(when), Reason: "our outage"}
	}
}

// minors returns n Minor incidents occurring at the given moment.
func minors(prefix string, n int, when time.Time, opts ...incOpt) []v1alpha1.Incident {
	out := make([]v1alpha1.Incident, n)
	for k := range out {
		out[k] = inc(prefix+string(rune('a'+k)), when, opts...)
	}
	return out
}

// want is what a table case expects; zero fields are checked too.
type want struct {
	phase   v1alpha1.AccountPhase
	since   time.Time
	from    v1alpha1.AccountPhase // with reason: the transition expected
	reason  string                // "" means no transition
	score   int32
	next    time.Time // zero means nil
	pending string    // TerminationPending reason; NotPending means False
	held    bool
	msg     []string // substrings of the transition message
	tpMsg   []string // substrings of the TerminationPending message
	explain []string // substrings of the explanation
}

type evalCase struct {
	name    string
	policy  *v1alpha1.AccountPolicy
	account *v1alpha1.CustomerAccount
	now     time.Time
	want    want
	check   func(*testing.T, Decision)
}

func runCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			policy := tc.policy
			if policy == nil {
				policy = pol()
			}
			d := Evaluate(tc.account, policy, tc.now)
			assertDecision(t, d, tc.want, tc.now)
			if tc.check != nil {
				tc.check(t, d)
			}
		})
	}
}

func assertDecision(t *testing.T, d Decision, w want, now time.Time) {
	t.Helper()
	if d.Phase != w.phase || !d.PhaseSince.Equal(w.since) {
		t.Errorf("phase %s since %s, want %s since %s", d.Phase, fmtTime(d.PhaseSince), w.phase, fmtTime(w.since))
	}
	if d.Score != w.score {
		t.Errorf("score %d, want %d", d.Score, w.score)
	}
	switch {
	case w.reason == "" && d.Transition != nil:
		t.Errorf("unexpected transition %+v", *d.Transition)
	case w.reason != "" && d.Transition == nil:
		t.Errorf("no transition, want %s -> %s (%s)", w.from, w.phase, w.reason)
	case w.reason != "":
		tr := d.Transition
		if tr.From != w.from || tr.To != w.phase || tr.Reason != w.reason {
			t.Errorf("transition %s -> %s (%s), want %s -> %s (%s)", tr.From, tr.To, tr.Reason, w.from, w.phase, w.reason)
		}
		containsAll(t, "transition message", tr.Message, w.msg)
	}
	switch {
	case w.next.IsZero() && d.NextEvaluation != nil:
		t.Errorf("next evaluation %s, want none", fmtTime(*d.NextEvaluation))
	case !w.next.IsZero() && (d.NextEvaluation == nil || !d.NextEvaluation.Equal(w.next)):
		t.Errorf("next evaluation %v, want %s", d.NextEvaluation, fmtTime(w.next))
	}
	if len(d.Conditions) != 2 {
		t.Fatalf("conditions %+v, want TerminationPending and Held", d.Conditions)
	}
	tp, held := d.Conditions[0], d.Conditions[1]
	wantPending := w.pending
	if wantPending == "" {
		wantPending = v1alpha1.ReasonNotPending
	}
	wantTP := metav1.ConditionTrue
	if wantPending == v1alpha1.ReasonNotPending {
		wantTP = metav1.ConditionFalse
	}
	if tp.Type != v1alpha1.ConditionTerminationPending || tp.Status != wantTP || tp.Reason != wantPending {
		t.Errorf("TerminationPending %s/%s (%s), want %s/%s", tp.Status, tp.Reason, tp.Message, wantTP, wantPending)
	}
	containsAll(t, "TerminationPending message", tp.Message, w.tpMsg)
	wantHeld, wantHeldReason := metav1.ConditionFalse, v1alpha1.ReasonNoHold
	if w.held {
		wantHeld, wantHeldReason = metav1.ConditionTrue, v1alpha1.ReasonHoldActive
	}
	if held.Type != v1alpha1.ConditionHeld || held.Status != wantHeld || held.Reason != wantHeldReason {
		t.Errorf("Held %s/%s (%s), want %s/%s", held.Status, held.Reason, held.Message, wantHeld, wantHeldReason)
	}
	for _, c := range d.Conditions {
		if c.Message == "" || c.ObservedGeneration != 4 || !c.LastTransitionTime.Time.Equal(now) {
			t.Errorf("condition %s incomplete: %+v", c.Type, c)
		}
	}
	if d.Explanation == "" {
		t.Error("empty explanation")
	}
	containsAll(t, "explanation", d.Explanation, w.explain)
}

func containsAll(t *testing.T, what, s string, subs []string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s %q does not mention %q", what, s, sub)
		}
	}
}

// i32 and dur build the optional policy fields.
func i32(v int32) *int32 { return &v }

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }
