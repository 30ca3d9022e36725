package lifecycle

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

func TestCounts(t *testing.T) {
	now := at(100 * day)
	reinstated := acct(v1alpha1.PhaseGood, at(50*day), reinstatement(at(50*day)))
	for _, tc := range []struct {
		name    string
		account *v1alpha1.CustomerAccount
		policy  *v1alpha1.AccountPolicy
		inc     v1alpha1.Incident
		counts  bool
		reason  string
	}{
		{"customer incident in the window counts", nil, pol(), inc("a", at(99*day)), true, ""},
		{"empty attribution is Customer", nil, pol(), inc("a", at(99*day), func(i *v1alpha1.Incident) { i.Attribution = "" }), true, ""},
		{"vendor-caused", nil, pol(), inc("a", at(99*day), vendor), false, NotCountedVendor},
		{"vendor-caused wins over waived", nil, pol(), inc("a", at(99*day), vendor, waived(at(99*day))), false, NotCountedVendor},
		{"waived", nil, pol(), inc("a", at(99*day), waived(at(99*day))), false, NotCountedWaived},
		{"waived with a future date never counts now", nil, pol(), inc("a", at(99*day), waived(at(150*day))), false, NotCountedWaived},
		{"not yet occurred", nil, pol(), inc("a", now.Add(time.Nanosecond)), false, NotCountedNotYetOccurred},
		{"occurring exactly now counts", nil, pol(), inc("a", now), true, ""},
		{"exactly at the window edge has expired", nil, pol(), inc("a", at(10*day)), false, NotCountedExpired},
		{"one nanosecond inside the window counts", nil, pol(), inc("a", at(10*day).Add(1)), true, ""},
		{"zero window means 90 days", nil, pol(func(s *v1alpha1.AccountPolicySpec) { s.Window = dur(0) }), inc("a", at(10*day)), false, NotCountedExpired},
		{"shorter window", nil, pol(func(s *v1alpha1.AccountPolicySpec) { s.Window = dur(30 * day) }), inc("a", at(70*day)), false, NotCountedExpired},
		{"nil policy uses the default window", nil, nil, inc("a", at(10*day).Add(1)), true, ""},
		{"before reinstatement", reinstated, pol(), inc("a", at(50*day).Add(-1)), false, NotCountedBeforeReinstatement},
		{"exactly at reinstatement counts", reinstated, pol(), inc("a", at(50*day)), true, ""},
		{"a future-dated reinstatement does not act early", acct(v1alpha1.PhaseTerminated, at(20*day), reinstatement(at(120*day))), pol(), inc("a", at(99*day)), true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			account := tc.account
			if account == nil {
				account = acct(v1alpha1.PhaseGood, t0)
			}
			counts, reason := Counts(account, tc.policy, &tc.inc, now)
			if counts != tc.counts || reason != tc.reason {
				t.Errorf("Counts = %v %q, want %v %q", counts, reason, tc.counts, tc.reason)
			}
			// Evaluate must agree with Counts.
			account.Spec.Incidents = []v1alpha1.Incident{tc.inc}
			policy := tc.policy
			if policy == nil {
				policy = pol()
			}
			if d := Evaluate(account, policy, now); (d.Counted == 1) != tc.counts {
				t.Errorf("Evaluate counted %d incidents, Counts says %v", d.Counted, tc.counts)
			}
		})
	}
}

