package controller

import (
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/enforcement"
	"github.com/accountops/account-lifecycle-operator/internal/lifecycle"
	"github.com/accountops/account-lifecycle-operator/internal/text"
)

// maxHistory bounds status.history (newest first) as the CRD does, so a
// long-lived account never fails its status write.
const maxHistory = v1alpha1.MaxHistory

// recordDecision copies the engine's decision into the account status. It
// returns the history entry it added for a transition (nil: none) and the
// entries trimmed to make room for it.
func recordDecision(status *v1alpha1.CustomerAccountStatus, policy *v1alpha1.AccountPolicy, d lifecycle.Decision, now time.Time) (added *v1alpha1.Transition, trimmed []v1alpha1.Transition) {
	status.Policy = policy.Name
	status.Phase = d.Phase
	if !d.PhaseSince.IsZero() {
		since := metav1.NewTime(d.PhaseSince.Truncate(time.Second))
		if status.PhaseSince == nil || !status.PhaseSince.Equal(&since) {
			status.PhaseSince = &since
		}
	}
	status.Score = ptr.To(d.Score)
	status.Thresholds = d.Thresholds
	status.CountedIncidents = ptr.To(d.Counted)
	status.VendorIncidents = ptr.To(d.Vendor)
	status.WaivedIncidents = ptr.To(d.Waived)
	status.PrimaryConcern = d.PrimaryConcern
	status.ApprovalObservations = d.ApprovalObservations
	status.NextEvaluation = nil
	if d.NextEvaluation != nil {
		// metav1.Time serializes whole seconds; round up so the stored value is
		// never before the real moment (requeue uses the exact one).
		next := metav1.NewTime(v1alpha1.CeilSecond(*d.NextEvaluation))
		status.NextEvaluation = &next
	}
	for _, c := range d.Conditions {
		meta.SetStatusCondition(&status.Conditions, c)
	}
	if t := d.Transition; t != nil {
		entry := v1alpha1.Transition{
			From:    t.From,
			To:      t.To,
			At:      metav1.NewTime(now.Truncate(time.Second)),
			Score:   ptr.To(d.Score),
			Reason:  t.Reason,
			Message: text.Truncate(t.Message, 2048),
		}
		status.History = append([]v1alpha1.Transition{entry}, status.History...)
		if len(status.History) > maxHistory {
			trimmed = status.History[maxHistory:]
			status.History = status.History[:maxHistory]
		}
		added = &status.History[0]
	}
	return added, trimmed
}

// recordEnforcement copies the enforcement result into the account status.
func recordEnforcement(status *v1alpha1.CustomerAccountStatus, res enforcement.Result, dryRun bool, dryRunReason string) {
	status.Namespaces, status.NamespaceSummary = boundNamespaces(res.Namespaces)
	cond := metav1.Condition{Type: v1alpha1.ConditionAccessRestricted}
	switch {
	case res.Restricted:
		cond.Status = metav1.ConditionTrue
		cond.Reason = v1alpha1.ReasonRestricted
		cond.Message = "enforcement actions are in force on the account's namespaces; see status.namespaces"
	case dryRun && dryRunReason == dryRunExempt:
		cond.Status = metav1.ConditionFalse
		cond.Reason = v1alpha1.ReasonExempt
		cond.Message = "the account is exempt: nothing is enforced; status.namespaces shows what would be in force"
	case dryRun:
		cond.Status = metav1.ConditionFalse
		cond.Reason = v1alpha1.ReasonDryRun
		cond.Message = "the policy is in dry run: nothing is enforced; status.namespaces shows what would be in force"
	default:
		cond.Status = metav1.ConditionFalse
		cond.Reason = v1alpha1.ReasonUnrestricted
		cond.Message = "no enforcement action is in force"
	}
	meta.SetStatusCondition(&status.Conditions, cond)
}

// maxNamespaces is the CRD's bound on status.namespaces: an account may
// have any number of namespaces, but its status must always be writable.
const maxNamespaces = v1alpha1.MaxStatusNamespaces

// boundNamespaces keeps at most maxNamespaces entries, those with a message
// first (they are what a human must see), then by name, and counts all.
func boundNamespaces(all []v1alpha1.NamespaceStatus) ([]v1alpha1.NamespaceStatus, *v1alpha1.NamespaceSummary) {
	if len(all) == 0 {
		return nil, nil
	}
	var restricted, withMessages int32
	for _, st := range all {
		if len(st.Actions) > 0 {
			restricted++
		}
		if st.Message != "" {
			withMessages++
		}
	}
	sum := &v1alpha1.NamespaceSummary{Total: ptr.To(int32(len(all))), Restricted: &restricted, WithMessages: &withMessages, Omitted: ptr.To[int32](0)}
	if len(all) <= maxNamespaces {
		return all, sum
	}
	ordered := slices.Clone(all)
	slices.SortStableFunc(ordered, func(a, b v1alpha1.NamespaceStatus) int {
		if (a.Message != "") != (b.Message != "") {
			if a.Message != "" {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	kept := ordered[:maxNamespaces]
	slices.SortFunc(kept, func(a, b v1alpha1.NamespaceStatus) int { return strings.Compare(a.Name, b.Name) })
	sum.Omitted = ptr.To(int32(len(all) - maxNamespaces))
	return kept, sum
}

func setReady(status *v1alpha1.CustomerAccountStatus, ok bool, reason, msg string) {
	c := metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: reason, Message: text.Truncate(msg, 32768)}
	if !ok {
		c.Status = metav1.ConditionFalse
	}
	meta.SetStatusCondition(&status.Conditions, c)
}
