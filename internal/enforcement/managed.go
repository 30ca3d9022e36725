package enforcement

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// managedObject is an object whose presence is the action (the quota of
// BlockNewWorkloads, the network policy of IsolateNetwork). Its fixed name
// and managed-by label make it discoverable, and only an object carrying
// the label is ever replaced or removed. Someone else's object squatting on
// the name (a tenant preparing to dodge the action) is recorded and set
// aside while the action is in force, and restored exactly after.
type managedObject struct {
	action    v1alpha1.EnforcementAction
	kind      string
	name      string
	empty     func() client.Object
	desired   func(r *nsRun) client.Object
	sameSpec  func(cur, want client.Object) bool
	squatters recordKind
}

// managedAction is an action whose presence is one managedObject.
type managedAction struct{ obj managedObject }

func (m managedAction) Name() v1alpha1.EnforcementAction { return m.obj.action }

func (m managedAction) Watched() []client.Object { return []client.Object{m.obj.empty()} }

func (m managedAction) InForce(ctx context.Context, e *Enforcer, r *nsRun) (bool, error) {
	return e.present(ctx, r, m.obj)
}

func (m managedAction) Apply(ctx context.Context, e *Enforcer, r *nsRun) error {
	return e.ensure(ctx, r, m.obj)
}

func (m managedAction) Revert(ctx context.Context, e *Enforcer, r *nsRun) error {
	return e.remove(ctx, r, m.obj)
}

func managedLabels(r *nsRun) map[string]string {
	return map[string]string{
		v1alpha1.LabelManaged: ManagedBy,
		v1alpha1.LabelAccount: r.account.Name,
	}
}

func isManaged(obj client.Object) bool {
	return obj.GetLabels()[v1alpha1.LabelManaged] == ManagedBy
}

func (e *Enforcer) getManaged(ctx context.Context, r *nsRun, m managedObject) (client.Object, error) {
	cur := m.empty()
	if !e.mayExist(ctx, cur, r.ns.Name, m.name) {
		return nil, nil
	}
	err := e.Client.Get(ctx, client.ObjectKey{Namespace: r.ns.Name, Name: m.name}, cur)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s %s: %w", m.kind, m.name, err)
	}
	return cur, nil
}

func (e *Enforcer) present(ctx context.Context, r *nsRun, m managedObject) (bool, error) {
	cur, err := e.getManaged(ctx, r, m)
	return cur != nil && isManaged(cur), err
}

// ensure creates the object, or replaces ours if someone changed its spec.
// Creation and deletion only: the operator is granted no update on these.
func (e *Enforcer) ensure(ctx context.Context, r *nsRun, m managedObject) error {
	want := m.desired(r)
	cur, err := e.getManaged(ctx, r, m)
	if err != nil {
		return err
	}
	note := string(m.action)
	if cur != nil && !isManaged(cur) {
		if err := e.setAsideSquatter(ctx, r, m, cur); err != nil {
			return err
		}
		note += fmt.Sprintf(" (set aside a %s of the same name that the operator did not create; it is restored when %s is lifted)", m.kind, m.action)
		cur = nil
	}
	if cur != nil {
		if m.sameSpec(cur, want) {
			return nil
		}
		if err := e.deleteExact(ctx, cur); err != nil {
			return fmt.Errorf("replacing modified %s %s: %w", m.kind, m.name, err)
		}
		note += fmt.Sprintf(" (replaced a modified %s)", m.kind)
	}
	if err := e.Client.Create(ctx, want); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating %s %s: %w", m.kind, m.name, err)
	}
	r.put = append(r.put, note)
	return nil
}

// remove deletes the object if the operator created it, then restores a
// squatter it had set aside.
func (e *Enforcer) remove(ctx context.Context, r *nsRun, m managedObject) error {
	cur, err := e.getManaged(ctx, r, m)
	if err != nil {
		return err
	}
	if cur != nil && isManaged(cur) {
		if err := e.deleteExact(ctx, cur); err != nil {
			return fmt.Errorf("removing %s %s: %w", m.kind, m.name, err)
		}
		r.reversed = append(r.reversed, string(m.action))
	}
	recs, err := e.readRecords(ctx, r, m.squatters)
	if err != nil {
		return err
	}
	squatter, ok := recs[m.name]
	if !ok {
		return nil
	}
	_, err = e.restoreRecorded(ctx, r, m.squatters, records{m.name: squatter}, func(string, client.Object) {
		r.warn(v1alpha1.ReasonRestoreConflict, "%s %s, set aside by %s, was not restored: another object of that name exists now", m.kind, m.name, m.action)
	})
	return err
}

// setAsideSquatter records and removes an object that is not the operator's
// but has the name of the one an action needs.
func (e *Enforcer) setAsideSquatter(ctx context.Context, r *nsRun, m managedObject, cur client.Object) error {
	recs, err := e.readRecords(ctx, r, m.squatters)
	if err != nil {
		return err
	}
	if _, err := e.record(ctx, r, m.squatters, recs, cur); err != nil {
		return err
	}
	if err := e.setAside(ctx, cur); err != nil {
		return fmt.Errorf("setting aside the %s %s the operator did not create: %w", m.kind, m.name, err)
	}
	return nil
}

// deleteExact deletes obj only if it is still the version read, so nothing
// changed since is removed unseen; already gone is fine.
func (e *Enforcer) deleteExact(ctx context.Context, obj client.Object) error {
	uid, rv := obj.GetUID(), obj.GetResourceVersion()
	err := e.Client.Delete(ctx, obj, client.Preconditions{UID: &uid, ResourceVersion: &rv})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
