package enforcement

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/text"
)

// maxEvent keeps event messages within events.k8s.io's 1 kB note.
const maxEvent = 1024

// add reports one namespace: its status entry and the events worth emitting.
func (res *Result) add(r *nsRun) {
	st := v1alpha1.NamespaceStatus{Name: r.ns.Name, Actions: ordered(r.inForce)}
	if r.dry {
		st.Actions = r.would
	}
	if len(r.inForce) > 0 {
		res.Restricted = true
	}
	parts := append([]string(nil), r.notes...)
	for _, w := range r.warnings {
		parts = append(parts, w.message)
	}
	st.Message = text.Truncate(strings.Join(parts, "; "), maxMessage)
	res.Namespaces = append(res.Namespaces, st)
	res.announce(r)
}

// announce adds the events for what one namespace's run changed.
func (res *Result) announce(r *nsRun) {
	if len(r.put) > 0 || len(r.reversed) > 0 {
		res.Changed = true
	}
	who := fmt.Sprintf("account %s", r.account.Name)
	if r.phase != "" {
		who += " is " + r.phase
	}
	if len(r.put) > 0 {
		res.event(r.ns.Name, corev1.EventTypeNormal, v1alpha1.ReasonAccessRestricted,
			fmt.Sprintf("%s: put in force in namespace %s: %s", who, r.ns.Name, strings.Join(r.put, "; ")))
	}
	if len(r.reversed) > 0 {
		res.event(r.ns.Name, corev1.EventTypeNormal, v1alpha1.ReasonAccessRestored,
			fmt.Sprintf("%s: lifted in namespace %s: %s", who, r.ns.Name, strings.Join(r.reversed, "; ")))
	}
	for _, w := range r.warnings {
		if w.persistent && alreadyReported(r.account, r.ns.Name, w.message) {
			continue
		}
		res.event(r.ns.Name, corev1.EventTypeWarning, w.reason, w.message)
	}
}

func (res *Result) event(ns, typ, reason, msg string) {
	res.Events = append(res.Events, Event{Namespace: ns, Type: typ, Reason: reason, Message: text.Truncate(msg, maxEvent)})
}

// alreadyReported: the account's status already carries msg for ns, so the
// warning was announced when the status was written and is not repeated.
func alreadyReported(account *v1alpha1.CustomerAccount, ns, msg string) bool {
	for _, st := range account.Status.Namespaces {
		if st.Name == ns {
			return strings.Contains(st.Message, msg)
		}
	}
	return false
}