func TestPoints(t *testing.T) {
	weighted := pol(func(s *v1alpha1.AccountPolicySpec) {
		s.SeverityPoints = v1alpha1.SeverityPoints{Minor: i32(2), Major: i32(5), Critical: i32(11)}
		s.CategoryWeights = v1alpha1.CategoryWeights{Abuse: i32(3), SupportLoad: i32(0), NonPayment: i32(2), PolicyViolation: i32(4), PoorFit: i32(1), Other: i32(1)}
	})
	for _, tc := range []struct {
		name   string
		policy *v1alpha1.AccountPolicy
		inc    v1alpha1.Incident
		want   int32
	}{
		{"default Minor", pol(), inc("a", t0), 1},
		{"default Critical", pol(), inc("a", t0, sev(v1alpha1.SeverityCritical)), 3},
		{"empty severity is Minor", weighted, inc("a", t0, sev("")), 2},
		{"weight times severity", weighted, inc("a", t0, cat(v1alpha1.CategoryAbuse), sev(v1alpha1.SeverityCritical)), 33},
		{"zero weight is taken as given", weighted, inc("a", t0, cat(v1alpha1.CategorySupportLoad), sev(v1alpha1.SeverityMajor)), 0},
		{"zero severity points are taken as given", pol(func(s *v1alpha1.AccountPolicySpec) { s.SeverityPoints.Major = i32(0) }), inc("a", t0, sev(v1alpha1.SeverityMajor)), 0},
		{"points override", weighted, inc("a", t0, cat(v1alpha1.CategoryAbuse), sev(v1alpha1.SeverityCritical), points(4)), 4},
		{"points override of zero", weighted, inc("a", t0, cat(v1alpha1.CategoryAbuse), points(0)), 0},
		{"negative override is read as zero", weighted, inc("a", t0, points(-5)), 0},
		{"nil policy uses the defaults", nil, inc("a", t0, sev(v1alpha1.SeverityMajor)), 2},
		{"unset fields use the defaults", &v1alpha1.AccountPolicy{}, inc("a", t0, cat(v1alpha1.CategoryAbuse), sev(v1alpha1.SeverityCritical)), 3},
		{"unknown category weighs as Other", weighted, inc("a", t0, cat("Gossip"), sev(v1alpha1.SeverityMajor)), 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Points(tc.policy, &tc.inc); got != tc.want {
				t.Errorf("Points = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestCheckPolicy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy *v1alpha1.AccountPolicy
		errs   []string // substrings; none means valid
	}{
		{"defaulted policy is usable", pol(), nil},
		{"zero window is usable (90 days)", pol(func(s *v1alpha1.AccountPolicySpec) { s.Window = dur(0) }), nil},
		{"nil policy", nil, []string{"no policy"}},
		{"negative window", pol(func(s *v1alpha1.AccountPolicySpec) { s.Window = dur(-time.Hour) }), []string{"window -1h0m0s is negative"}},
		{"negative notice period", pol(func(s *v1alpha1.AccountPolicySpec) { s.NoticePeriod = dur(-time.Hour) }), []string{"noticePeriod -1h0m0s is negative"}},
		{"negative recovery period", pol(recovery(-time.Minute)), []string{"recoveryPeriod -1m0s is negative"}},
		{"the old dryRun field", pol(func(s *v1alpha1.AccountPolicySpec) { s.DeprecatedDryRun = new(bool) }), []string{"dryRun was replaced by mode"}},
		{"thresholds not ascending", pol(func(s *v1alpha1.AccountPolicySpec) { s.Thresholds.FinalNotice = 3 }), []string{"strictly ascending", "got 3, 3, 9"}},
		{"thresholds missing", pol(func(s *v1alpha1.AccountPolicySpec) { s.Thresholds = v1alpha1.Thresholds{} }), []string{"thresholds.warned is 0", "thresholds.terminated is 0", "strictly ascending"}},
		{"threshold too large", pol(func(s *v1alpha1.AccountPolicySpec) { s.Thresholds.Terminated = 100001 }), []string{"thresholds.terminated is 100001"}},
		{"negative severity points", pol(func(s *v1alpha1.AccountPolicySpec) { s.SeverityPoints.Major = i32(-1) }), []string{"severityPoints.major is -1"}},
		{"category weight too large", pol(func(s *v1alpha1.AccountPolicySpec) { s.CategoryWeights.PoorFit = i32(101) }), []string{"categoryWeights.poorFit is 101"}},
		{"unknown enforcement action", pol(func(s *v1alpha1.AccountPolicySpec) {
			s.Enforcement.Terminated = []v1alpha1.EnforcementAction{v1alpha1.ActionRevokeAccess, "DeleteEverything"}
		}), []string{`enforcement.terminated has unknown action "DeleteEverything"`}},
		{"revoke and read-only in one phase", pol(func(s *v1alpha1.AccountPolicySpec) {
			s.Enforcement.FinalNotice = []v1alpha1.EnforcementAction{v1alpha1.ActionRevokeAccess, v1alpha1.ActionReadOnlyAccess}
		}), []string{"enforcement.finalNotice has both RevokeAccess and ReadOnlyAccess"}},
		{"read-only notice, revoked termination", pol(func(s *v1alpha1.AccountPolicySpec) {
			s.Enforcement.FinalNotice = []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges, v1alpha1.ActionReadOnlyAccess}
		}), nil},
		{"every problem is reported at once", pol(recovery(-time.Minute), func(s *v1alpha1.AccountPolicySpec) { s.SeverityPoints.Minor = i32(-2) }),
			[]string{`policy "standard" is unusable`, "recoveryPeriod", "severityPoints.minor"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPolicy(tc.policy)
			if len(tc.errs) == 0 {
				if err != nil {
					t.Errorf("CheckPolicy = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckPolicy = nil, want an error mentioning %q", tc.errs)
			}
			for _, s := range tc.errs {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

// Issue Trust, item 16: only incidents that can no longer change a decision
// may be compacted away.
func TestCompactable(t *testing.T) {
	now := at(200 * day) // the default window is 90 days
	a := acct(v1alpha1.PhaseGood, at(0))
	withRecovery := pol(func(s *v1alpha1.AccountPolicySpec) { s.RecoveryPeriod = &metav1.Duration{Duration: 10 * day} })
	for _, tc := range []struct {
		name   string
		policy *v1alpha1.AccountPolicy
		inc    v1alpha1.Incident
		want   bool
	}{
		{"expired long ago", pol(), inc("a", at(50*day)), true},
		{"still counting", pol(), inc("a", at(150*day)), false},
		{"expired within the recovery period", withRecovery, inc("a", at(105*day)), false},
		{"expired before the recovery period", withRecovery, inc("a", at(99*day)), true},
		{"vendor-caused", pol(), inc("a", at(190*day), vendor), true},
		{"waived long ago", pol(), inc("a", at(150*day), waived(at(151*day))), true},
		{"no policy", nil, inc("a", at(10*day)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := Compactable(a, tc.policy, &tc.inc, now)
			if got != tc.want {
				t.Errorf("Compactable = %v (%s), want %v", got, why, tc.want)
			}
		})
	}
}
