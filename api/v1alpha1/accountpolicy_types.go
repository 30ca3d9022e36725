package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// EnforcementAction is a restriction applied to an account's namespaces.
// The enum, the MaxItems of every list of actions and EnforcementActions
// are checked against the operator's registry of actions by a test
// (internal/enforcement), so an action cannot be named here without being
// implemented there, nor the other way round.
// +kubebuilder:validation:Enum=FreezeChanges;BlockNewWorkloads;RevokeAccess;ReadOnlyAccess;ScaleToZero;IsolateNetwork
type EnforcementAction string

// The enforcement actions.
const (
	ActionFreezeChanges     EnforcementAction = "FreezeChanges"
	ActionBlockNewWorkloads EnforcementAction = "BlockNewWorkloads"
	ActionRevokeAccess      EnforcementAction = "RevokeAccess"
	// ActionReadOnlyAccess rebinds the tenant's RoleBindings to the view
	// ClusterRole: the tenant can still read and export its data (what a
	// customer being referred elsewhere needs during its notice) but
	// change nothing. It excludes RevokeAccess in the same phase.
	ActionReadOnlyAccess EnforcementAction = "ReadOnlyAccess"
	ActionScaleToZero    EnforcementAction = "ScaleToZero"
	ActionIsolateNetwork EnforcementAction = "IsolateNetwork"
)

// EnforcementActions are every action, as the API enum lists them.
var EnforcementActions = []EnforcementAction{
	ActionFreezeChanges, ActionBlockNewWorkloads, ActionRevokeAccess, ActionReadOnlyAccess, ActionScaleToZero, ActionIsolateNetwork,
}

// MaxActions bounds every list of actions: each action at most once.
const MaxActions = 6

// SeverityPoints are the points of an incident of each severity before the
// category weight is applied.
// +kubebuilder:validation:MinProperties=1
type SeverityPoints struct {
	// minor incidents' points.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	Minor *int32 `json:"minor,omitempty"`
	// major incidents' points.
	// +optional
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	Major *int32 `json:"major,omitempty"`
	// critical incidents' points.
	// +optional
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	Critical *int32 `json:"critical,omitempty"`
}

// CategoryWeights multiply an incident's severity points by its category.
// +kubebuilder:validation:MinProperties=1
type CategoryWeights struct {
	// abuse of staff.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	Abuse *int32 `json:"abuse,omitempty"`
	// supportLoad weighs excessive demands on support.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	SupportLoad *int32 `json:"supportLoad,omitempty"`
	// nonPayment of invoices.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	NonPayment *int32 `json:"nonPayment,omitempty"`
	// policyViolation weighs breaking the terms of service.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	PolicyViolation *int32 `json:"policyViolation,omitempty"`
	// poorFit weighs a product that does not serve the customer's needs.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	PoorFit *int32 `json:"poorFit,omitempty"`
	// other incidents.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	Other *int32 `json:"other,omitempty"`
}

// Thresholds are the scores at which each phase is reached.
// +kubebuilder:validation:XValidation:rule="self.warned < self.finalNotice && self.finalNotice < self.terminated",message="thresholds must be strictly ascending: warned < finalNotice < terminated"
type Thresholds struct {
	// warned is the score at which an account is Warned.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100000
	Warned int32 `json:"warned,omitempty"`
	// finalNotice is the score at which an account gets its FinalNotice.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100000
	FinalNotice int32 `json:"finalNotice,omitempty"`
	// terminated is the score at which an account may be Terminated.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100000
	Terminated int32 `json:"terminated,omitempty"`
}

