package enforcement

import (
	"context"
	"fmt"
	"time"

	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// AnnotationPhaseSince on a tenant Namespace is when its account entered
// the phase of the phase label (RFC 3339): with the label, what an account
// whose status was lost resumes from.
const AnnotationPhaseSince = "accounts.lifecycle.dev/phase-since"

// FreezeChanges is the namespace label accounts.lifecycle.dev/frozen=true;
// the ValidatingAdmissionPolicy shipped in config/admission does the rest.
// The Namespace itself is watched by the account controller, so it has no
// kinds of its own to watch. The enforcer lifts it last, once every other
// reversal succeeded (enforcer.go), so tenants never act on a
// half-restored namespace.
type freezeChanges struct{}

func (freezeChanges) Name() v1alpha1.EnforcementAction { return v1alpha1.ActionFreezeChanges }

func (freezeChanges) Watched() []client.Object { return nil }

func (freezeChanges) InForce(_ context.Context, _ *Enforcer, r *nsRun) (bool, error) {
	return r.frozen(), nil
}

func (freezeChanges) Apply(ctx context.Context, e *Enforcer, r *nsRun) error {
	return e.setLabels(ctx, r, r.phase, ptr.To(true), keepMark)
}

func (freezeChanges) Revert(ctx context.Context, e *Enforcer, r *nsRun) error {
	return e.setLabels(ctx, r, r.phase, ptr.To(false), keepMark)
}

func (r *nsRun) frozen() bool { return r.ns.Labels[v1alpha1.LabelFrozen] == "true" }

// setLabels brings the operator's labels on the namespace to phase ("":
// absent, with the enforced-for label) and frozen (nil: leave as it is),
// and its in-force mark to mark (keepMark: leave it), in a single write,
// and only writes when something differs.
func (e *Enforcer) setLabels(ctx context.Context, r *nsRun, phase string, frozen *bool, mark markUpdate) error {
	want := map[string]*string{v1alpha1.LabelPhase: nil, v1alpha1.LabelEnforcedFor: nil}
	if phase != "" {
		want[v1alpha1.LabelPhase], want[v1alpha1.LabelEnforcedFor] = &phase, &r.account.Name
	}
	since := ""
	if s := r.account.Status.PhaseSince; phase != "" && s != nil && string(r.account.Status.Phase) == phase {
		since = s.UTC().Format(time.RFC3339)
	}
	if frozen != nil {
		want[v1alpha1.LabelFrozen] = nil
		if *frozen {
			want[v1alpha1.LabelFrozen] = ptr.To("true")
		}
	}
	curMark, hasMark := r.ns.Annotations[AnnotationInForce]
	same := r.ns.Annotations[AnnotationPhaseSince] == since &&
		(mark.keep || mark.remove && !hasMark || !mark.remove && hasMark && curMark == mark.value)
	for k, v := range want {
		cur, ok := r.ns.Labels[k]
		same = same && (v == nil && !ok || v != nil && ok && cur == *v)
	}
	if same {
		return nil
	}
	wasFrozen := r.frozen()
	ns := r.ns.DeepCopy()
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	for k, v := range want {
		if v == nil {
			delete(ns.Labels, k)
		} else {
			ns.Labels[k] = *v
		}
	}
	if ns.Annotations == nil {
		ns.Annotations = map[string]string{}
	}
	if since == "" {
		delete(ns.Annotations, AnnotationPhaseSince)
	} else {
		ns.Annotations[AnnotationPhaseSince] = since
	}
	switch {
	case mark.remove:
		delete(ns.Annotations, AnnotationInForce)
	case !mark.keep:
		ns.Annotations[AnnotationInForce] = mark.value
	}
	// The optimistic lock makes a concurrent label change a conflict to
	// retry rather than something silently overwritten.
	patch := client.MergeFromWithOptions(r.ns, client.MergeFromWithOptimisticLock{})
	if err := e.Client.Patch(ctx, ns, patch); err != nil {
		return fmt.Errorf("labelling namespace: %w", err)
	}
	r.ns = ns
	switch nowFrozen := r.frozen(); {
	case nowFrozen && !wasFrozen:
		r.put = append(r.put, string(v1alpha1.ActionFreezeChanges))
	case !nowFrozen && wasFrozen:
		r.reversed = append(r.reversed, string(v1alpha1.ActionFreezeChanges))
	}
	return nil
}
