package enforcement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// mayHaveOrphans says whether looking for orphans is worth a List: only
// when one of the account's namespaces is gone (or left) since its status
// was written, or a namespace has no in-force mark yet (new, or deleted and
// created again under the same name between two reconciles). A settled
// account costs nothing.
func mayHaveOrphans(account *v1alpha1.CustomerAccount, current []corev1.Namespace) bool {
	for _, ns := range current {
		if _, marked := ns.Annotations[AnnotationInForce]; !marked {
			return true
		}
	}
	if sum := account.Status.NamespaceSummary; sum != nil && int(ptr.Deref(sum.Total, 0)) > len(current) {
		return true
	}
	for _, st := range account.Status.Namespaces {
		if !slices.ContainsFunc(current, func(ns corev1.Namespace) bool { return ns.Name == st.Name }) {
			return true
		}
	}
	return false
}

// discardOrphans deletes the records this account wrote whose namespace no
// longer exists under the UID they were written for, and says what it
// discarded. Such a record can never be restored: not into a namespace that
// merely has the same name (it may be someone else's), and its own
// namespace, deleted, took everything else of the tenant's with it. Keeping
// it would leave a deleted tenant's bindings in the operator's namespace
// for ever. A record whose namespace still exists belongs to that
// namespace, whichever account holds it now, and is kept. Whether the
// namespace is gone is asked of the API server itself (Live), never of a
// cache that may lag behind a namespace just created.
func (e *Enforcer) discardOrphans(ctx context.Context, account *v1alpha1.CustomerAccount) ([]string, error) {
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
	byNamespace := map[nsKey][]corev1.Secret{}
	for _, s := range list.Items {
		if s.Type != RecordType {
			continue
		}
		k := nsKey{s.Labels[LabelRecordNamespace], types.UID(s.Labels[LabelRecordNamespaceUID])}
		byNamespace[k] = append(byNamespace[k], s)
	}
	live := e.Live
	if live == nil {
		live = e.Client
	}
	var errs []error
	var out []string
	for _, k := range slices.SortedFunc(maps.Keys(byNamespace), func(a, b nsKey) int { return strings.Compare(a.name+string(a.uid), b.name+string(b.uid)) }) {
		var ns metav1.PartialObjectMetadata
		ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
		err := live.Get(ctx, client.ObjectKey{Name: k.name}, &ns)
		switch {
		case err == nil && ns.UID == k.uid:
			continue
		case err != nil && !apierrors.IsNotFound(err):
			errs = append(errs, fmt.Errorf("namespace %s of the account's records: %w", k.name, err))
			continue
		}
		why := "was deleted"
		if err == nil {
			why = "was deleted and the namespace now called " + k.name + " is another one"
		}
		var gone []string
		for _, s := range byNamespace[k] {
			uid := s.UID
			if err := e.Client.Delete(ctx, &s, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("discarding record %s/%s of deleted namespace %s: %w", s.Namespace, s.Name, k.name, err))
				continue
			}
			gone = append(gone, s.Labels[LabelRecordKind]+" "+recordedName(&s))
		}
		if len(gone) == 0 {
			continue
		}
		slices.Sort(gone)
		out = append(out, fmt.Sprintf("namespace %s (uid %s) %s, so the %d record(s) of objects set aside there could never be restored and were discarded: %s",
			k.name, k.uid, why, len(gone), strings.Join(gone, ", ")))
	}
	return out, errors.Join(errs...)
}

// recordedName is the name of the object a record holds, read from the
// record itself.
func recordedName(s *corev1.Secret) string {
	var obj metav1.PartialObjectMetadata
	if err := json.Unmarshal(s.Data[RecordKey], &obj); err != nil || obj.Name == "" {
		return "(unreadable record " + s.Name + ")"
	}
	return obj.Name
}
