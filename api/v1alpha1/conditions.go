package v1alpha1

// Condition types on CustomerAccount and AccountPolicy status.
const (
	// ConditionReady: the account was evaluated against a usable policy (or,
	// on a policy, the policy is usable).
	ConditionReady = "Ready"
	// ConditionAccessRestricted: some enforcement action is in force.
	ConditionAccessRestricted = "AccessRestricted"
	// ConditionTerminationPending: in FinalNotice, with the score reaching the
	// termination threshold, waiting for the notice period or an approval.
	ConditionTerminationPending = "TerminationPending"
	// ConditionHeld: a hold is pausing escalation.
	ConditionHeld = "Held"
	// ConditionOrphanedRecords: the operator keeps records of objects it set
	// aside in namespaces that no longer exist (or were replaced by another
	// namespace of the same name), so they can never be restored. An
	// administrator reviews and deletes them.
	ConditionOrphanedRecords = "OrphanedRecords"
)

// Condition reasons.
const (
	// ReasonEvaluated: Ready=True, the account was evaluated.
	ReasonEvaluated = "Evaluated"
	// ReasonNoPolicy: Ready=False, no policy governs the account.
	ReasonNoPolicy = "NoPolicy"
	// ReasonPolicyConflict: Ready=False, several policies select the account.
	ReasonPolicyConflict = "PolicyConflict"
	// ReasonPolicyNotReady: Ready=False, the governing policy is unusable.
	ReasonPolicyNotReady = "PolicyNotReady"
	// ReasonEnforcementFailed: Ready=False, enforcement could not complete.
	ReasonEnforcementFailed = "EnforcementFailed"
	// ReasonDeletionBlocked: Ready=False, the account is being deleted but
	// its namespaces could not all be restored yet.
	ReasonDeletionBlocked = "DeletionBlocked"
	// ReasonNoticePeriod: TerminationPending, the notice period is running.
	ReasonNoticePeriod = "NoticePeriod"
	// ReasonAwaitingApproval: TerminationPending, waiting for approval.
	ReasonAwaitingApproval = "AwaitingApproval"
	// ReasonNotPending: TerminationPending=False.
	ReasonNotPending = "NotPending"
	// ReasonHoldActive: Held=True; also TerminationPending=True when a hold
	// is the only thing termination waits for.
	ReasonHoldActive = "HoldActive"
	// ReasonNoHold: Held=False.
	ReasonNoHold = "NoHold"
	// ReasonRestricted: AccessRestricted=True.
	ReasonRestricted = "Restricted"
	// ReasonUnrestricted: AccessRestricted=False.
	ReasonUnrestricted = "Unrestricted"
	// ReasonDryRun: AccessRestricted=False, actions would be in force.
	ReasonDryRun = "DryRun"
	// ReasonExempt: AccessRestricted=False, the account is exempt.
	ReasonExempt = "Exempt"
	// ReasonRecordsOrphaned: OrphanedRecords=True.
	ReasonRecordsOrphaned = "RecordsOrphaned"
	// ReasonNoOrphans: OrphanedRecords=False.
	ReasonNoOrphans = "NoOrphans"
	// ReasonPolicyValid: policy Ready=True.
	ReasonPolicyValid = "Valid"
	// ReasonPolicyInvalid: policy Ready=False.
	ReasonPolicyInvalid = "Invalid"
)
