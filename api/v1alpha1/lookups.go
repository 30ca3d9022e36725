package v1alpha1

import (
	"slices"
	"time"
)

// Phases are the phases from the least to the most severe.
var Phases = []AccountPhase{PhaseGood, PhaseWarned, PhaseFinalNotice, PhaseTerminated}

// Rank is the phase's severity, its index in Phases: 0 for Good, -1 for a
// phase this API does not know (an empty status phase, say).
func (p AccountPhase) Rank() int { return slices.Index(Phases, p) }

// For is the list of actions in force in a phase (none in Good).
func (e Enforcement) For(phase AccountPhase) []EnforcementAction {
	switch phase {
	case PhaseWarned:
		return e.Warned
	case PhaseFinalNotice:
		return e.FinalNotice
	case PhaseTerminated:
		return e.Terminated
	}
	return nil
}

// For is the courteous text for a transition: the message of the phase
// entered, or the reinstated message when Terminated -> Good.
func (m Messages) For(from, to AccountPhase) string {
	if from == PhaseTerminated && to == PhaseGood {
		return m.Reinstated
	}
	switch to {
	case PhaseWarned:
		return m.Warned
	case PhaseFinalNotice:
		return m.FinalNotice
	case PhaseTerminated:
		return m.Terminated
	}
	return ""
}

// CeilSecond rounds t up to a whole second: status times serialize to
// whole seconds, and a stored moment (a next evaluation, a retry) must
// never be before the real one.
func CeilSecond(t time.Time) time.Time {
	if r := t.Truncate(time.Second); !r.Equal(t) {
		return r.Add(time.Second)
	}
	return t
}

// NotificationTo is the entry's delivery state for sink, nil when the
// transition is not delivered there.
func (t *Transition) NotificationTo(sink NotificationSink) *NotificationStatus {
	for i := range t.Notifications {
		if t.Notifications[i].Sink == sink {
			return &t.Notifications[i]
		}
	}
	return nil
}
