package lifecycle

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// Bounds the CRD schema enforces; repeated here for policies that never went
// through the API server (e.g. `kubectl account simulate` on YAML files).
const (
	maxThreshold      = 100000
	maxSeverityPoints = 1000
	maxCategoryWeight = 100
)

// rank orders the phases; it indexes thresholds and phase names.
type rank int8

const (
	good rank = iota
	warned
	finalNotice
	terminated
)

func (r rank) phase() v1alpha1.AccountPhase { return v1alpha1.Phases[r] }

func rankOf(p v1alpha1.AccountPhase) (rank, bool) {
	i := p.Rank()
	return rank(max(i, 0)), i >= 0
}

// rules is a policy resolved to the values the engine uses, with zero values
// replaced as documented on Evaluate.
type rules struct {
	policy          *v1alpha1.AccountPolicy
	window          time.Duration
	notice          time.Duration
	recovery        time.Duration
	requireApproval bool
	approvals       int // distinct approvals termination needs (0: none)
	appealWindow    time.Duration
	th              [4]int64 // th[r]: score at which phase r is reached; th[good] unused
}

func rulesOf(p *v1alpha1.AccountPolicy) rules {
	s := &p.Spec
	r := rules{
		policy:          p,
		window:          s.EffectiveWindow(),
		notice:          s.EffectiveNoticePeriod(),
		recovery:        s.EffectiveRecoveryPeriod(),
		requireApproval: s.EffectiveRequireApproval(),
		approvals:       s.EffectiveApprovalsRequired(),
		appealWindow:    s.EffectiveAppealWindow(),
		th:              [4]int64{0, int64(s.Thresholds.Warned), int64(s.Thresholds.FinalNotice), int64(s.Thresholds.Terminated)},
	}
	return r
}

// levelOf is the highest phase whose threshold the score reaches.
func (r *rules) levelOf(score int64) rank {
	for k := terminated; k > good; k-- {
		if score >= r.th[k] {
			return k
		}
	}
	return good
}

// Points returns the points an incident is worth under the policy: the
// incident's own points when set, else the category weight times the
// severity's points (an empty severity is Minor, an unknown category Other).
// Unset policy fields, or a nil policy, take the defaults; explicit zeros are
// taken as given. The result is never negative.
func Points(policy *v1alpha1.AccountPolicy, inc *v1alpha1.Incident) int32 {
	if inc == nil {
		return 0
	}
	if inc.Points != nil {
		return clamp32(int64(*inc.Points))
	}
	var sp v1alpha1.SeverityPoints
	var cw v1alpha1.CategoryWeights
	if policy != nil {
		sp, cw = policy.Spec.SeverityPoints, policy.Spec.CategoryWeights
	}
	return clamp32(int64(cw.For(inc.Category)) * int64(sp.For(inc.Severity)))
}

// categoryIndex is the category's position in v1alpha1.Categories; anything
// unknown counts as the last one, Other.
func categoryIndex(c v1alpha1.IncidentCategory) int {
	if i := slices.Index(v1alpha1.Categories, c); i >= 0 {
		return i
	}
	return len(v1alpha1.Categories) - 1
}

func clamp32(v int64) int32 {
	return int32(min(max(v, 0), math.MaxInt32))
}

