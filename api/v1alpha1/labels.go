package v1alpha1

// Labels and annotations the operator reads and writes. They live in the API
// package because users, the admission policy and the CLI depend on them too.
const (
	// LabelAccount on a Namespace names the CustomerAccount that owns it.
	LabelAccount = "accounts.lifecycle.dev/account"
	// LabelPhase on a tenant Namespace mirrors its account's phase.
	LabelPhase = "accounts.lifecycle.dev/phase"
	// LabelEnforcedFor on a Namespace names the account whose enforcement
	// labelled it, so a namespace relabelled away is found and restored
	// even if the account's status never recorded it.
	LabelEnforcedFor = "accounts.lifecycle.dev/enforced-for"
	// LabelFrozen on a tenant Namespace makes the shipped
	// ValidatingAdmissionPolicy deny changes in it.
	LabelFrozen = "accounts.lifecycle.dev/frozen"
	// LabelProtected on a Namespace keeps the operator's hands off it.
	LabelProtected = "accounts.lifecycle.dev/protected"
	// LabelKeep on a RoleBinding keeps RevokeAccess from removing it.
	LabelKeep = "accounts.lifecycle.dev/keep"
	// LabelExempt on a CustomerAccount: evaluated and reported, never enforced.
	LabelExempt = "accounts.lifecycle.dev/exempt"
	// LabelManaged marks objects the operator created (quota, network policy,
	// records) so they can be found and removed exactly.
	LabelManaged = "accounts.lifecycle.dev/managed-by"

	// Finalizer on a CustomerAccount: restore its namespaces before deletion.
	Finalizer = "accounts.lifecycle.dev/restore"
)
