// Package slim shapes what the manager's cache keeps of each object. The
// cache holds every CustomerAccount in the cluster for as long as the
// operator runs, so at thousands of accounts its size is the operator's
// memory: what a decoded object wastes (spare slice capacity, a fresh copy
// of the same few strings in every incident) is paid once per account.
// Nothing is dropped that the operator reads, and every object keeps its
// exact content: a cached object is only ever read (Get returns a copy).
package slim

import (
	"unique"

	"k8s.io/apimachinery/pkg/api/meta"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// Transform is the cache transform for every kind: managed fields are
// dropped (the operator never reads them, and they are often the larger
// part of an object), and a CustomerAccount is compacted.
func Transform() toolscache.TransformFunc {
	return func(obj any) (any, error) {
		// Only when set, as controller-runtime's TransformStripManagedFields
		// does (kubernetes/kubernetes#124337).
		if o, err := meta.Accessor(obj); err == nil && o.GetManagedFields() != nil {
			o.SetManagedFields(nil)
		}
		if a, ok := obj.(*v1alpha1.CustomerAccount); ok {
			Account(a)
		}
		return obj, nil
	}
}

// Account compacts a in place: every list to its length, and the strings
// that repeat across incidents, history entries and conditions (enum
// values, who recorded what) shared instead of copied.
func Account(a *v1alpha1.CustomerAccount) {
	a.Spec.Incidents = exact(a.Spec.Incidents)
	for i := range a.Spec.Incidents {
		inc := &a.Spec.Incidents[i]
		inc.Category = intern(inc.Category)
		inc.Severity = intern(inc.Severity)
		inc.Attribution = intern(inc.Attribution)
		inc.ReportedBy = intern(inc.ReportedBy)
		inc.RelayedBy = intern(inc.RelayedBy)
		if w := inc.Waiver; w.IsDefined() {
			w.By = intern(w.By)
		}
		if ap := inc.Appeal; ap.IsDefined() && ap.Decision.IsDefined() {
			ap.Decision.By = intern(ap.Decision.By)
			ap.Decision.Outcome = intern(ap.Decision.Outcome)
		}
	}
	a.Spec.TerminationApprovals = exact(a.Spec.TerminationApprovals)
	st := &a.Status
	st.Phase = intern(st.Phase)
	st.PrimaryConcern = intern(st.PrimaryConcern)
	st.ApprovalObservations = exact(st.ApprovalObservations)
	st.History = exact(st.History)
	for i := range st.History {
		h := &st.History[i]
		h.From, h.To, h.Reason = intern(h.From), intern(h.To), intern(h.Reason)
		h.Notifications = exact(h.Notifications)
		for j := range h.Notifications {
			n := &h.Notifications[j]
			n.Sink, n.State = intern(n.Sink), intern(n.State)
		}
	}
	st.Conditions = exact(st.Conditions)
	for i := range st.Conditions {
		c := &st.Conditions[i]
		c.Type, c.Reason, c.Status = intern(c.Type), intern(c.Reason), intern(c.Status)
		if c.Type != v1alpha1.ConditionReady {
			// The other conditions' messages are a few fixed sentences,
			// the same in most accounts; Ready's explains this account.
			c.Message = intern(c.Message)
		}
	}
	st.Namespaces = exact(st.Namespaces)
	for i := range st.Namespaces {
		st.Namespaces[i].Actions = exact(st.Namespaces[i].Actions)
	}
}

// exact is s in a backing array of its length, or s itself when it has no
// spare capacity.
func exact[S ~[]E, E any](s S) S {
	if cap(s) == len(s) {
		return s
	}
	if len(s) == 0 {
		return make(S, 0) // no backing array kept
	}
	out := make(S, len(s))
	copy(out, s)
	return out
}

// intern returns the canonical copy of s.
func intern[T ~string](s T) T {
	if s == "" {
		return s
	}
	return T(unique.Make(string(s)).Value())
}
