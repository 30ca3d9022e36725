package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

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
