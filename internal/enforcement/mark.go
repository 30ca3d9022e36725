package enforcement

import (
	"strings"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// AnnotationInForce on a tenant Namespace lists the actions that may be in
// force there (comma-separated, in order; empty: none). It grows before an
// action is put in force and shrinks only once an action is lifted, so it
// never lists less than the truth, and reversing only what it lists makes
// a namespace with nothing in force cost no reads. Absent means unknown (a
// namespace from before this annotation, or one whose annotation someone
// removed): every action is then reversed, as before.
const AnnotationInForce = "accounts.lifecycle.dev/in-force"

// markUpdate says what to do with the in-force mark.
type markUpdate struct {
	keep, remove bool
	value        string
}

var (
	keepMark   = markUpdate{keep: true}
	removeMark = markUpdate{remove: true}
)

func setMark(actions map[v1alpha1.EnforcementAction]bool) markUpdate {
	return markUpdate{value: joinOr(ordered(actions), "")}
}

// markedInForce is the set the mark lists, and whether there is a mark.
func (r *nsRun) markedInForce() (map[v1alpha1.EnforcementAction]bool, bool) {
	raw, ok := r.ns.Annotations[AnnotationInForce]
	if !ok {
		return nil, false
	}
	out := map[v1alpha1.EnforcementAction]bool{}
	for _, a := range strings.Split(raw, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out[v1alpha1.EnforcementAction(a)] = true
		}
	}
	return out, true
}

func union(a, b map[v1alpha1.EnforcementAction]bool) map[v1alpha1.EnforcementAction]bool {
	out := map[v1alpha1.EnforcementAction]bool{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = out[k] || v
	}
	return out
}
