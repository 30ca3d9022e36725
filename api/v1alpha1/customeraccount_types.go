package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AccountPhase is where an account stands in its lifecycle.
// +kubebuilder:validation:Enum=Good;Warned;FinalNotice;Terminated
type AccountPhase string

// The phases, in ascending order of severity.
const (
	PhaseGood        AccountPhase = "Good"
	PhaseWarned      AccountPhase = "Warned"
	PhaseFinalNotice AccountPhase = "FinalNotice"
	PhaseTerminated  AccountPhase = "Terminated"
)

// Contact is a person to notify about the account.
type Contact struct {
	// name of the contact.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Name string `json:"name,omitempty"`
	// email address of the contact.
	// +required
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:Pattern=`^[^@\s]+@[^@\s]+$`
	Email string `json:"email,omitempty"`
}

// CustomerAccountSpec is the desired state of a CustomerAccount: who the
// customer is and the ledger of what happened. It says at least one thing
// (a displayName, at the least), so an empty spec is refused.
// +kubebuilder:validation:MinProperties=1
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.incidents) || sets.contains(has(self.incidents) ? self.incidents.map(n, n.id) : [], oldSelf.incidents.filter(o, !has(self.compaction) || o.occurredAt >= self.compaction.before).map(o, o.id))",message="recorded incidents cannot be removed; to stop one counting, waive it (set incidents[].waiver); to archive incidents that no longer count, record a compaction (kubectl account compact)",fieldPath=".incidents"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.compaction) || (has(self.compaction) && (self.compaction == oldSelf.compaction || (self.compaction.before >= oldSelf.compaction.before && self.compaction.at > oldSelf.compaction.at && (has(self.compaction.removed) ? self.compaction.removed : 0) >= (has(oldSelf.compaction.removed) ? oldSelf.compaction.removed : 0))))",message="a compaction is a recorded step: it cannot be removed or edited, and a new one must be later, with a cut-off no earlier and a removed count no smaller",fieldPath=".compaction"
type CustomerAccountSpec struct {
	// displayName is the human name of the customer.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	DisplayName string `json:"displayName,omitempty"`
	// policyName names the AccountPolicy that governs this account. When
	// empty, the one policy whose accountSelector matches the account's
	// labels governs it.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	PolicyName string `json:"policyName,omitempty"`
	// contacts are passed to notifications.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	Contacts []Contact `json:"contacts,omitempty"`
	// incidents is the ledger. Entries are keyed by id so several writers can
	// add entries with server-side apply. Entries cannot be removed, except
	// those older than a recorded compaction's cut-off; at most 500 are
	// held, so a long-lived account is compacted now and then.
	// +optional
	// +listType=map
	// +listMapKey=id
	// +kubebuilder:validation:MaxItems=500
	Incidents []Incident `json:"incidents,omitempty"`
	// compaction records the latest archival of old incidents; see
	// Compaction.
	// +optional
	Compaction Compaction `json:"compaction,omitempty,omitzero"`
	// hold pauses escalation until hold.until.
	// +optional
	Hold Hold `json:"hold,omitempty,omitzero"`
	// terminationApprovals are the human decisions to terminate, one per
	// approver. An approval counts only if dated on or after the moment the
	// account entered its current FinalNotice, first seen by the operator
	// during it (one written in advance never counts), and given by someone
	// who reported none of the incidents that count. The policy says how
	// many distinct approvals termination needs (approvals.required).
	// +optional
	// +listType=map
	// +listMapKey=by
	// +kubebuilder:validation:MaxItems=10
	TerminationApprovals []Decision `json:"terminationApprovals,omitempty"`
	// reinstatement lifts Terminated; incidents that occurred before
	// reinstatement.at stop counting.
	// +optional
	Reinstatement Reinstatement `json:"reinstatement,omitempty,omitzero"`
}

// CustomerAccount records a customer's incidents and shows where the
// customer stands in the Good → Warned → FinalNotice → Terminated lifecycle.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=acct
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Score",type=integer,JSONPath=`.status.score`
// +kubebuilder:printcolumn:name="Policy",type=string,JSONPath=`.status.policy`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Restricted",type=string,JSONPath=`.status.conditions[?(@.type=="AccessRestricted")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Next",type=string,JSONPath=`.status.nextEvaluation`,priority=1
// +kubebuilder:printcolumn:name="Concern",type=string,JSONPath=`.status.primaryConcern`,priority=1
type CustomerAccount struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the customer and the ledger.
	// +required
	Spec CustomerAccountSpec `json:"spec,omitzero"`
	// status is written by the operator.
	// +optional
	Status CustomerAccountStatus `json:"status,omitempty,omitzero"`
}

// CustomerAccountList is a list of CustomerAccounts.
// +kubebuilder:object:root=true
type CustomerAccountList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []CustomerAccount `json:"items"`
}
