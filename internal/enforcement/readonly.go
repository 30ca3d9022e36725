package enforcement

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// ReadOnlyAccess keeps the tenant able to read and export its data, and
// change nothing: what a customer being referred elsewhere needs during its
// notice. The namespace's RoleBindings (except those labelled keep, and
// those that bind the view ClusterRole already) are recorded and set aside
// exactly as RevokeAccess does, in records of their own, and one RoleBinding
// the operator owns, ReadOnlyBindingName, binds the view ClusterRole to the
// subjects of those that bound admin or edit. Subjects of any other role get
// nothing: view may grant more than a narrow Role did, and read-only must
// never widen anyone's access. Revert recreates every recorded binding,
// then removes the operator's, so the tenant never has less than read
// access on the way back. It uses RevokeAccess's RBAC (access.go).
type readOnlyAccess struct{}

// ReadOnlyBindingName is the RoleBinding ReadOnlyAccess creates.
const ReadOnlyBindingName = "account-lifecycle-read-only"

// viewRole is what ReadOnlyAccess binds; readRoles are the roles whose
// subjects keep view (each grants everything view does).
var (
	viewRole  = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}
	readRoles = []string{"admin", "edit"}
)

var readOnlyRecords = newRecordKind[rbacv1.RoleBinding]("RoleBinding", "ro", nil).withID("ReadOnlyRoleBinding")

func (readOnlyAccess) Name() v1alpha1.EnforcementAction { return v1alpha1.ActionReadOnlyAccess }

func (readOnlyAccess) Watched() []client.Object { return []client.Object{&rbacv1.RoleBinding{}} }

func isReadOnlyBinding(rb *rbacv1.RoleBinding) bool {
	return rb.Name == ReadOnlyBindingName && isManaged(rb)
}

func (readOnlyAccess) InForce(ctx context.Context, e *Enforcer, r *nsRun) (bool, error) {
	recs, err := e.readRecords(ctx, r, readOnlyRecords)
	if err != nil || len(recs) == 0 {
		return false, err
	}
	bindings, err := e.listBindings(ctx, r)
	if err != nil || setAsideStillPresent(recs, objects(bindings)) {
		return false, err
	}
	want := viewSubjects(recs, nil)
	if len(want) == 0 {
		return true, nil
	}
	for i := range bindings {
		if rb := &bindings[i]; isReadOnlyBinding(rb) {
			return rb.RoleRef == viewRole && equality.Semantic.DeepEqual(rb.Subjects, want), nil
		}
	}
	return false, nil
}

func (readOnlyAccess) Apply(ctx context.Context, e *Enforcer, r *nsRun) error {
	bindings, err := e.listBindings(ctx, r)
	if err != nil {
		return err
	}
	var candidates []*rbacv1.RoleBinding
	var ours *rbacv1.RoleBinding
	for i := range bindings {
		switch rb := &bindings[i]; {
		case isReadOnlyBinding(rb):
			ours = rb
		case rb.Labels[v1alpha1.LabelKeep] != "true" && rb.RoleRef != viewRole:
			candidates = append(candidates, rb)
		}
	}
	remove, err := e.restorable(ctx, r, candidates)
	if err != nil {
		return err
	}
	squatter := slices.ContainsFunc(remove, func(o client.Object) bool { return o.GetName() == ReadOnlyBindingName })
	recs, err := e.readRecords(ctx, r, readOnlyRecords)
	if err != nil {
		return err
	}
	subjects := viewSubjects(recs, remove)
	// The view binding goes in first, so read access never lapses, unless
	// a binding of someone else holds its name: that one is set aside first.
	if !squatter {
		if err := e.ensureReadOnlyBinding(ctx, r, ours, subjects); err != nil {
			return err
		}
	}
	removed, err := e.setAsideBindings(ctx, r, readOnlyRecords, remove, "read-only")
	if squatter && err == nil {
		if err := e.ensureReadOnlyBinding(ctx, r, nil, subjects); err != nil {
			return err
		}
	}
	if len(removed) > 0 {
		r.put = append(r.put, fmt.Sprintf("%s (set aside %d RoleBindings: %s; recorded in Secrets in %s; RoleBinding %s grants view to %d subjects)",
			v1alpha1.ActionReadOnlyAccess, len(removed), strings.Join(removed, ", "), e.OperatorNamespace, ReadOnlyBindingName, len(subjects)))
	}
	return err
}

