package enforcement

import (
	"context"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// RBAC for revokeAccess.
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=admin;edit;view
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles,verbs=bind

// RevokeAccess removes the namespace's RoleBindings, except those labelled
// accounts.lifecycle.dev/keep=true, after first recording each exactly (see
// record.go). It is in force while records exist and none of the recorded
// bindings is still there. Restore recreates every recorded binding and
// then drops the records, so a crash at any point leaves a state the next
// call finishes.
//
// Binding is limited to the admin, edit and view ClusterRoles and to
// namespace Roles: the operator must never be able to hand out
// cluster-admin, so neither escalate nor bind on all ClusterRoles is
// granted.
type revokeAccess struct{}

func (revokeAccess) Name() v1alpha1.EnforcementAction { return v1alpha1.ActionRevokeAccess }

func (revokeAccess) Watched() []client.Object { return []client.Object{&rbacv1.RoleBinding{}} }

func (revokeAccess) InForce(ctx context.Context, e *Enforcer, r *nsRun) (bool, error) {
	return e.accessRevoked(ctx, r)
}

func (revokeAccess) Apply(ctx context.Context, e *Enforcer, r *nsRun) error {
	return e.revokeAccess(ctx, r)
}

func (revokeAccess) Revert(ctx context.Context, e *Enforcer, r *nsRun) error {
	return e.restoreAccess(ctx, r)
}

var roleBindingRecords = newRecordKind[rbacv1.RoleBinding]("RoleBinding", "rb", nil)

func (e *Enforcer) listBindings(ctx context.Context, r *nsRun) ([]rbacv1.RoleBinding, error) {
	var list rbacv1.RoleBindingList
	if !e.mayHold(ctx, &list, r.ns.Name) {
		return nil, nil
	}
	if err := e.Client.List(ctx, &list, client.InNamespace(r.ns.Name)); err != nil {
		return nil, fmt.Errorf("listing RoleBindings: %w", err)
	}
	return list.Items, nil
}

func (e *Enforcer) accessRevoked(ctx context.Context, r *nsRun) (bool, error) {
	recs, err := e.readRecords(ctx, r, roleBindingRecords)
	if err != nil || len(recs) == 0 {
		return false, err
	}
	bindings, err := e.listBindings(ctx, r)
	if err != nil {
		return false, err
	}
	return !setAsideStillPresent(recs, objects(bindings)), nil
}

func (e *Enforcer) revokeAccess(ctx context.Context, r *nsRun) error {
	bindings, err := e.listBindings(ctx, r)
	if err != nil {
		return err
	}
	var candidates []*rbacv1.RoleBinding
	for i := range bindings {
		rb := &bindings[i]
		// The view binding of ReadOnlyAccess is never recorded: restoring it
		// would leave it granting view after reinstatement.
		if rb.Labels[v1alpha1.LabelKeep] != "true" && !isReadOnlyBinding(rb) {
			candidates = append(candidates, rb)
		}
	}
	remove, err := e.restorable(ctx, r, candidates)
	if err != nil {
		return err
	}
	removed, err := e.setAsideBindings(ctx, r, roleBindingRecords, remove, "revoked")
	if len(removed) > 0 {
		r.put = append(r.put, fmt.Sprintf("%s (removed %d RoleBindings: %s; recorded in Secrets in %s)",
			v1alpha1.ActionRevokeAccess, len(removed), strings.Join(removed, ", "), e.OperatorNamespace))
	}
	return err
}

// restorable are the bindings the operator can put back, to be set aside.
// A binding already being deleted is included all the same: a finalizer
// (a tenant's, say) would keep it working meanwhile. One the operator
// could not recreate stays and is reported: removing what cannot be put
// back would break the promise of an exact restore.
func (e *Enforcer) restorable(ctx context.Context, r *nsRun, candidates []*rbacv1.RoleBinding) ([]client.Object, error) {
	var out []client.Object
	for _, rb := range candidates {
		ok, err := e.canRecreate(ctx, rb)
		if err != nil {
			return nil, err
		}
		if !ok {
			r.warnPersistent(v1alpha1.ReasonRevokeIncomplete,
				"RoleBinding %s was kept: the operator is not allowed to recreate a binding to %s %s, so it would not be restored; an administrator should remove it or label it %s=true",
				rb.Name, rb.RoleRef.Kind, rb.RoleRef.Name, v1alpha1.LabelKeep)
			continue
		}
		out = append(out, rb)
	}
	return out, nil
}

// setAsideBindings records and removes the bindings in records of kind k.
// One that cannot be recorded or removed (too large, say) does not hold
// back the others; every failure is reported, joined. A binding created
// again under a recorded name while access is `while` is removed, and the
// recorded one will be restored.
func (e *Enforcer) setAsideBindings(ctx context.Context, r *nsRun, k recordKind, remove []client.Object, while string) ([]string, error) {
	removed, newcomers, err := e.setAsideEach(ctx, r, k, remove)
	if err != nil {
		r.warnPersistent(v1alpha1.ReasonRevokeIncomplete, "%s", err.Error())
	}
	for _, o := range newcomers {
		rb := o.(*rbacv1.RoleBinding)
		r.warn(v1alpha1.ReasonRecreatedWhileRevoked,
			"RoleBinding %s was created again while access was %s (%s) and was removed; the binding recorded before will be restored",
			rb.Name, while, describe(rb.Subjects, rb.RoleRef))
	}
	return removed, err
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
	recs, err := e.readRecords(ctx, r, roleBindingRecords)
	if err != nil || len(recs) == 0 && r.lost(roleBindingRecords, recs) == 0 {
		return err
	}
	created, err := e.restoreRecorded(ctx, r, roleBindingRecords, recs, func(name string, rec client.Object) {
		b := rec.(*rbacv1.RoleBinding)
		r.warn(v1alpha1.ReasonRestoreConflict,
			"RoleBinding %s was recreated by someone else while access was revoked and was left as they made it; the recorded binding (%s) was not restored",
			name, describe(b.Subjects, b.RoleRef))
	})
	if err != nil {
		return err
	}
	r.reversed = append(r.reversed, fmt.Sprintf("%s (recreated %d RoleBindings)", v1alpha1.ActionRevokeAccess, created))
	return nil
}

// describe says what a binding grants to whom, for messages.
func describe(subjects []rbacv1.Subject, ref rbacv1.RoleRef) string {
	who := make([]string, len(subjects))
	for i, s := range subjects {
		who[i] = s.Kind + " " + s.Name
		if s.Namespace != "" {
			who[i] = s.Kind + " " + s.Namespace + "/" + s.Name
		}
	}
	return fmt.Sprintf("%s %s for %s", ref.Kind, ref.Name, strings.Join(who, ", "))
}

// objects adapts a typed slice to client.Objects.
func objects[T any, P interface {
	*T
	client.Object
}](items []T) []client.Object {
	out := make([]client.Object, len(items))
	for i := range items {
		out[i] = P(&items[i])
	}
	return out
}
