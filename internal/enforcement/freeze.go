package enforcement

import (
	"context"
	"fmt"

	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// FreezeChanges is the namespace label accounts.lifecycle.dev/frozen=true;
// the ValidatingAdmissionPolicy shipped in config/admission does the rest.

func (r *nsRun) frozen() bool { return r.ns.Labels[v1alpha1.LabelFrozen] == "true" }

func (e *Enforcer) frozenInForce(_ context.Context, r *nsRun) (bool, error) {
	return r.frozen(), nil
}

func (e *Enforcer) freeze(ctx context.Context, r *nsRun) error {
	return e.setLabels(ctx, r, r.phase, ptr.To(true))
}

func (e *Enforcer) unfreeze(ctx context.Context, r *nsRun) error {
	return e.setLabels(ctx, r, r.phase, ptr.To(false))
}

// setLabels brings the operator's labels on the namespace to phase ("":
// absent) and frozen (nil: leave as it is) in a single write, and only
// writes when something differs.
func (e *Enforcer) setLabels(ctx context.Context, r *nsRun, phase string, frozen *bool) error {
	labels := r.ns.Labels
	curPhase, hasPhase := labels[v1alpha1.LabelPhase]
	curFrozen, hasFrozen := labels[v1alpha1.LabelFrozen]
	phaseOK := (phase == "" && !hasPhase) || (phase != "" && curPhase == phase)
	frozenOK := frozen == nil || (*frozen && curFrozen == "true") || (!*frozen && !hasFrozen)
	if phaseOK && frozenOK {
		return nil
	}
	wasFrozen := r.frozen()
	ns := r.ns.DeepCopy()
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	if phase == "" {
		delete(ns.Labels, v1alpha1.LabelPhase)
	} else {
		ns.Labels[v1alpha1.LabelPhase] = phase
	}
	if frozen != nil {
		if *frozen {
			ns.Labels[v1alpha1.LabelFrozen] = "true"
		} else {
			delete(ns.Labels, v1alpha1.LabelFrozen)
		}
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
