package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Hold pauses escalation (not de-escalation) until a moment.
type Hold struct {
	// until is when the hold ends.
	// +required
	Until metav1.Time `json:"until,omitempty,omitzero"`
	// by names who placed the hold.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	By string `json:"by,omitempty"`
	// reason explains the hold, e.g. "presenting the issue to the customer".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Reason string `json:"reason,omitempty"`
}

// Decision is a recorded human decision: an approval or a reinstatement.
type Decision struct {
	// by names who decided.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	By string `json:"by,omitempty"`
	// at is when the decision was taken.
	// +required
	At metav1.Time `json:"at,omitempty,omitzero"`
	// note or reason explaining the decision.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Note string `json:"note,omitempty"`
}

// ApprovalObservation records when the operator first saw a termination
// approval, and in which phase the account was then.
type ApprovalObservation struct {
	// by is the approval's by, identifying the approval seen.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	By string `json:"by,omitempty"`
	// at is the approval's at, identifying the approval seen.
	// +required
	At metav1.Time `json:"at,omitempty,omitzero"`
	// seenAt is when the operator first saw the approval.
	// +required
	SeenAt metav1.Time `json:"seenAt,omitempty,omitzero"`
	// phase is the account's phase when the approval was first seen.
	// +required
	Phase AccountPhase `json:"phase,omitempty"`
}

// Reinstatement lifts a termination. Incidents before `at` stop counting.
type Reinstatement struct {
	// by names who reinstated the account.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	By string `json:"by,omitempty"`
	// at is when the account was reinstated; incidents that occurred before
	// it no longer count.
	// +required
	At metav1.Time `json:"at,omitempty,omitzero"`
	// reason explains the reinstatement.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Reason string `json:"reason,omitempty"`
}
