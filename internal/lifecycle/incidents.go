package lifecycle

import (
	"fmt"
	"time"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// Why Counts says an incident does not count.
const (
	NotCountedVendor              = "vendor-caused"
	NotCountedWaived              = "waived"
	NotCountedOverturned          = "overturned on appeal"
	NotCountedNotYetOccurred      = "not yet occurred"
	NotCountedBeforeReinstatement = "before reinstatement"
	NotCountedExpired             = "expired"
)

// incidentInput is what the counting checks look at.
type incidentInput struct {
	inc          *v1alpha1.Incident
	reinstatedAt *time.Time
	window       time.Duration
	now          time.Time
}

// incidentCheck returns the reason an incident does not count, if it fails.
type incidentCheck func(incidentInput) (reason string, failed bool)

// incidentChecks run in order; the first failure is the reason reported.
var incidentChecks = []incidentCheck{isVendorCaused, isWaived, isOverturned, hasNotOccurred, isBeforeReinstatement, hasExpired}

func isVendorCaused(in incidentInput) (string, bool) {
	return NotCountedVendor, in.inc.Attribution == v1alpha1.AttributionVendor
}

func isWaived(in incidentInput) (string, bool) {
	return NotCountedWaived, in.inc.Waiver.IsDefined()
}

func isOverturned(in incidentInput) (string, bool) {
	at := overturnedAt(in.inc)
	return NotCountedOverturned, at != nil && !at.After(in.now)
}

func hasNotOccurred(in incidentInput) (string, bool) {
	return NotCountedNotYetOccurred, in.inc.OccurredAt.After(in.now)
}

// isBeforeReinstatement: a reinstatement stops earlier incidents counting from
// its own moment on, so a future-dated one does not act early.
func isBeforeReinstatement(in incidentInput) (string, bool) {
	ra := in.reinstatedAt
	return NotCountedBeforeReinstatement, ra != nil && !ra.After(in.now) && in.inc.OccurredAt.Time.Before(*ra)
}

func hasExpired(in incidentInput) (string, bool) {
	return NotCountedExpired, !in.now.Before(in.inc.OccurredAt.Add(in.window))
}

// Counts reports whether the incident counts against the account at now and,
// if not, why: NotCountedVendor, NotCountedWaived, NotCountedOverturned,
// NotCountedNotYetOccurred, NotCountedBeforeReinstatement or
// NotCountedExpired. Evaluate uses the same
// rules.
func Counts(account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, inc *v1alpha1.Incident, now time.Time) (bool, string) {
	if inc == nil {
		return false, NotCountedNotYetOccurred
	}
	in := incidentInput{inc: inc, reinstatedAt: reinstatedAt(account), window: v1alpha1.DefaultWindow, now: now}
	if policy != nil {
		in.window = rulesOf(policy).window
	}
	for _, check := range incidentChecks {
		if reason, failed := check(in); failed {
			return false, reason
		}
	}
	return true, ""
}

func reinstatedAt(account *v1alpha1.CustomerAccount) *time.Time {
	if account == nil || !account.Spec.Reinstatement.IsDefined() {
		return nil
	}
	return &account.Spec.Reinstatement.At.Time
}

// span is when a customer incident counts if unwaived: [start, end). It is
// empty when the incident can never count.
func span(inc *v1alpha1.Incident, reinstated *time.Time, window time.Duration) (start, end time.Time) {
	start, end = inc.OccurredAt.Time, inc.OccurredAt.Time.Add(window)
	if reinstated != nil && start.Before(*reinstated) && reinstated.Before(end) {
		end = *reinstated
	}
	return start, end
}

// Compactable reports whether removing the incident from the ledger can no
// longer change any decision about the account at now or later: it never
// counts again, and it stopped counting before the recovery period that a
// step down looks back over. The reason says why not when it is not.
func Compactable(account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, inc *v1alpha1.Incident, now time.Time) (bool, string) {
	if inc.Attribution == v1alpha1.AttributionVendor {
		return true, ""
	}
	if policy == nil {
		return false, "no policy governs the account, so its window is unknown"
	}
	r := rulesOf(policy)
	start, end := span(inc, reinstatedAt(account), r.window)
	if w := inc.Waiver; w.IsDefined() && w.At.Time.Before(end) {
		end = w.At.Time
	}
	if !start.Before(end) {
		return true, "" // never counted
	}
	if horizon := now.Add(-r.recovery); end.After(horizon) {
		return false, fmt.Sprintf("it counts (or counted) until %s, within the policy's window or recovery period", fmtTime(end))
	}
	return true, ""
}
