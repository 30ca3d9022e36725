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

// NamespaceStatus reports enforcement on one tenant namespace.
type NamespaceStatus struct {
	// name of the namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name,omitempty"`
	// actions in force in the namespace (or that would be, in dry run).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=6
	Actions []EnforcementAction `json:"actions,omitempty"`
	// message explains anything unusual: protected, dry run, drift, errors.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	Message string `json:"message,omitempty"`
}

// NamespaceSummary counts an account's tenant namespaces.
type NamespaceSummary struct {
	// total is the number of tenant namespaces.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Total *int32 `json:"total,omitempty"`
	// restricted is how many have some action in force.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Restricted *int32 `json:"restricted,omitempty"`
	// withMessages is how many report an error, a warning or a note.
	// +optional
	// +kubebuilder:validation:Minimum=0
	WithMessages *int32 `json:"withMessages,omitempty"`
	// omitted is how many are not listed in status.namespaces.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Omitted *int32 `json:"omitted,omitempty"`
}

// Transition is one entry of the account's history.
type Transition struct {
	// from is the phase left.
	// +optional
	From AccountPhase `json:"from,omitempty"`
	// to is the phase entered.
	// +required
	To AccountPhase `json:"to,omitempty"`
	// at is when the transition happened.
	// +required
	At metav1.Time `json:"at,omitempty,omitzero"`
	// score at the time of the transition.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Score *int32 `json:"score,omitempty"`
	// reason is a CamelCase word for the transition.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	Reason string `json:"reason,omitempty"`
	// message explains the transition.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	Message string `json:"message,omitempty"`
	// notifications tracks delivery of the transition to each sink the policy
	// had when it happened, one entry per sink (none without a sink). A
	// Pending entry is the operator's durable outbox: it is retried, across
	// restarts, until delivered or trimmed from history. Sinks are delivered
	// independently: one that is down holds back no other.
	// +optional
	// +listType=map
	// +listMapKey=sink
	// +kubebuilder:validation:MaxItems=4
	Notifications []NotificationStatus `json:"notifications,omitempty"`
}

// NotificationSink names somewhere transitions are delivered.
// +kubebuilder:validation:Enum=Webhook
type NotificationSink string

// The notification sinks (internal/notify.Sinks implements each).
const (
	// SinkWebhook posts CloudEvents to spec.notifications.webhook.
	SinkWebhook NotificationSink = "Webhook"
)

// NotificationState says whether a transition's notification was delivered.
// +kubebuilder:validation:Enum=Pending;Delivered;Abandoned
type NotificationState string

// The notification states.
const (
	NotificationPending   NotificationState = "Pending"
	NotificationDelivered NotificationState = "Delivered"
	// NotificationAbandoned: the endpoint said it is gone for good (HTTP
	// 410) and delivery stopped; message says so.
	NotificationAbandoned NotificationState = "Abandoned"
)

// NotificationStatus is the delivery state of one transition's CloudEvent
// to one sink.
type NotificationStatus struct {
	// sink is where this entry is delivered.
	// +required
	Sink NotificationSink `json:"sink,omitempty"`
	// state is Pending until the sink acknowledged the event (the webhook:
	// with a 2xx response), then Delivered; Abandoned if it said it is gone
	// for good (the webhook: 410 Gone).
	// +required
	State NotificationState `json:"state,omitempty"`
	// attempts is how many deliveries were tried.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Attempts *int32 `json:"attempts,omitempty"`
	// lastAttempt is when delivery was last tried.
	// +optional
	LastAttempt *metav1.Time `json:"lastAttempt,omitempty"`
	// nextAttempt is when a failed delivery is retried.
	// +optional
	NextAttempt *metav1.Time `json:"nextAttempt,omitempty"`
	// message is the last delivery error.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
	// id is the CloudEvent id; every retry of the transition carries the
	// same id so receivers can deduplicate.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	ID string `json:"id,omitempty"`
}

// CustomerAccountStatus is written only by the operator and can be rebuilt
// from the world.
// +kubebuilder:validation:MinProperties=1
type CustomerAccountStatus struct {
	// conditions are Ready, AccessRestricted, TerminationPending and Held.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// observedGeneration is the generation last evaluated successfully.
	// +optional
	// +kubebuilder:validation:Minimum=1
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// phase is where the account stands.
	// +optional
	Phase AccountPhase `json:"phase,omitempty"`
	// phaseSince is when the account entered its phase.
	// +optional
	PhaseSince *metav1.Time `json:"phaseSince,omitempty"`
	// policy is the AccountPolicy that governs the account.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Policy string `json:"policy,omitempty"`
	// score is the points counted now.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Score *int32 `json:"score,omitempty"`
	// thresholds lists the phases whose threshold the score reaches.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=3
	Thresholds []AccountPhase `json:"thresholds,omitempty"`
	// countedIncidents is how many incidents count now.
	// +optional
	// +kubebuilder:validation:Minimum=0
	CountedIncidents *int32 `json:"countedIncidents,omitempty"`
	// vendorIncidents is how many incidents the vendor caused.
	// +optional
	// +kubebuilder:validation:Minimum=0
	VendorIncidents *int32 `json:"vendorIncidents,omitempty"`
	// waivedIncidents is how many incidents were waived.
	// +optional
	// +kubebuilder:validation:Minimum=0
	WaivedIncidents *int32 `json:"waivedIncidents,omitempty"`
	// primaryConcern is the category with the most counted points.
	// +optional
	PrimaryConcern IncidentCategory `json:"primaryConcern,omitempty"`
	// nextEvaluation is the next moment the outcome can change with no edit.
	// +optional
	NextEvaluation *metav1.Time `json:"nextEvaluation,omitempty"`
	// approvalObservations record when the operator first saw each of
	// spec.terminationApprovals and the account's phase then. An approval
	// counts only if first seen during the current FinalNotice, so one
	// written in advance (even dated in the future) cannot stand in for the
	// human decision.
	// +optional
	// +listType=map
	// +listMapKey=by
	// +kubebuilder:validation:MaxItems=10
	ApprovalObservations []ApprovalObservation `json:"approvalObservations,omitempty"`
	// namespaces reports enforcement on the tenant namespaces: every one
	// with something to say (an error, a warning, a note) first, then the
	// rest by name, at most 64; namespaceSummary counts them all.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	Namespaces []NamespaceStatus `json:"namespaces,omitempty"`
	// namespaceSummary counts the tenant namespaces, including those not
	// listed in namespaces.
	// +optional
	NamespaceSummary *NamespaceSummary `json:"namespaceSummary,omitempty"`
	// history lists recent transitions, newest first.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	History []Transition `json:"history,omitempty"`
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
