package enforcement

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// The RoleBinding record of RevokeAccess is a Secret in the operator's
// namespace, out of tenants' reach. It has no ownerReference on purpose:
// if the account's finalizer is ever forced off, the record must survive.
const (
	// LabelRecordNamespace on a record Secret names the namespace whose
	// RoleBindings it holds.
	LabelRecordNamespace = "accounts.lifecycle.dev/namespace"
	// RecordKey is the data key holding the JSON list of bindings.
	RecordKey = "rolebindings.json"
	// recordType marks record Secrets so they are not mistaken for others.
	recordType   corev1.SecretType = "accounts.lifecycle.dev/rolebinding-record"
	recordPrefix string            = "account-lifecycle-rolebindings."
)

// RecordName is the name of the record Secret for a tenant namespace. It is
// keyed by namespace alone so whichever account owns the namespace now
// finds it.
func RecordName(namespace string) string { return recordPrefix + namespace }

// recordedBinding is exactly what restore recreates.
type recordedBinding struct {
	Name string `json:"name"`
	// UID tells the recorded binding from a newcomer of the same name; it
	// is not restored (the API server assigns a new one).
	UID         types.UID         `json:"uid,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Subjects    []rbacv1.Subject  `json:"subjects,omitempty"`
	RoleRef     rbacv1.RoleRef    `json:"roleRef"`
}

func recordOf(rb *rbacv1.RoleBinding) recordedBinding {
	return recordedBinding{
		Name:        rb.Name,
		UID:         rb.UID,
		Labels:      rb.Labels,
		Annotations: rb.Annotations,
		Subjects:    rb.Subjects,
		RoleRef:     rb.RoleRef,
	}
}

func (b recordedBinding) binding(namespace string) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{
			Name: b.Name, Namespace: namespace,
			Labels: maps.Clone(b.Labels), Annotations: maps.Clone(b.Annotations),
		},
		Subjects: slices.Clone(b.Subjects),
		RoleRef:  b.RoleRef,
	}
}

// matches: rb is what the record says, as far as restore is concerned.
func (b recordedBinding) matches(rb *rbacv1.RoleBinding) bool {
	got := recordOf(rb)
	got.UID = b.UID
	return equality.Semantic.DeepEqual(got, b)
}

// merge adds the bindings about to be removed to the recorded ones. A
// binding already recorded is refreshed if it is the same object or says
// the same; a different binding created under a recorded name while access
// was revoked does not displace the original, and is returned.
func (rec record) merge(remove []rbacv1.RoleBinding) (merged map[string]recordedBinding, newcomers []rbacv1.RoleBinding) {
	merged = maps.Clone(rec.bindings)
	for i := range remove {
		rb := &remove[i]
		old, ok := rec.bindings[rb.Name]
		if ok && old.UID != rb.UID && !old.matches(rb) {
			newcomers = append(newcomers, *rb)
			continue
		}
		merged[rb.Name] = recordOf(rb)
	}
	return merged, newcomers
}

// record is the decoded record Secret of one namespace.
type record struct {
	secret   *corev1.Secret // nil when there is none
	bindings map[string]recordedBinding
}

func (e *Enforcer) readRecord(ctx context.Context, namespace string) (record, error) {
	rec := record{bindings: map[string]recordedBinding{}}
	var s corev1.Secret
	err := e.Client.Get(ctx, client.ObjectKey{Namespace: e.OperatorNamespace, Name: RecordName(namespace)}, &s)
	if apierrors.IsNotFound(err) {
		return rec, nil
	}
	if err != nil {
		return rec, fmt.Errorf("reading RoleBinding record: %w", err)
	}
	var list []recordedBinding
	if err := json.Unmarshal(s.Data[RecordKey], &list); err != nil {
		// Never overwrite or drop a record we cannot read.
		return rec, fmt.Errorf("RoleBinding record %s/%s is unreadable, leaving it for a human: %w", s.Namespace, s.Name, err)
	}
	for _, b := range list {
		rec.bindings[b.Name] = b
	}
	rec.secret = &s
	return rec, nil
}

func encodeRecord(bindings map[string]recordedBinding) ([]byte, error) {
	names := slices.Sorted(maps.Keys(bindings))
	list := make([]recordedBinding, 0, len(names))
	for _, n := range names {
		list = append(list, bindings[n])
	}
	return json.Marshal(list)
}

// writeRecord saves merged (see merge: entries are only added or
// refreshed, never dropped, so a second revocation after a partial one
// cannot lose the first one's bindings). It writes nothing when the record
// already holds them, and it fails rather than overwrite a record changed
// since it was read.
func (e *Enforcer) writeRecord(ctx context.Context, r *nsRun, rec record, merged map[string]recordedBinding) error {
	if rec.secret != nil && equality.Semantic.DeepEqual(merged, rec.bindings) {
		return nil
	}
	data, err := encodeRecord(merged)
	if err != nil {
		return err
	}
	labels := map[string]string{
		v1alpha1.LabelManaged: ManagedBy,
		v1alpha1.LabelAccount: r.account.Name,
		LabelRecordNamespace:  r.ns.Name,
	}
	if rec.secret == nil {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Name: RecordName(r.ns.Name), Namespace: e.OperatorNamespace, Labels: labels,
				Annotations: map[string]string{
					"accounts.lifecycle.dev/description": "RoleBindings removed from namespace " + r.ns.Name +
						" by RevokeAccess; recreated from here on restore. Do not delete while the namespace is restricted.",
				},
			},
			Type: recordType,
			Data: map[string][]byte{RecordKey: data},
		}
		if err := e.Client.Create(ctx, s); err != nil {
			return fmt.Errorf("writing RoleBinding record: %w", err)
		}
		return nil
	}
	s := rec.secret.DeepCopy()
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	maps.Copy(s.Labels, labels)
	s.Data = map[string][]byte{RecordKey: data}
	// Update carries the resourceVersion read: a concurrent writer makes
	// this fail instead of being overwritten with less.
	if err := e.Client.Update(ctx, s); err != nil {
		return fmt.Errorf("updating RoleBinding record: %w", err)
	}
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

func bindingNames(bs []rbacv1.RoleBinding) string {
	names := make([]string, len(bs))
	for i := range bs {
		names[i] = bs[i].Name
	}
	return strings.Join(names, ", ")
}