// CheckPolicy returns an error saying everything that makes the policy
// unusable, or nil. It repeats what the CRD schema enforces, because policies
// can reach the engine without the API server's validation and defaulting.
func CheckPolicy(policy *v1alpha1.AccountPolicy) error {
	if policy == nil {
		return errors.New("no policy given")
	}
	s := &policy.Spec
	var errs []string
	if s.Window != nil && s.Window.Duration < 0 {
		errs = append(errs, fmt.Sprintf("window %s is negative; use a positive duration such as \"2160h\"", s.Window.Duration))
	}
	if s.NoticePeriod != nil && s.NoticePeriod.Duration < 0 {
		errs = append(errs, fmt.Sprintf("noticePeriod %s is negative; use a duration of 0s or more such as \"336h\"", s.NoticePeriod.Duration))
	}
	if s.RecoveryPeriod != nil && s.RecoveryPeriod.Duration < 0 {
		errs = append(errs, fmt.Sprintf("recoveryPeriod %s is negative; use a duration of 0s or more such as \"72h\"", s.RecoveryPeriod.Duration))
	}
	if s.DeprecatedDryRun != nil {
		// The API server refuses it too; a policy read from a file (simulate)
		// must not be taken for one that enforces.
		errs = append(errs, "dryRun was replaced by mode: write mode: DryRun (or mode: Enforce) and remove dryRun")
	}
	t := s.Thresholds
	for _, f := range []struct {
		name string
		v    int32
	}{{"warned", t.Warned}, {"finalNotice", t.FinalNotice}, {"terminated", t.Terminated}} {
		if f.v < 1 || f.v > maxThreshold {
			errs = append(errs, fmt.Sprintf("thresholds.%s is %d; it must be between 1 and %d", f.name, f.v, maxThreshold))
		}
	}
	if t.Warned >= t.FinalNotice || t.FinalNotice >= t.Terminated {
		errs = append(errs, fmt.Sprintf("thresholds must be strictly ascending (warned < finalNotice < terminated), got %d, %d, %d", t.Warned, t.FinalNotice, t.Terminated))
	}
	sp := s.SeverityPoints
	for _, f := range []struct {
		name string
		v    int32
	}{{"minor", sp.For(v1alpha1.SeverityMinor)}, {"major", sp.For(v1alpha1.SeverityMajor)}, {"critical", sp.For(v1alpha1.SeverityCritical)}} {
		if f.v < 0 || f.v > maxSeverityPoints {
			errs = append(errs, fmt.Sprintf("severityPoints.%s is %d; it must be between 0 and %d", f.name, f.v, maxSeverityPoints))
		}
	}
	cw := s.CategoryWeights
	for _, f := range []struct {
		name string
		v    int32
	}{{"abuse", cw.For(v1alpha1.CategoryAbuse)}, {"supportLoad", cw.For(v1alpha1.CategorySupportLoad)}, {"nonPayment", cw.For(v1alpha1.CategoryNonPayment)}, {"policyViolation", cw.For(v1alpha1.CategoryPolicyViolation)}, {"poorFit", cw.For(v1alpha1.CategoryPoorFit)}, {"other", cw.For(v1alpha1.CategoryOther)}} {
		if f.v < 0 || f.v > maxCategoryWeight {
			errs = append(errs, fmt.Sprintf("categoryWeights.%s is %d; it must be between 0 and %d", f.name, f.v, maxCategoryWeight))
		}
	}
	e := s.Enforcement
	for _, f := range []struct {
		name string
		v    []v1alpha1.EnforcementAction
	}{{"warned", e.Warned}, {"finalNotice", e.FinalNotice}, {"terminated", e.Terminated}} {
		for _, a := range f.v {
			if !slices.Contains(v1alpha1.EnforcementActions, a) {
				errs = append(errs, fmt.Sprintf("enforcement.%s has unknown action %q; known actions are %s", f.name, a, joinActions(v1alpha1.EnforcementActions)))
			}
		}
		if slices.Contains(f.v, v1alpha1.ActionRevokeAccess) && slices.Contains(f.v, v1alpha1.ActionReadOnlyAccess) {
			errs = append(errs, fmt.Sprintf("enforcement.%s has both RevokeAccess and ReadOnlyAccess, which exclude each other", f.name))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("policy %q is unusable: %s", policy.Name, strings.Join(errs, "; "))
	}
	return nil
}

func joinActions(actions []v1alpha1.EnforcementAction) string {
	s := make([]string, len(actions))
	for i, a := range actions {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}