// Enforcement lists the actions in force in each phase. RevokeAccess and
// ReadOnlyAccess exclude each other within a phase: one removes the
// tenant's access, the other keeps it to reading.
// +kubebuilder:validation:MinProperties=1
type Enforcement struct {
	// warned actions; none by default.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=6
	// +kubebuilder:validation:XValidation:rule="!(self.exists(a, a == 'RevokeAccess') && self.exists(a, a == 'ReadOnlyAccess'))",message="RevokeAccess and ReadOnlyAccess exclude each other: choose one per phase"
	Warned []EnforcementAction `json:"warned,omitempty"`
	// finalNotice actions; FreezeChanges by default.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=6
	// +kubebuilder:validation:XValidation:rule="!(self.exists(a, a == 'RevokeAccess') && self.exists(a, a == 'ReadOnlyAccess'))",message="RevokeAccess and ReadOnlyAccess exclude each other: choose one per phase"
	// +kubebuilder:default={FreezeChanges}
	FinalNotice []EnforcementAction `json:"finalNotice,omitempty"`
	// terminated actions; FreezeChanges, RevokeAccess, ScaleToZero,
	// IsolateNetwork and BlockNewWorkloads by default.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=6
	// +kubebuilder:validation:XValidation:rule="!(self.exists(a, a == 'RevokeAccess') && self.exists(a, a == 'ReadOnlyAccess'))",message="RevokeAccess and ReadOnlyAccess exclude each other: choose one per phase"
	// +kubebuilder:default={FreezeChanges,RevokeAccess,ScaleToZero,IsolateNetwork,BlockNewWorkloads}
	Terminated []EnforcementAction `json:"terminated,omitempty"`
}

// Approvals says how many people must approve a termination.
// +kubebuilder:validation:MinProperties=1
type Approvals struct {
	// required is how many distinct people must approve, each during the
	// current FinalNotice and none a reporter of an incident that counts.
	// 1 by default; 0 lets an account be terminated when its notice period
	// is over, with no human decision.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=5
	Required *int32 `json:"required,omitempty"`
}

// Messages are the courteous texts carried in Events and notifications.
// +kubebuilder:validation:MinProperties=1
type Messages struct {
	// warned is sent when an account is Warned.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	Warned string `json:"warned,omitempty"`
	// finalNotice is sent when an account gets its FinalNotice.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	FinalNotice string `json:"finalNotice,omitempty"`
	// terminated is sent on termination and should carry a referral.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	Terminated string `json:"terminated,omitempty"`
	// reinstated is sent when a terminated account is reinstated.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	Reinstated string `json:"reinstated,omitempty"`
}

// Webhook is an outbound endpoint for CloudEvents: https, or plain http to
// a Service in the cluster when inClusterHTTP is Allow.
// +kubebuilder:validation:XValidation:rule="url(self.url).getScheme() == 'https' || (has(self.inClusterHTTP) && self.inClusterHTTP == 'Allow' && url(self.url).getScheme() == 'http' && (url(self.url).getHostname().endsWith('.svc') || url(self.url).getHostname().endsWith('.svc.cluster.local')))",message="webhook url must be an absolute https:// URL, or http:// to a Service in the cluster (a host ending in .svc or .svc.cluster.local) with inClusterHTTP: Allow",fieldPath=".url"
type Webhook struct {
	// url of the endpoint: https, or http to a Service in the cluster (host
	// NAME.NAMESPACE.svc[.cluster.local]) with inClusterHTTP: Allow.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && (url(self).getScheme() == 'https' || url(self).getScheme() == 'http')",message="webhook url must be an absolute https:// URL, or http:// to a Service in the cluster (a host ending in .svc or .svc.cluster.local) with inClusterHTTP: Allow"
	URL string `json:"url,omitempty"`
	// secretRef names a Secret in the operator's namespace whose key "hmacKey"
	// signs deliveries.
	// +optional
	SecretRef *corev1.LocalObjectReference `json:"secretRef,omitempty"`
	// caBundle is the PEM of the certificate authorities trusted for the
	// endpoint's https certificate instead of the system's: for a receiver
	// with a certificate issued in the cluster.
	// +optional
	// +kubebuilder:validation:MaxLength=65536
	CABundle []byte `json:"caBundle,omitempty"`
	// inClusterHTTP says whether a plain http:// url is admitted: Allow
	// admits one, and only to a Service in the cluster (a Knative broker, a
	// receiver behind a mesh), where the traffic never leaves the cluster
	// network; Refuse, the default, admits https only.
	// +optional
	InClusterHTTP InClusterHTTP `json:"inClusterHTTP,omitempty"`
}

