package enforcement

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// RevokeAccess removes the namespace's RoleBindings, except those labelled
// accounts.lifecycle.dev/keep=true, after first recording them exactly in a
// Secret in the operator's namespace. It is in force while that record
// exists. Restore recreates every recorded binding and then drops the
// record, so a crash at any point leaves a state the next call finishes.

func (e *Enforcer) accessRevoked(ctx context.Context, r *nsRun) (bool, error) {
	rec, err := e.readRecord(ctx, r.ns.Name)
	return rec.secret != nil, err
}

func (e *Enforcer) revokeAccess(ctx context.Context, r *nsRun) error {
	var list rbacv1.RoleBindingList
	if err := e.Client.List(ctx, &list, client.InNamespace(r.ns.Name)); err != nil {
		return fmt.Errorf("listing RoleBindings: %w", err)
	}
	var remove []rbacv1.RoleBinding
	for _, rb := range list.Items {
		if rb.Labels[v1alpha1.LabelKeep] == "true" || rb.DeletionTimestamp != nil {
			continue
		}
		ok, err := e.canRecreate(ctx, &rb)
		if err != nil {
			return err
		}
		if !ok {
			// Removing what we could not put back would break the promise
			// of an exact restore, so the binding stays and is reported.
			r.warnPersistent(ReasonRevokeIncomplete,
				"RoleBinding %s was kept: the operator is not allowed to recreate a binding to %s %s, so it would not be restored; an administrator should remove it or label it %s=true",
				rb.Name, rb.RoleRef.Kind, rb.RoleRef.Name, v1alpha1.LabelKeep)
			continue
		}
		remove = append(remove, rb)
	}
	if len(remove) == 0 {
		return nil
	}
	rec, err := e.readRecord(ctx, r.ns.Name)
	if err != nil {
		return err
	}
	merged, newcomers := rec.merge(remove)
	// The record is written before any binding is deleted.
	if err := e.writeRecord(ctx, r, rec, merged); err != nil {
		return err
	}
	for _, rb := range newcomers {
		r.warn(ReasonRecreatedWhileRevoked,
			"RoleBinding %s was created again while access was revoked (%s) and was removed; the binding recorded before will be restored",
			rb.Name, describe(rb.Subjects, rb.RoleRef))
	}
	for i := range remove {
		// Preconditions: a binding changed since it was recorded is not
		// deleted; the next call records its new form first.
		if err := e.deleteExact(ctx, &remove[i]); err != nil {
			return fmt.Errorf("removing RoleBinding %s: %w", remove[i].Name, err)
		}
	}
	r.put = append(r.put, fmt.Sprintf("%s (removed %d RoleBindings: %s; recorded in Secret %s/%s)",
		v1alpha1.ActionRevokeAccess, len(remove), bindingNames(remove), e.OperatorNamespace, RecordName(r.ns.Name)))
	return nil
}

// canRecreate asks the API server, with a dry-run create, whether the
// operator may create a binding like rb. RBAC only lets it bind what it
// holds or may bind (admin, edit, view, namespace Roles).
func (e *Enforcer) canRecreate(ctx context.Context, rb *rbacv1.RoleBinding) (bool, error) {
	probe := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "account-lifecycle-probe-", Namespace: rb.Namespace},
		Subjects:   slices.Clone(rb.Subjects),
		RoleRef:    rb.RoleRef,
	}
	err := e.Client.Create(ctx, probe, client.DryRunAll)
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsForbidden(err):
		return false, nil
	}
	return false, fmt.Errorf("checking that RoleBinding %s can be restored: %w", rb.Name, err)
}

func (e *Enforcer) restoreAccess(ctx context.Context, r *nsRun) error {
	rec, err := e.readRecord(ctx, r.ns.Name)
	if err != nil || rec.secret == nil {
		return err
	}
	var errs []error
	created := 0
	for _, name := range slices.Sorted(maps.Keys(rec.bindings)) {
		b := rec.bindings[name]
		var cur rbacv1.RoleBinding
		err := e.Client.Get(ctx, client.ObjectKey{Namespace: r.ns.Name, Name: name}, &cur)
		switch {
		case apierrors.IsNotFound(err):
			if err := e.Client.Create(ctx, b.binding(r.ns.Name)); err != nil {
				// AlreadyExists included: the next call compares it.
				errs = append(errs, fmt.Errorf("recreating RoleBinding %s: %w", name, err))
				continue
			}
			created++
		case err != nil:
			errs = append(errs, fmt.Errorf("reading RoleBinding %s: %w", name, err))
		case b.matches(&cur):
			// Already back, e.g. an earlier restore was interrupted.
		default:
			r.warn(ReasonRestoreConflict,
				"RoleBinding %s was recreated by someone else while access was revoked and was left as they made it; the recorded binding (%s) was not restored",
				name, describe(b.Subjects, b.RoleRef))
		}
	}
	if len(errs) > 0 {
		// The record stays until every binding is back.
		return errors.Join(errs...)
	}
	if err := e.deleteExact(ctx, rec.secret); err != nil {
		return fmt.Errorf("dropping RoleBinding record: %w", err)
	}
	r.reversed = append(r.reversed, fmt.Sprintf("%s (recreated %d RoleBindings)", v1alpha1.ActionRevokeAccess, created))
	return nil
}
