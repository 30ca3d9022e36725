package v1alpha1

import (
	"time"
)

// Defaults the API server applies; repeated here because Go clients and
// policies read from files (e.g. a simulation) may not have been defaulted.
const (
	DefaultWindow       = 90 * 24 * time.Hour
	DefaultNoticePeriod = 14 * 24 * time.Hour
	DefaultAppealWindow = 14 * 24 * time.Hour
)

// EffectiveWindow is the counting window, defaulted.
func (s *AccountPolicySpec) EffectiveWindow() time.Duration {
	if s.Window == nil || s.Window.Duration <= 0 {
		return DefaultWindow
	}
	return s.Window.Duration
}

// EffectiveNoticePeriod is the notice period, defaulted.
func (s *AccountPolicySpec) EffectiveNoticePeriod() time.Duration {
	if s.NoticePeriod == nil {
		return DefaultNoticePeriod
	}
	return max(s.NoticePeriod.Duration, 0)
}

// EffectiveRecoveryPeriod is the recovery period, defaulted.
func (s *AccountPolicySpec) EffectiveRecoveryPeriod() time.Duration {
	if s.RecoveryPeriod == nil {
		return 0
	}
	return max(s.RecoveryPeriod.Duration, 0)
}

// EffectiveApprovalsRequired is how many distinct approvals termination
// needs: approvals.required, 1 when unset.
func (s *AccountPolicySpec) EffectiveApprovalsRequired() int {
	return max(int(orDefault(s.Approvals.Required, 1)), 0)
}

// EffectiveRequireApproval reports whether termination needs an approval.
func (s *AccountPolicySpec) EffectiveRequireApproval() bool {
	return s.EffectiveApprovalsRequired() > 0
}

// DryRun reports whether the policy enforces nothing (mode DryRun; unset
// is Enforce).
func (s *AccountPolicySpec) DryRun() bool { return s.Mode == ModeDryRun }

// EffectiveAppealWindow is the appeal window, defaulted.
func (s *AccountPolicySpec) EffectiveAppealWindow() time.Duration {
	if s.AppealWindow == nil {
		return DefaultAppealWindow
	}
	return max(s.AppealWindow.Duration, 0)
}

// For returns the points of a severity, defaulted (an empty severity is Minor).
func (p *SeverityPoints) For(sev Severity) int32 {
	switch sev {
	case SeverityMajor:
		return orDefault(p.Major, 2)
	case SeverityCritical:
		return orDefault(p.Critical, 3)
	default:
		return orDefault(p.Minor, 1)
	}
}

// For returns the weight of a category, defaulted to 1 (unknown: Other).
func (w *CategoryWeights) For(c IncidentCategory) int32 {
	switch c {
	case CategoryAbuse:
		return orDefault(w.Abuse, 1)
	case CategorySupportLoad:
		return orDefault(w.SupportLoad, 1)
	case CategoryNonPayment:
		return orDefault(w.NonPayment, 1)
	case CategoryPolicyViolation:
		return orDefault(w.PolicyViolation, 1)
	case CategoryPoorFit:
		return orDefault(w.PoorFit, 1)
	default:
		return orDefault(w.Other, 1)
	}
}

func orDefault(v *int32, def int32) int32 {
	if v == nil {
		return def
	}
	return *v
}
