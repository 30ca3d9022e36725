package enforcement

import (
	"context"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// Pods that no workload of the namespace controls (bare pods, or pods whose
// owner reference names a ConfigMap or some custom resource) would keep
// running through ScaleToZero. They are recorded (one Secret each, like
// RoleBindings) and deleted, and recreated from their records on restore
// (the scheduler places them anew; a pod whose owner is gone by then is
// garbage-collected as it would have been).

// podControllers are the kinds whose pods ScaleToZero stops by holding the
// controller itself.
var podControllers = []string{"ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet", "Job"}

var podRecords = newRecordKind[corev1.Pod]("Pod", "pod", func(p *corev1.Pod) {
	p.Status = corev1.PodStatus{}
	// Set at creation by the scheduler, or not settable at creation.
	p.Spec.NodeName = ""
	p.Spec.EphemeralContainers = nil
})

// stopPods records and deletes the pods no workload controls, returning
// what it stopped.
func (e *Enforcer) stopPods(ctx context.Context, r *nsRun, all workloads) ([]string, error) {
	pods, err := lister(&corev1.PodList{})(ctx, e, r.ns.Name)
	if err != nil {
		return nil, err
	}
	var stop []client.Object
	for _, p := range pods {
		if all.controlledBy(p, podControllers...) || p.GetDeletionTimestamp() != nil && len(p.GetFinalizers()) == 0 {
			continue
		}
		stop = append(stop, p)
	}
	// A pod recreated under a recorded name (by someone the freeze admits)
	// is deleted, the original kept.
	removed, _, err := e.setAsideEach(ctx, r, podRecords, stop)
	stopped := make([]string, len(removed))
	for i, name := range removed {
		stopped[i] = "Pod " + name
	}
	return stopped, err
}

// restorePods recreates the recorded pods and drops the records.
func (e *Enforcer) restorePods(ctx context.Context, r *nsRun) ([]string, error) {
	recs, err := e.readRecords(ctx, r, podRecords)
	if err != nil || len(recs) == 0 && r.lost(podRecords, recs) == 0 {
		return nil, err
	}
	if _, err := e.restoreRecorded(ctx, r, podRecords, recs, func(name string, _ client.Object) {
		r.warn(v1alpha1.ReasonRestoreConflict, "Pod %s was created by someone else while scaled to zero and was left as it is; the recorded pod was not recreated", name)
	}); err != nil {
		return nil, err
	}
	var out []string
	for _, name := range slices.Sorted(maps.Keys(recs)) {
		out = append(out, "Pod "+name)
	}
	return out, nil
}
