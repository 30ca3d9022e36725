package enforcement

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// Objects an action sets aside (RoleBindings for RevokeAccess, a tenant's
// own NetworkPolicies for IsolateNetwork) are recorded before they are
// removed, one Secret per object in the operator's namespace, out of
// tenants' reach:
//
//   - One Secret per object, so no tenant can grow a record past the API's
//     1 MiB object limit by piling up large objects, and an object too large
//     to record is kept (and reported) without holding the others back.
//   - Keyed by the namespace's UID, not its name, and labelled with the
//     account's UID: a record is only ever restored into the very namespace
//     it came from. A later namespace of the same name (someone else's) never
//     sees it. A record whose namespace was deleted can never be restored
//     and is discarded, and reported (orphans.go).
//   - No ownerReference on purpose: if the account's finalizer is ever forced
//     off, the records must survive.
const (
	// LabelRecordNamespace on a record Secret names the namespace whose
	// object it holds.
	LabelRecordNamespace = "accounts.lifecycle.dev/namespace"
	// LabelRecordNamespaceUID is that namespace's UID: the record's key.
	LabelRecordNamespaceUID = "accounts.lifecycle.dev/namespace-uid"
	// LabelRecordKind is the kind of the recorded object.
	LabelRecordKind = "accounts.lifecycle.dev/record-kind"
	// AnnotationRecordAccountUID is the UID of the account that recorded it.
	AnnotationRecordAccountUID = "accounts.lifecycle.dev/account-uid"
	// AnnotationRecordObjectUID is the recorded object's own UID, which tells
	// it from a newcomer of the same name.
	AnnotationRecordObjectUID = "accounts.lifecycle.dev/object-uid"
	// RecordKey is the data key holding the recorded object as JSON.
	RecordKey = "object.json"
	// RecordType marks record Secrets so they are not mistaken for others.
	RecordType corev1.SecretType = "accounts.lifecycle.dev/record"
	// maxRecordBytes stays under the API server's 1 MiB request limit with
	// room for the Secret's own metadata.
	maxRecordBytes = 900 << 10
)

// recordKind adapts one kind of object that can be set aside.
type recordKind struct {
	kind  string
	short string
	// id tells the records of this kind from others of the same kind of
	// object (the record-kind label, the witness count); it is kind unless
	// set by withID.
	id    string
	empty func() client.Object
	// restorable clears what restore cannot or must not reproduce (identity,
	// versions, status, finalizers), leaving what it recreates and compares.
	restorable func(client.Object) client.Object
}

// newRecordKind is the recordKind of T, whose restorable form is T without
// server fields, type meta or whatever clear removes (status, say).
func newRecordKind[T any, P interface {
	*T
	client.Object
}](kind, short string, clear func(P)) recordKind {
	return recordKind{
		kind: kind, short: short, id: kind,
		empty: func() client.Object { return P(new(T)) },
		restorable: func(o client.Object) client.Object {
			c := o.DeepCopyObject().(P)
			stripServerFields(c)
			c.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
			if clear != nil {
				clear(c)
			}
			return c
		},
	}
}

// withID is k with records of their own: two actions that set aside the
// same kind of object must never read each other's records.
func (k recordKind) withID(id string) recordKind {
	k.id = id
	return k
}

// RecordName is the name of the record Secret of object `name` of a kind
// (its short name, e.g. "rb") in the namespace with UID nsUID.
func RecordName(short string, nsUID types.UID, name string) string {
	sum := sha256.Sum256([]byte(string(nsUID) + "/" + name))
	return "account-lifecycle-" + short + "-" + hex.EncodeToString(sum[:12])
}

// recordEntry is one decoded record Secret.
type recordEntry struct {
	secret    *corev1.Secret
	obj       client.Object // restorable form
	objectUID types.UID
}

// records are the records of one kind for one namespace, by object name.
type records map[string]recordEntry

// stripServerFields is the common part of every restorable form.
func stripServerFields(o client.Object) {
	o.SetUID("")
	o.SetResourceVersion("")
	o.SetGeneration(0)
	o.SetCreationTimestamp(metav1.Time{})
	o.SetDeletionTimestamp(nil)
	o.SetDeletionGracePeriodSeconds(nil)
	o.SetManagedFields(nil)
	o.SetFinalizers(nil)
	o.SetGenerateName("")
	o.SetSelfLink("")
	o.SetNamespace("")
}

// sameAsRecorded: cur is what the record says, as far as restore goes.
func (k recordKind) sameAsRecorded(entry recordEntry, cur client.Object) bool {
	return equality.Semantic.DeepEqual(k.restorable(cur), entry.obj)
}

