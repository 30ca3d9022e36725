package lifecycle

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/utils/ptr"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// Statement is what a customer is owed with every transition: the
// incidents that count, the lines they crossed, what happens next and
// when, how to contest it, and on termination where to go instead.
type Statement struct {
	// Incidents are those counting at the transition.
	Incidents []CountedIncident `json:"incidents"`
	// Score is their total.
	Score int32 `json:"score"`
	// Thresholds are the policy's lines.
	Thresholds v1alpha1.Thresholds `json:"thresholds"`
	// Next says what happens next and when (the transition's message).
	Next string `json:"next"`
	// Appeal says how to contest an incident ("" on a step back to Good).
	Appeal string `json:"appeal,omitempty"`
	// Referral is the policy's terminated message, on termination only.
	Referral string `json:"referral,omitempty"`
}

// CountedIncident is one incident in a statement of reasons.
type CountedIncident struct {
	ID         string                    `json:"id"`
	Category   v1alpha1.IncidentCategory `json:"category"`
	OccurredAt time.Time                 `json:"occurredAt"`
	Summary    string                    `json:"summary"`
	Points     int32                     `json:"points"`
}

// StatementFor is the statement of reasons for a recorded transition,
// judged at the moment it happened.
func StatementFor(account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, entry v1alpha1.Transition) Statement {
	at := entry.At.Time
	s := Statement{Score: ptr.Deref(entry.Score, 0), Thresholds: policy.Spec.Thresholds, Next: entry.Message, Incidents: []CountedIncident{}}
	for i := range account.Spec.Incidents {
		inc := &account.Spec.Incidents[i]
		if ok, _ := Counts(account, policy, inc, at); ok {
			s.Incidents = append(s.Incidents, CountedIncident{ID: inc.ID, Category: inc.Category, OccurredAt: inc.OccurredAt.UTC(),
				Summary: inc.Summary, Points: Points(policy, inc)})
		}
	}
	if entry.To != v1alpha1.PhaseGood {
		s.Appeal = fmt.Sprintf("To contest an incident listed, appeal it (kubectl account appeal %s INCIDENT-ID, or through your account manager) within the %s appeal window; while an appeal is undecided the account is not terminated.",
			account.Name, fmtDuration(policy.Spec.EffectiveAppealWindow()))
	}
	if entry.To == v1alpha1.PhaseTerminated {
		s.Referral = policy.Spec.Messages.Terminated
	}
	return s
}

// Text is the statement in a sentence or two, for Events: the counted
// incidents and how to appeal (the rest is in the transition's message).
func (s Statement) Text() string {
	var b strings.Builder
	if len(s.Incidents) > 0 {
		parts := make([]string, len(s.Incidents))
		for i, inc := range s.Incidents {
			parts[i] = fmt.Sprintf("%s (%s, %s, %d points)", inc.ID, inc.Category, inc.OccurredAt.Format(time.DateOnly), inc.Points)
		}
		fmt.Fprintf(&b, "Counted: %s.", strings.Join(parts, ", "))
	}
	if s.Appeal != "" {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString(s.Appeal)
	}
	return b.String()
}
