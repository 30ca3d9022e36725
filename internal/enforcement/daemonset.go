package enforcement

import (
	"encoding/json"
	"fmt"
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A DaemonSet has no replica count: ScaleToZero holds it by adding a node
// selector no node matches (LabelScaledToZero), so its controller removes
// its pods everywhere; the prior selector is restored exactly.
var daemonSetKind = workloadKind{
	kind: "DaemonSet", annotation: AnnotationPriorNodeSelector, held: "held",
	list: lister(&appsv1.DaemonSetList{}),
	value: func(o client.Object) string {
		sel := o.(*appsv1.DaemonSet).Spec.Template.Spec.NodeSelector
		if _, ok := sel[LabelScaledToZero]; ok {
			return "held"
		}
		if len(sel) == 0 {
			return unset
		}
		b, _ := json.Marshal(sel) // a map of strings always encodes
		return string(b)
	},
	set: func(o client.Object, v string) error {
		spec := &o.(*appsv1.DaemonSet).Spec.Template.Spec
		switch v {
		case "held":
			sel := maps.Clone(spec.NodeSelector)
			if sel == nil {
				sel = map[string]string{}
			}
			sel[LabelScaledToZero] = "true"
			spec.NodeSelector = sel
		case unset:
			spec.NodeSelector = nil
		default:
			var sel map[string]string
			if err := json.Unmarshal([]byte(v), &sel); err != nil {
				return fmt.Errorf("invalid node selector %q", v)
			}
			spec.NodeSelector = sel
		}
		return nil
	},
}

// kindOfObject names the kind of a typed workload object.
func kindOfObject(o client.Object) string {
	switch o.(type) {
	case *appsv1.Deployment:
		return "Deployment"
	case *appsv1.StatefulSet:
		return "StatefulSet"
	case *appsv1.ReplicaSet:
		return "ReplicaSet"
	case *appsv1.DaemonSet:
		return "DaemonSet"
	case *corev1.ReplicationController:
		return "ReplicationController"
	case *batchv1.CronJob:
		return "CronJob"
	case *batchv1.Job:
		return "Job"
	}
	return fmt.Sprintf("%T", o)
}
