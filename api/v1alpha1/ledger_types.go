package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IncidentCategory says what kind of trouble an incident records.
// +kubebuilder:validation:Enum=Abuse;SupportLoad;NonPayment;PolicyViolation;PoorFit;Other
type IncidentCategory string

// The incident categories.
const (
	CategoryAbuse           IncidentCategory = "Abuse"
	CategorySupportLoad     IncidentCategory = "SupportLoad"
	CategoryNonPayment      IncidentCategory = "NonPayment"
	CategoryPolicyViolation IncidentCategory = "PolicyViolation"
	CategoryPoorFit         IncidentCategory = "PoorFit"
	CategoryOther           IncidentCategory = "Other"
)

// Categories lists every IncidentCategory in a stable order.
var Categories = []IncidentCategory{CategoryAbuse, CategorySupportLoad, CategoryNonPayment, CategoryPolicyViolation, CategoryPoorFit, CategoryOther}

// Severity grades an incident.
// +kubebuilder:validation:Enum=Minor;Major;Critical
type Severity string

// The severities.
const (
	SeverityMinor    Severity = "Minor"
	SeverityMajor    Severity = "Major"
	SeverityCritical Severity = "Critical"
)

// Attribution says whose fault an incident was.
// +kubebuilder:validation:Enum=Customer;Vendor
type Attribution string

// The attributions. Vendor-caused incidents are shown but never counted.
const (
	AttributionCustomer Attribution = "Customer"
	AttributionVendor   Attribution = "Vendor"
)

// Waiver is a human decision that an incident no longer counts.
type Waiver struct {
	// by names who waived the incident.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	By string `json:"by,omitempty"`
	// at is when the incident was waived.
	// +required
	At metav1.Time `json:"at,omitempty,omitzero"`
	// reason explains the waiver.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Reason string `json:"reason,omitempty"`
}

// Incident is one entry in the account's ledger. Once recorded it never
// changes, except that a waiver may be added once, and an appeal once, and
// then its decision once.
// +kubebuilder:validation:XValidation:rule="self.category == oldSelf.category && self.severity == oldSelf.severity && self.occurredAt == oldSelf.occurredAt && self.reportedBy == oldSelf.reportedBy && self.summary == oldSelf.summary && self.attribution == oldSelf.attribution && has(self.points) == has(oldSelf.points) && (!has(self.points) || self.points == oldSelf.points) && has(self.relayedBy) == has(oldSelf.relayedBy) && (!has(self.relayedBy) || self.relayedBy == oldSelf.relayedBy)",message="a recorded incident cannot be edited; to stop it counting, waive it (set incidents[].waiver), or record a new incident with a new id"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.waiver) || (has(self.waiver) && self.waiver == oldSelf.waiver)",message="an incident's waiver is final and cannot be changed or removed; record a new incident if the matter comes up again"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.appeal) || (has(self.appeal) && self.appeal.by == oldSelf.appeal.by && self.appeal.at == oldSelf.appeal.at && self.appeal.statement == oldSelf.appeal.statement && (!has(oldSelf.appeal.decision) || (has(self.appeal.decision) && self.appeal.decision == oldSelf.appeal.decision)))",message="an appeal is filed once and decided once: neither the appeal nor its decision can be changed or removed"
// +kubebuilder:validation:XValidation:rule="!has(self.appeal) || !has(self.appeal.decision) || (self.appeal.decision.by != self.reportedBy && self.appeal.decision.by != self.appeal.by && (!has(self.relayedBy) || self.appeal.decision.by != self.relayedBy))",message="an appeal is decided by someone who neither reported the incident nor filed the appeal"
type Incident struct {
	// id identifies the incident within the account: lowercase letters,
	// digits and '-', starting and ending with a letter or digit.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	ID string `json:"id,omitempty"`
	// category says what kind of trouble this was.
	// +required
	Category IncidentCategory `json:"category,omitempty"`
	// severity grades the incident; Minor when unset.
	// +optional
	// +kubebuilder:default=Minor
	Severity Severity `json:"severity,omitempty"`
	// occurredAt is when the incident happened. Incidents in the future do
	// not count until they have occurred.
	// +required
	OccurredAt metav1.Time `json:"occurredAt,omitempty,omitzero"`
	// reportedBy names the person or system that recorded the incident.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	ReportedBy string `json:"reportedBy,omitempty"`
	// summary says what happened, briefly.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Summary string `json:"summary,omitempty"`
	// attribution says whose fault it was; Vendor-caused incidents are shown
	// and never counted. Customer when unset.
	// +optional
	// +kubebuilder:default=Customer
	Attribution Attribution `json:"attribution,omitempty"`
	// points overrides, when set, the points the policy would compute.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	Points *int32 `json:"points,omitempty"`
	// waiver stops the incident counting once given. It can be added once
	// and never changed or removed.
	// +optional
	Waiver *Waiver `json:"waiver,omitempty,omitzero"`
	// relayedBy names who recorded the incident on reportedBy's behalf (a
	// support desk or a control plane that relays reports); empty when the
	// reporter recorded it. The shipped admission policy admits a reportedBy
	// other than the writer only from a writer allowed to report-on-behalf,
	// and then requires relayedBy to be that writer.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	RelayedBy string `json:"relayedBy,omitempty"`
	// appeal is the customer contesting the incident. It is filed once; its
	// decision is added once. While undecided (and filed within the policy's
	// appealWindow) it keeps the account from being terminated; an
	// Overturned incident stops counting like a waived one.
	// +optional
	Appeal *Appeal `json:"appeal,omitempty,omitzero"`
}

