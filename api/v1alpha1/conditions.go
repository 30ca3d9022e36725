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
	// ReasonAppealPending: TerminationPending, a counted incident's appeal
	// waits for a decision.
	ReasonAppealPending = "AppealPending"
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
	// ReasonPolicyValid: policy Ready=True.
	ReasonPolicyValid = "Valid"
	// ReasonPolicyInvalid: policy Ready=False.
	ReasonPolicyInvalid = "Invalid"
)

// Transition reasons: status.history[].reason and the transition Events.
const (
	// ReasonEscalated: the score reached a higher phase's threshold.
	ReasonEscalated = "Escalated"
	// ReasonTerminated: FinalNotice ended in termination.
	ReasonTerminated = "Terminated"
	// ReasonRecovered: the score stayed below a threshold for the recovery
	// period and the account stepped down.
	ReasonRecovered = "Recovered"
	// ReasonReinstated: a reinstatement lifted Terminated.
	ReasonReinstated = "Reinstated"
)

// Reasons of the Events about enforcement in a namespace.
const (
	// ReasonAccessRestricted: actions were put in force in a namespace.
	ReasonAccessRestricted = "AccessRestricted"
	// ReasonAccessRestored: actions no longer in force were reversed.
	ReasonAccessRestored = "AccessRestored"
	// ReasonProtectedNamespace: a protected namespace is labelled for the
	// account and was left alone.
	ReasonProtectedNamespace = "ProtectedNamespace"
	// ReasonRestoreConflict: something changed by someone else while
	// restricted was left as they made it.
	ReasonRestoreConflict = "RestoreConflict"
	// ReasonRevokeIncomplete: a RoleBinding the operator could not recreate
	// was kept rather than removed.
	ReasonRevokeIncomplete = "RevokeIncomplete"
	// ReasonRecreatedWhileRevoked: a different RoleBinding was created under
	// a recorded name while access was revoked, and was removed again.
	ReasonRecreatedWhileRevoked = "RecreatedWhileRevoked"
	// ReasonDriftCorrected: something held by an action was changed by
	// someone the freeze admits and was held again.
	ReasonDriftCorrected = "DriftCorrected"
	// ReasonRecordsLost: records of objects set aside are missing, so those
	// objects cannot be restored.
	ReasonRecordsLost = "RecordsLost"
	// ReasonRecordsDiscarded: records of objects set aside in a namespace
	// that was deleted (whether or not another namespace now has its name)
	// could never be restored, and were deleted.
	ReasonRecordsDiscarded = "RecordsDiscarded"
)

// Reasons of notification and decision Events.
const (
	// ReasonNotificationFailed: a delivery attempt failed; it is retried.
	ReasonNotificationFailed = "NotificationFailed"
	// ReasonNotificationDelivered: the webhook accepted the notification.
	ReasonNotificationDelivered = "NotificationDelivered"
	// ReasonNotificationDropped: a pending notification left the bounded
	// history undelivered.
	ReasonNotificationDropped = "NotificationDropped"
	// ReasonNotificationAbandoned: the endpoint answered 410 Gone, so
	// delivery of the notification stopped.
	ReasonNotificationAbandoned = "NotificationAbandoned"
	// ReasonDecisionIgnored: a human decision recorded on the account has
	// no effect (see the engine's Decision.Ignored).
	ReasonDecisionIgnored = "DecisionIgnored"
	// ReasonStateRecovered: the account's status had lost its phase, which
	// was recovered from its namespaces.
	ReasonStateRecovered = "StateRecovered"
)