// InClusterHTTP says whether a webhook may use plain http to a Service in
// the cluster.
// +kubebuilder:validation:Enum=Allow;Refuse
type InClusterHTTP string

// The InClusterHTTP values.
const (
	// InClusterHTTPAllow admits http:// to a host ending in .svc or
	// .svc.cluster.local.
	InClusterHTTPAllow InClusterHTTP = "Allow"
	// InClusterHTTPRefuse admits https:// only.
	InClusterHTTPRefuse InClusterHTTP = "Refuse"
)

// Notifications configures outbound delivery of transitions.
// +kubebuilder:validation:MinProperties=1
type Notifications struct {
	// webhook delivers CloudEvents over HTTPS.
	// +optional
	Webhook Webhook `json:"webhook,omitempty,omitzero"`
}

// AccountPolicySpec says how much incidents weigh and where the lines are.
type AccountPolicySpec struct {
	// accountSelector selects the accounts that name no policy.
	// +optional
	AccountSelector *metav1.LabelSelector `json:"accountSelector,omitempty"`
	// window is how long incidents count: older ones stop counting. 90 days
	// by default.
	// Go duration syntax, e.g. "2160h".
	// +optional
	// +kubebuilder:default="2160h"
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="window must be a positive duration such as \"2160h\" (hours are the largest unit)"
	Window *metav1.Duration `json:"window,omitempty"`
	// severityPoints per severity; Minor 1, Major 2, Critical 3 by default.
	// +optional
	// +kubebuilder:default={minor: 1, major: 2, critical: 3}
	SeverityPoints SeverityPoints `json:"severityPoints,omitempty,omitzero"`
	// categoryWeights per category; 1 each by default.
	// +optional
	// +kubebuilder:default={abuse: 1, supportLoad: 1, nonPayment: 1, policyViolation: 1, poorFit: 1, other: 1}
	CategoryWeights CategoryWeights `json:"categoryWeights,omitempty,omitzero"`
	// thresholds are the scores at which each phase is reached, strictly
	// ascending and positive.
	// +required
	Thresholds Thresholds `json:"thresholds,omitzero"`
	// noticePeriod is the minimum time in FinalNotice before Terminated.
	// 14 days by default.
	// +optional
	// +kubebuilder:default="336h"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s')",message="noticePeriod must be a non-negative duration such as \"336h\""
	NoticePeriod *metav1.Duration `json:"noticePeriod,omitempty"`
	// approvals says how many people must approve a termination
	// (spec.terminationApprovals on the account): one by default.
	// +optional
	// +kubebuilder:default={required: 1}
	Approvals Approvals `json:"approvals,omitempty,omitzero"`
	// appealWindow is how long after being told a customer may appeal: an
	// undecided appeal of a counted incident keeps the
	// account from being terminated if it was filed within this long after
	// the later of the incident and the start of the account's FinalNotice.
	// 14 days by default; 0 lets no appeal hold termination back.
	// +optional
	// +kubebuilder:default="336h"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s')",message="appealWindow must be a non-negative duration such as \"336h\""
	AppealWindow *metav1.Duration `json:"appealWindow,omitempty"`
	// recoveryPeriod is how long the score must stay below a phase's
	// threshold before the account steps down from it. 0 by default.
	// +optional
	// +kubebuilder:default="0s"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s')",message="recoveryPeriod must be a non-negative duration such as \"72h\""
	RecoveryPeriod *metav1.Duration `json:"recoveryPeriod,omitempty"`
	// enforcement lists the actions in force in each phase.
	// +optional
	// +kubebuilder:default={finalNotice: {FreezeChanges}, terminated: {FreezeChanges, RevokeAccess, ScaleToZero, IsolateNetwork, BlockNewWorkloads}}
	Enforcement Enforcement `json:"enforcement,omitempty,omitzero"`
	// messages are courteous texts carried in Events and notifications.
	// +optional
	Messages Messages `json:"messages,omitempty,omitzero"`
	// notifications configures outbound delivery.
	// +optional
	Notifications Notifications `json:"notifications,omitempty,omitzero"`
	// mode is Enforce, the default, or DryRun: evaluate, report and
	// announce, but enforce nothing.
	// +optional
	// +kubebuilder:default=Enforce
	Mode PolicyMode `json:"mode,omitempty"`
	// dryRun is refused: mode replaced it. It is kept in the schema only so
	// that a policy still written with it is refused with a message, not
	// stored with the field dropped, which would turn a dryRun: true policy
	// into one that enforces.
	// +optional
	// +kubebuilder:validation:XValidation:rule="false",message="dryRun was replaced by mode: write mode: DryRun (or mode: Enforce) and remove dryRun"
	DeprecatedDryRun *bool `json:"dryRun,omitempty"`
}

