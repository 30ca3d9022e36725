package enforcement

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// AnnotationSetAside on a tenant Namespace counts, per kind, the records of
// objects set aside from it: the witness that tells a record deleted by
// someone (a careless admin, a cleanup job) from one never written. It is
// raised before an object is removed and cleared once everything of the
// kind is back. A record found missing is reported (RecordsLost, and an
// enforcement error while restricted); to acknowledge a loss, an
// administrator sets the count to the number of records left.
const AnnotationSetAside = "accounts.lifecycle.dev/set-aside"

func (r *nsRun) witnessed() map[string]int {
	out := map[string]int{}
	if raw := r.ns.Annotations[AnnotationSetAside]; raw != "" {
		_ = json.Unmarshal([]byte(raw), &out) // unreadable counts as none
	}
	return out
}

// lost reports how many of the kind's witnessed records are missing.
func (r *nsRun) lost(k recordKind, recs records) int {
	return max(r.witnessed()[k.id]-len(recs), 0)
}

// witness sets the namespace's count for the kind to n (0 removes it), in
// one write, and only when it differs.
func (e *Enforcer) witness(ctx context.Context, r *nsRun, k recordKind, n int) error {
	counts := r.witnessed()
	if counts[k.id] == n {
		return nil
	}
	if n == 0 {
		delete(counts, k.id)
	} else {
		counts[k.id] = n
	}
	ns := r.ns.DeepCopy()
	if len(counts) == 0 {
		delete(ns.Annotations, AnnotationSetAside)
	} else {
		raw, err := json.Marshal(counts)
		if err != nil {
			return err
		}
		if ns.Annotations == nil {
			ns.Annotations = map[string]string{}
		}
		ns.Annotations[AnnotationSetAside] = string(raw)
	}
	if err := e.Client.Patch(ctx, ns, client.MergeFromWithOptions(r.ns, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("counting the %s records on the namespace: %w", k.kind, err)
	}
	r.ns = ns
	return nil
}

// checkWitness reports records of the kind that are missing while the
// action is in force, as a persistent warning and an error: what they
// held cannot be restored.
func (r *nsRun) checkWitness(k recordKind, recs records) error {
	n := r.lost(k, recs)
	if n == 0 {
		return nil
	}
	msg := fmt.Sprintf("%d of the %d %s records of namespace %s are missing (deleted by someone?): those %s objects cannot be restored; once reviewed, set the namespace annotation %s to {%q:%s} to acknowledge",
		n, r.witnessed()[k.id], k.kind, r.ns.Name, k.kind, AnnotationSetAside, k.id, strconv.Itoa(len(recs)))
	r.warnPersistent(v1alpha1.ReasonRecordsLost, "%s", msg)
	return fmt.Errorf("%s", msg)
}
