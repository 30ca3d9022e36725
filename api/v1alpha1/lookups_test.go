package v1alpha1_test

import (
	"slices"
	"testing"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

func TestPhaseRank(t *testing.T) {
	for i, p := range v1alpha1.Phases {
		if p.Rank() != i {
			t.Errorf("%s.Rank() = %d, want %d", p, p.Rank(), i)
		}
	}
	if r := v1alpha1.AccountPhase("").Rank(); r != -1 {
		t.Errorf(`"".Rank() = %d, want -1`, r)
	}
	if v1alpha1.PhaseTerminated.Rank() <= v1alpha1.PhaseFinalNotice.Rank() || v1alpha1.PhaseWarned.Rank() <= v1alpha1.PhaseGood.Rank() {
		t.Error("phases are not ranked by severity")
	}
}

func TestEnforcementAndMessagesFor(t *testing.T) {
	e := v1alpha1.Enforcement{
		Warned:      []v1alpha1.EnforcementAction{v1alpha1.ActionBlockNewWorkloads},
		FinalNotice: []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges},
		Terminated:  []v1alpha1.EnforcementAction{v1alpha1.ActionRevokeAccess},
	}
	m := v1alpha1.Messages{Warned: "w", FinalNotice: "f", Terminated: "t", Reinstated: "r"}
	for _, tc := range []struct {
		from, to v1alpha1.AccountPhase
		actions  []v1alpha1.EnforcementAction
		message  string
	}{
		{v1alpha1.PhaseWarned, v1alpha1.PhaseGood, nil, ""},
		{v1alpha1.PhaseTerminated, v1alpha1.PhaseGood, nil, "r"},
		{v1alpha1.PhaseGood, v1alpha1.PhaseWarned, e.Warned, "w"},
		{v1alpha1.PhaseWarned, v1alpha1.PhaseFinalNotice, e.FinalNotice, "f"},
		{v1alpha1.PhaseFinalNotice, v1alpha1.PhaseTerminated, e.Terminated, "t"},
		{v1alpha1.PhaseFinalNotice, v1alpha1.PhaseWarned, e.Warned, "w"},
	} {
		if got := e.For(tc.to); !slices.Equal(got, tc.actions) {
			t.Errorf("Enforcement.For(%s) = %v, want %v", tc.to, got, tc.actions)
		}
		if got := m.For(tc.from, tc.to); got != tc.message {
			t.Errorf("Messages.For(%s, %s) = %q, want %q", tc.from, tc.to, got, tc.message)
		}
	}
}