// readRecords returns the kind's records for namespace r.ns (by UID). An
// unreadable record is an error: it is never overwritten or dropped. The
// records of every kind are read in one List per namespace run and kept
// until a record is written, so a namespace whose actions are all in force
// costs one List of records, not one per action.
func (e *Enforcer) readRecords(ctx context.Context, r *nsRun, k recordKind) (records, error) {
	if r.records == nil {
		var list corev1.SecretList
		if err := e.Client.List(ctx, &list, client.InNamespace(e.OperatorNamespace), client.MatchingLabels{
			LabelRecordNamespaceUID: string(r.ns.UID),
		}); err != nil {
			return nil, fmt.Errorf("reading %s records: %w", k.kind, err)
		}
		r.records = list.Items
	}
	out := records{}
	for i := range r.records {
		s := &r.records[i]
		if s.Labels[LabelRecordKind] != k.id {
			continue
		}
		obj, err := k.decode(s)
		if err != nil {
			return nil, err
		}
		out[obj.GetName()] = recordEntry{secret: s, obj: obj, objectUID: types.UID(s.Annotations[AnnotationRecordObjectUID])}
	}
	return out, nil
}

// recordsChanged forgets the records read in this run: the next read lists
// them again.
func (r *nsRun) recordsChanged() { r.records = nil }

func (k recordKind) decode(s *corev1.Secret) (client.Object, error) {
	obj := k.empty()
	err := json.Unmarshal(s.Data[RecordKey], obj)
	if err == nil && obj.GetName() == "" {
		err = errors.New("it names no object")
	}
	if err != nil {
		return nil, fmt.Errorf("%s record %s/%s is unreadable, leaving it for a human: %w", k.kind, s.Namespace, s.Name, err)
	}
	return obj, nil
}

// record writes the record of cur before cur is removed. A record already
// holding the same object (by UID, or saying the same) is refreshed; a
// different object created under a recorded name while set aside does not
// displace the original: record reports it as a newcomer, to be removed
// without being recorded.
func (e *Enforcer) record(ctx context.Context, r *nsRun, k recordKind, recs records, cur client.Object) (newcomer bool, err error) {
	want := k.restorable(cur)
	data, err := json.Marshal(want)
	if err != nil {
		return false, err
	}
	if len(data) > maxRecordBytes {
		return false, fmt.Errorf("%s %s is too large to record (%d bytes, at most %d) and was kept", k.kind, cur.GetName(), len(data), maxRecordBytes)
	}
	old, ok := recs[cur.GetName()]
	switch {
	case ok && old.objectUID == cur.GetUID() && equality.Semantic.DeepEqual(old.obj, want):
		return false, nil
	case ok && old.objectUID != cur.GetUID() && !equality.Semantic.DeepEqual(old.obj, want):
		return true, nil
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: RecordName(k.short, r.ns.UID, cur.GetName()), Namespace: e.OperatorNamespace,
			Labels: map[string]string{
				v1alpha1.LabelManaged:   ManagedBy,
				v1alpha1.LabelAccount:   r.account.Name,
				LabelRecordNamespace:    r.ns.Name,
				LabelRecordNamespaceUID: string(r.ns.UID),
				LabelRecordKind:         k.id,
			},
			Annotations: map[string]string{
				AnnotationRecordAccountUID: string(r.account.UID),
				AnnotationRecordObjectUID:  string(cur.GetUID()),
				"accounts.lifecycle.dev/description": k.kind + " " + cur.GetName() + " set aside from namespace " + r.ns.Name +
					"; recreated from here on restore. Do not delete while the namespace is restricted.",
			},
		},
		Type: RecordType,
		Data: map[string][]byte{RecordKey: data},
	}
	r.recordsChanged()
	if !ok {
		if err := e.Client.Create(ctx, s); err != nil {
			return false, fmt.Errorf("recording %s %s: %w", k.kind, cur.GetName(), err)
		}
		recs[cur.GetName()] = recordEntry{secret: s, obj: want, objectUID: cur.GetUID()}
		return false, nil
	}
	// Update carries the resourceVersion read: a concurrent writer makes
	// this fail instead of being overwritten.
	s.ResourceVersion = old.secret.ResourceVersion
	if err := e.Client.Update(ctx, s); err != nil {
		return false, fmt.Errorf("updating the record of %s %s: %w", k.kind, cur.GetName(), err)
	}
	recs[cur.GetName()] = recordEntry{secret: s, obj: want, objectUID: cur.GetUID()}
	return false, nil
}