// Appeal is a customer contesting an incident.
type Appeal struct {
	// by names who filed the appeal (the customer, or the tool relaying it).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	By string `json:"by,omitempty"`
	// at is when the appeal was filed.
	// +required
	At metav1.Time `json:"at,omitempty,omitzero"`
	// statement is the customer's side of the story.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	Statement string `json:"statement,omitempty"`
	// decision decides the appeal, once.
	// +optional
	Decision AppealDecision `json:"decision,omitempty,omitzero"`
}

// AppealOutcome is how an appeal was decided.
// +kubebuilder:validation:Enum=Upheld;Overturned
type AppealOutcome string

// The appeal outcomes.
const (
	// AppealUpheld: the incident stands and counts.
	AppealUpheld AppealOutcome = "Upheld"
	// AppealOverturned: the incident stops counting, like a waived one.
	AppealOverturned AppealOutcome = "Overturned"
)

// AppealDecision decides an appeal.
type AppealDecision struct {
	// outcome is Upheld (the incident stands) or Overturned (it stops
	// counting).
	// +required
	Outcome AppealOutcome `json:"outcome,omitempty"`
	// by names who decided: neither the incident's reporter nor the
	// appellant.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	By string `json:"by,omitempty"`
	// at is when the appeal was decided.
	// +required
	At metav1.Time `json:"at,omitempty,omitzero"`
	// reason explains the decision.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Reason string `json:"reason,omitempty"`
}

// Compaction is the recorded, explicit step that archives old incidents:
// incidents that occurred before `before` may be removed from the ledger
// (kubectl account compact removes only those that can no longer affect
// the account, and writes them to an archive file first).
type Compaction struct {
	// by names who compacted the ledger.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	By string `json:"by,omitempty"`
	// at is when the ledger was compacted.
	// +required
	At metav1.Time `json:"at,omitempty,omitzero"`
	// before is the cut-off: incidents that occurred before it may be
	// removed. It only moves forward.
	// +required
	Before metav1.Time `json:"before,omitempty,omitzero"`
	// reason explains the compaction, e.g. where the archive is kept.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Reason string `json:"reason,omitempty"`
	// removed counts the incidents removed by every compaction so far.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Removed *int32 `json:"removed,omitempty"`
}
