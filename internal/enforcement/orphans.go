package enforcement

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// mayHaveOrphans says whether looking for orphans is worth a List: only
// when one of the account's namespaces is gone (or left) since its status
// was written, a namespace has no in-force mark yet (new, or deleted and
// created again under the same name between two reconciles), or orphans
// were reported before (to keep the report true). A settled account costs
// nothing.
func mayHaveOrphans(account *v1alpha1.CustomerAccount, current []corev1.Namespace) bool {
	for _, ns := range current {
		if _, marked := ns.Annotations[AnnotationInForce]; !marked {
			return true
		}
	}
	if c := meta.FindStatusCondition(account.Status.Conditions, v1alpha1.ConditionOrphanedRecords); c != nil && c.Status == metav1.ConditionTrue {
		return true
	}
	if sum := account.Status.NamespaceSummary; sum != nil && int(sum.Total) > len(current) {
		return true
	}
	for _, st := range account.Status.Namespaces {
		if !slices.ContainsFunc(current, func(ns corev1.Namespace) bool { return ns.Name == st.Name }) {
			return true
		}
	}
	return false
}

// orphans reports the records this account wrote whose namespace no longer
// exists under the UID they were written for. They are never restored into
// a namespace that merely has the same name (it may be someone else's) and
// never dropped: the list of what was removed is kept for a human. A record
// whose namespace still exists belongs to that namespace, whichever account
// holds it now, and is not an orphan.
func (e *Enforcer) orphans(ctx context.Context, account *v1alpha1.CustomerAccount) ([]string, error) {
	var list corev1.SecretList
	if err := e.Client.List(ctx, &list, client.InNamespace(e.OperatorNamespace), client.MatchingLabels{
		v1alpha1.LabelManaged: ManagedBy, v1alpha1.LabelAccount: account.Name,
	}); err != nil {
		return nil, fmt.Errorf("listing the account's records: %w", err)
	}
	type nsKey struct {
		name string
		uid  types.UID
	}
	byNamespace := map[nsKey][]string{}
	for _, s := range list.Items {
		if s.Type != RecordType {
			continue
		}
		k := nsKey{s.Labels[LabelRecordNamespace], types.UID(s.Labels[LabelRecordNamespaceUID])}
		byNamespace[k] = append(byNamespace[k], s.Labels[LabelRecordKind]+" in Secret "+s.Name)
	}
	var out []string
	for _, k := range slices.SortedFunc(maps.Keys(byNamespace), func(a, b nsKey) int { return strings.Compare(a.name+string(a.uid), b.name+string(b.uid)) }) {
		var ns corev1.Namespace
		err := e.Client.Get(ctx, client.ObjectKey{Name: k.name}, &ns)
		switch {
		case err == nil && ns.UID == k.uid:
			continue
		case err != nil && !apierrors.IsNotFound(err):
			return out, fmt.Errorf("namespace %s of the account's records: %w", k.name, err)
		}
		why := "is gone"
		if err == nil {
			why = "was deleted and the namespace now called " + k.name + " is another one"
		}
		held := byNamespace[k]
		slices.Sort(held)
		out = append(out, fmt.Sprintf("namespace %s (uid %s) %s, so %d record(s) of objects set aside there can never be restored; they are kept in %s for an administrator to review and delete: %s",
			k.name, k.uid, why, len(held), e.OperatorNamespace, strings.Join(held, ", ")))
	}
	return out, nil
}