// setAside removes a recorded object: its finalizers first (a tenant's
// finalizer would otherwise keep it, still in effect, in a terminating
// state), then the object itself, only if it is still the version read.
func (e *Enforcer) setAside(ctx context.Context, obj client.Object) error {
	if len(obj.GetFinalizers()) > 0 {
		changed := obj.DeepCopyObject().(client.Object)
		changed.SetFinalizers(nil)
		if err := e.patchExact(ctx, obj, changed); err != nil {
			return fmt.Errorf("removing finalizers %s: %w", strings.Join(obj.GetFinalizers(), ", "), err)
		}
		obj = changed
	}
	if obj.GetDeletionTimestamp() != nil {
		return nil // gone once its (now removed) finalizers are
	}
	return e.deleteExact(ctx, obj)
}

// setAsideEach records and removes each object (record first); one that
// fails does not hold back the others. It returns the names removed and
// the newcomers: objects created under a recorded name while set aside,
// removed without displacing the original's record.
func (e *Enforcer) setAsideEach(ctx context.Context, r *nsRun, k recordKind, objs []client.Object) (removed []string, newcomers []client.Object, err error) {
	recs, err := e.readRecords(ctx, r, k)
	if err != nil {
		return nil, nil, err
	}
	errs := []error{r.checkWitness(k, recs)}
	lost := r.lost(k, recs)
	var recorded []client.Object
	for _, o := range objs {
		newcomer, err := e.record(ctx, r, k, recs, o)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if newcomer {
			newcomers = append(newcomers, o)
		}
		recorded = append(recorded, o)
	}
	// The witness counts every record (and those already lost) before
	// anything is removed.
	if err := e.witness(ctx, r, k, len(recs)+lost); err != nil {
		return nil, newcomers, errors.Join(append(errs, err)...)
	}
	for _, o := range recorded {
		// Preconditions: an object changed since it was recorded is not
		// deleted; the next call records its new form first.
		if err := e.setAside(ctx, o); err != nil {
			errs = append(errs, fmt.Errorf("removing %s %s: %w", k.kind, o.GetName(), err))
			continue
		}
		removed = append(removed, o.GetName())
	}
	return removed, newcomers, errors.Join(errs...)
}

// restoreRecorded recreates every recorded object of the kind that is not
// back yet, then drops the records once all of them are. It returns how
// many it recreated.
func (e *Enforcer) restoreRecorded(ctx context.Context, r *nsRun, k recordKind, recs records, conflict func(name string, rec client.Object)) (int, error) {
	var errs []error
	created := 0
	for _, name := range slices.Sorted(maps.Keys(recs)) {
		entry := recs[name]
		cur := k.empty()
		err := e.Client.Get(ctx, client.ObjectKey{Namespace: r.ns.Name, Name: name}, cur)
		switch {
		case apierrors.IsNotFound(err):
			obj := entry.obj.DeepCopyObject().(client.Object)
			obj.SetNamespace(r.ns.Name)
			if err := e.Client.Create(ctx, obj); err != nil {
				// AlreadyExists included: the next call compares it.
				errs = append(errs, fmt.Errorf("recreating %s %s: %w", k.kind, name, err))
				continue
			}
			created++
		case err != nil:
			errs = append(errs, fmt.Errorf("reading %s %s: %w", k.kind, name, err))
		case cur.GetDeletionTimestamp() != nil:
			// Still being deleted (a finalizer someone else added): not back.
			errs = append(errs, fmt.Errorf("%s %s is still being deleted; it is recreated once gone", k.kind, name))
		case k.sameAsRecorded(entry, cur):
			// Already back, e.g. an earlier restore was interrupted.
		default:
			conflict(name, entry.obj)
		}
	}
	if len(errs) > 0 {
		// Every record stays until every object is back.
		return created, errors.Join(errs...)
	}
	if n := r.lost(k, recs); n > 0 {
		r.warn(v1alpha1.ReasonRecordsLost, "%d %s objects set aside from namespace %s could not be restored: their records were deleted while it was restricted",
			n, k.kind, r.ns.Name)
	}
	// The witness goes before the records: a crash in between leaves
	// records that the next call finds restored and drops.
	if err := e.witness(ctx, r, k, 0); err != nil {
		return created, err
	}
	for _, name := range slices.Sorted(maps.Keys(recs)) {
		r.recordsChanged()
		if err := e.deleteExact(ctx, recs[name].secret); err != nil {
			errs = append(errs, fmt.Errorf("dropping the record of %s %s: %w", k.kind, name, err))
		}
	}
	return created, errors.Join(errs...)
}

// setAsideStillPresent reports whether an object a record holds is still in
// the namespace as the very object recorded (terminating included): then
// the action is not (yet) in force.
func setAsideStillPresent(recs records, present []client.Object) bool {
	for _, o := range present {
		if entry, ok := recs[o.GetName()]; ok && entry.objectUID == o.GetUID() {
			return true
		}
	}
	return false
}
