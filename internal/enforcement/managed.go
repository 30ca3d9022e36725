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
// the label is ever replaced or removed.
type managedObject struct {
	action   v1alpha1.EnforcementAction
	kind     string
	name     string
	empty    func() client.Object
	desired  func(r *nsRun) client.Object
	sameSpec func(cur, want client.Object) bool
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
	if cur != nil {
		if !isManaged(cur) {
			return fmt.Errorf("%s %s exists but was not created by the operator; rename or remove it so %s can be put in force",
				m.kind, m.name, m.action)
		}
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

// remove deletes the object if the operator created it.
func (e *Enforcer) remove(ctx context.Context, r *nsRun, m managedObject) error {
	cur, err := e.getManaged(ctx, r, m)
	if err != nil || cur == nil || !isManaged(cur) {
		return err
	}
	if err := e.deleteExact(ctx, cur); err != nil {
		return fmt.Errorf("removing %s %s: %w", m.kind, m.name, err)
	}
	r.reversed = append(r.reversed, string(m.action))
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