// ensureReadOnlyBinding brings the operator's view binding to subjects
// (none: no binding); cur is it as listed, nil if absent.
func (e *Enforcer) ensureReadOnlyBinding(ctx context.Context, r *nsRun, cur *rbacv1.RoleBinding, subjects []rbacv1.Subject) error {
	switch {
	case len(subjects) == 0 && cur == nil:
		return nil
	case len(subjects) == 0:
		return e.deleteExact(ctx, cur)
	case cur == nil:
		rb := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: ReadOnlyBindingName, Namespace: r.ns.Name, Labels: managedLabels(r)},
			Subjects:   subjects, RoleRef: viewRole,
		}
		if err := e.Client.Create(ctx, rb); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating RoleBinding %s: %w", ReadOnlyBindingName, err)
		}
		return nil
	case cur.RoleRef != viewRole:
		// roleRef cannot change: replaced on the next call.
		return e.deleteExact(ctx, cur)
	case equality.Semantic.DeepEqual(cur.Subjects, subjects):
		return nil
	}
	changed := cur.DeepCopy()
	changed.Subjects = subjects
	if err := e.patchExact(ctx, cur, changed); err != nil {
		return fmt.Errorf("updating RoleBinding %s: %w", ReadOnlyBindingName, err)
	}
	return nil
}

func (readOnlyAccess) Revert(ctx context.Context, e *Enforcer, r *nsRun) error {
	recs, err := e.readRecords(ctx, r, readOnlyRecords)
	if err != nil {
		return err
	}
	removeOurs := func() error {
		ours := &rbacv1.RoleBinding{}
		err := e.Client.Get(ctx, client.ObjectKey{Namespace: r.ns.Name, Name: ReadOnlyBindingName}, ours)
		if apierrors.IsNotFound(err) || err == nil && !isManaged(ours) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading RoleBinding %s: %w", ReadOnlyBindingName, err)
		}
		return e.deleteExact(ctx, ours)
	}
	// A recorded binding of our binding's name can only come back once ours
	// is gone; otherwise ours goes last.
	if _, named := recs[ReadOnlyBindingName]; named {
		if err := removeOurs(); err != nil {
			return err
		}
	}
	if len(recs) > 0 || r.lost(readOnlyRecords, recs) > 0 {
		created, err := e.restoreRecorded(ctx, r, readOnlyRecords, recs, func(name string, rec client.Object) {
			b := rec.(*rbacv1.RoleBinding)
			r.warn(v1alpha1.ReasonRestoreConflict,
				"RoleBinding %s was recreated by someone else while access was read-only and was left as they made it; the recorded binding (%s) was not restored",
				name, describe(b.Subjects, b.RoleRef))
		})
		if err != nil {
			return err
		}
		r.reversed = append(r.reversed, fmt.Sprintf("%s (recreated %d RoleBindings)", v1alpha1.ActionReadOnlyAccess, created))
	}
	return removeOurs()
}

// viewSubjects are the subjects the view binding carries: those of the
// recorded and the about-to-be-recorded bindings of a role that grants
// everything view does, once each, in a stable order.
func viewSubjects(recs records, more []client.Object) []rbacv1.Subject {
	var out []rbacv1.Subject
	add := func(rb *rbacv1.RoleBinding) {
		if rb.RoleRef.Kind != "ClusterRole" || rb.RoleRef.APIGroup != rbacv1.GroupName || !slices.Contains(readRoles, rb.RoleRef.Name) {
			return
		}
		for _, s := range rb.Subjects {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	for _, entry := range recs {
		add(entry.obj.(*rbacv1.RoleBinding))
	}
	for _, o := range more {
		if _, recorded := recs[o.GetName()]; !recorded { // a newcomer under a recorded name gets nothing
			add(o.(*rbacv1.RoleBinding))
		}
	}
	slices.SortFunc(out, func(a, b rbacv1.Subject) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name), cmp.Compare(a.APIGroup, b.APIGroup))
	})
	return out
}
