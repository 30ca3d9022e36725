package lifecycle

import (
	"time"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// RecordedPhase is a phase recorded outside the account's status (on a
// tenant namespace), with when it began if known.
type RecordedPhase struct {
	Source string
	Phase  v1alpha1.AccountPhase
	Since  time.Time
}

// RecoverPhase picks the state to resume from when an account's status is
// lost: the most severe recorded phase (ties: the earliest known start, so
// a notice period already served is not served twice), since its recorded
// start, or since now when none is known (the clock restarts rather than
// cutting a notice period short). An empty phase means nothing usable was
// recorded.
func RecoverPhase(recorded []RecordedPhase, now time.Time) (phase v1alpha1.AccountPhase, since time.Time, source string) {
	best := -1
	for i, rp := range recorded {
		r, ok := rankOf(rp.Phase)
		if !ok {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		b, _ := rankOf(recorded[best].Phase)
		switch {
		case r > b:
			best = i
		case r == b && !rp.Since.IsZero() && (recorded[best].Since.IsZero() || rp.Since.Before(recorded[best].Since)):
			best = i
		}
	}
	if best < 0 {
		return "", time.Time{}, ""
	}
	rp := recorded[best]
	since = rp.Since
	if since.IsZero() || since.After(now) {
		since = now
	}
	return rp.Phase, since, rp.Source
}