// PolicyMode says whether a policy's restrictions are applied.
// +kubebuilder:validation:Enum=Enforce;DryRun
type PolicyMode string

// The policy modes.
const (
	// ModeEnforce applies the restrictions of each phase.
	ModeEnforce PolicyMode = "Enforce"
	// ModeDryRun evaluates, reports and announces, and applies nothing:
	// status.namespaces says what would be in force.
	ModeDryRun PolicyMode = "DryRun"
)

// PhaseCounts counts governed accounts per phase.
// +kubebuilder:validation:MinProperties=1
type PhaseCounts struct {
	// good accounts.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Good *int32 `json:"good,omitempty"`
	// warned accounts.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Warned *int32 `json:"warned,omitempty"`
	// finalNotice accounts.
	// +optional
	// +kubebuilder:validation:Minimum=0
	FinalNotice *int32 `json:"finalNotice,omitempty"`
	// terminated accounts.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Terminated *int32 `json:"terminated,omitempty"`
}

// AccountPolicyStatus is written by the operator.
// +kubebuilder:validation:MinProperties=1
type AccountPolicyStatus struct {
	// conditions are Ready (the policy is usable, or why not).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// observedGeneration is the generation last evaluated.
	// +optional
	// +kubebuilder:validation:Minimum=1
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// accounts is the number of accounts this policy governs.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Accounts *int32 `json:"accounts,omitempty"`
	// phases counts governed accounts per phase.
	// +optional
	Phases PhaseCounts `json:"phases,omitempty,omitzero"`
}

// AccountPolicy weighs incidents against thresholds for the accounts it
// governs and says what is enforced in each phase.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=apol
// +kubebuilder:printcolumn:name="Warned",type=integer,JSONPath=`.spec.thresholds.warned`
// +kubebuilder:printcolumn:name="FinalNotice",type=integer,JSONPath=`.spec.thresholds.finalNotice`
// +kubebuilder:printcolumn:name="Terminated",type=integer,JSONPath=`.spec.thresholds.terminated`
// +kubebuilder:printcolumn:name="Accounts",type=integer,JSONPath=`.status.accounts`
// +kubebuilder:printcolumn:name="Mode",type=string,JSONPath=`.spec.mode`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AccountPolicy struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the policy.
	// +required
	Spec AccountPolicySpec `json:"spec,omitzero"`
	// status is written by the operator.
	// +optional
	Status AccountPolicyStatus `json:"status,omitempty,omitzero"`
}

// AccountPolicyList is a list of AccountPolicies.
// +kubebuilder:object:root=true
type AccountPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AccountPolicy `json:"items"`
}
