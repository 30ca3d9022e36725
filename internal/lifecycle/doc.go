// Package lifecycle is the pure lifecycle engine of account-lifecycle-operator.
// Given a CustomerAccount, its AccountPolicy and a moment, Evaluate decides
// the account's phase, score and conditions, and the next moment that outcome
// can change with no edit. It has no client and no clock, so the reconciler,
// `kubectl account explain` and `kubectl account simulate` share one set of
// rules.
//
// Unset policy fields take the API server's defaults (v1alpha1's Effective*
// and For helpers), so policies read from files evaluate as they would in the
// cluster; CheckPolicy reports what the schema would have rejected.
//
// Decisions taken where SPEC.md is silent:
//
//   - An incident counts from occurredAt (inclusive) until occurredAt+window
//     (exclusive): one exactly at now-window no longer counts.
//   - A reinstatement cuts incidents that occurred before reinstatement.at
//     from that moment on; one exactly at `at` counts. A reinstatement dated
//     in the future does not erase the ledger early.
//   - A waived incident never counts now. When deriving past scores (for the
//     recovery period) it counted until min(waiver.at, now), so a waiver
//     starts the recovery clock when it is given, not retroactively; a
//     waiver dated in the future starts it on that date. A
//     consequence: recording an already-waived, backdated incident can hold
//     back a step down that was otherwise due, never cause an escalation.
//   - The moment the score fell below a threshold is derived from the ledger.
//     If the ledger says it never reached it (e.g. thresholds were raised),
//     the recovery period is treated as served.
//   - A new account (empty phase) is Good since its creationTimestamp; a
//     recorded phase without phaseSince is treated as entered now, which
//     restarts any notice period rather than cutting it short.
//   - Reinstatement produces one transition, From Terminated To the phase
//     the fresh ledger warrants (Good unless incidents since `at` reach a
//     threshold and no hold is active; never Terminated). Whenever another
//     transition is due at the same instant (e.g. noticePeriod 0), the
//     Decision's NextEvaluation is now, so the reconciler requeues at once.
//   - While held, TerminationPending may carry reason HoldActive when the
//     hold is the only thing termination waits for.
//   - PrimaryConcern is "" when the score is 0.
package lifecycle
