package enforcement

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// ScaleToZero: Deployments, StatefulSets and owner-less ReplicaSets to 0
// replicas; CronJobs and Jobs suspended. The prior value is recorded in an
// annotation in the same write that changes it, so no crash can separate
// the change from its record. It is in force while any annotation exists.
const (
	// AnnotationPriorReplicas holds spec.replicas from before ScaleToZero
	// ("unset" when it was not set).
	AnnotationPriorReplicas = "accounts.lifecycle.dev/prior-replicas"
	// AnnotationPriorSuspend holds spec.suspend from before ScaleToZero
	// ("unset" when it was not set).
	AnnotationPriorSuspend = "accounts.lifecycle.dev/prior-suspend"
	unset                  = "unset"
)

// workloadKind adapts one workload type: the value ScaleToZero holds it at,
// and how to read and write that value as the annotation's string.
type workloadKind struct {
	kind       string
	annotation string
	held       string
	list       func(ctx context.Context, c client.Client, ns string) ([]client.Object, error)
	skip       func(client.Object) bool
	value      func(client.Object) string
	set        func(client.Object, string) error
}

var workloadKinds = []workloadKind{
	replicaKind("Deployment", &appsv1.DeploymentList{}, nil),
	replicaKind("StatefulSet", &appsv1.StatefulSetList{}, nil),
	// ReplicaSets of a Deployment follow the Deployment.
	replicaKind("ReplicaSet", &appsv1.ReplicaSetList{}, func(o client.Object) bool { return len(o.GetOwnerReferences()) > 0 }),
	suspendKind("CronJob", &batchv1.CronJobList{}, nil),
	// A finished Job has nothing left to suspend.
	suspendKind("Job", &batchv1.JobList{}, func(o client.Object) bool { return jobFinished(o.(*batchv1.Job)) }),
}

func (e *Enforcer) scaledDown(ctx context.Context, r *nsRun) (bool, error) {
	for _, k := range workloadKinds {
		objs, err := k.list(ctx, e.Client, r.ns.Name)
		if err != nil {
			return false, err
		}
		for _, o := range objs {
			if _, ok := o.GetAnnotations()[k.annotation]; ok {
				return true, nil
			}
		}
	}
	return false, nil
}

func (e *Enforcer) scaleDown(ctx context.Context, r *nsRun) error {
	var held []string
	for _, k := range workloadKinds {
		objs, err := k.list(ctx, e.Client, r.ns.Name)
		if err != nil {
			return err
		}
		for _, o := range objs {
			_, recorded := o.GetAnnotations()[k.annotation]
			if k.skip != nil && k.skip(o) && !recorded {
				continue
			}
			cur := k.value(o)
			if recorded && cur == k.held {
				continue
			}
			changed := o.DeepCopyObject().(client.Object)
			if !recorded {
				setAnnotation(changed, k.annotation, cur)
			}
			// A value changed while restricted is held again; the first
			// recorded value is the one restored.
			if err := k.set(changed, k.held); err != nil {
				return err
			}
			if err := e.patchExact(ctx, o, changed); err != nil {
				return fmt.Errorf("holding %s %s at %s: %w", k.kind, o.GetName(), k.held, err)
			}
			held = append(held, k.kind+" "+o.GetName())
		}
	}
	if len(held) > 0 {
		r.put = append(r.put, fmt.Sprintf("%s (scaled to zero or suspended: %s)", v1alpha1.ActionScaleToZero, strings.Join(held, ", ")))
	}
	return nil
}

func (e *Enforcer) scaleBack(ctx context.Context, r *nsRun) error {
	var restored []string
	for _, k := range workloadKinds {
		objs, err := k.list(ctx, e.Client, r.ns.Name)
		if err != nil {
			return err
		}
		for _, o := range objs {
			prior, recorded := o.GetAnnotations()[k.annotation]
			if !recorded {
				continue
			}
			changed := o.DeepCopyObject().(client.Object)
			removeAnnotation(changed, k.annotation)
			cur := k.value(o)
			switch {
			case cur != k.held:
				// Someone changed it while restricted: their value stands.
				r.warn(ReasonRestoreConflict,
					"%s %s was changed to %s by someone else while restricted and was left as it is (it was %s before)",
					k.kind, o.GetName(), cur, prior)
			case k.set(changed, prior) != nil:
				r.warn(ReasonRestoreConflict,
					"%s %s has an unreadable %s annotation %q and was left at %s", k.kind, o.GetName(), k.annotation, prior, cur)
			default:
				restored = append(restored, k.kind+" "+o.GetName())
			}
			if err := e.patchExact(ctx, o, changed); err != nil {
				return fmt.Errorf("restoring %s %s: %w", k.kind, o.GetName(), err)
			}
		}
	}
	if len(restored) > 0 {
		r.reversed = append(r.reversed, fmt.Sprintf("%s (restored: %s)", v1alpha1.ActionScaleToZero, strings.Join(restored, ", ")))
	}
	return nil
}

// patchExact writes changed over orig only if orig is still current.
func (e *Enforcer) patchExact(ctx context.Context, orig, changed client.Object) error {
	return e.Client.Patch(ctx, changed, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{}))
}

func setAnnotation(o client.Object, k, v string) {
	a := o.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[k] = v
	o.SetAnnotations(a)
}

func removeAnnotation(o client.Object, k string) {
	a := o.GetAnnotations()
	delete(a, k)
	o.SetAnnotations(a)
}

func replicaKind(kind string, list client.ObjectList, skip func(client.Object) bool) workloadKind {
	return workloadKind{
		kind: kind, annotation: AnnotationPriorReplicas, held: "0", skip: skip,
		list: lister(list),
		value: func(o client.Object) string {
			if p := *replicas(o); p != nil {
				return strconv.Itoa(int(*p))
			}
			return unset
		},
		set: func(o client.Object, v string) error {
			if v == unset {
				*replicas(o) = nil
				return nil
			}
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil || n < 0 {
				return fmt.Errorf("invalid replicas %q", v)
			}
			*replicas(o) = ptr.To(int32(n))
			return nil
		},
	}
}

func suspendKind(kind string, list client.ObjectList, skip func(client.Object) bool) workloadKind {
	return workloadKind{
		kind: kind, annotation: AnnotationPriorSuspend, held: "true", skip: skip,
		list: lister(list),
		value: func(o client.Object) string {
			if p := *suspend(o); p != nil {
				return strconv.FormatBool(*p)
			}
			return unset
		},
		set: func(o client.Object, v string) error {
			if v == unset {
				*suspend(o) = nil
				return nil
			}
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("invalid suspend %q", v)
			}
			*suspend(o) = ptr.To(b)
			return nil
		},
	}
}

func replicas(o client.Object) **int32 {
	switch w := o.(type) {
	case *appsv1.Deployment:
		return &w.Spec.Replicas
	case *appsv1.StatefulSet:
		return &w.Spec.Replicas
	case *appsv1.ReplicaSet:
		return &w.Spec.Replicas
	}
	panic(fmt.Sprintf("enforcement: %T has no replicas", o))
}

func suspend(o client.Object) **bool {
	switch w := o.(type) {
	case *batchv1.CronJob:
		return &w.Spec.Suspend
	case *batchv1.Job:
		return &w.Spec.Suspend
	}
	panic(fmt.Sprintf("enforcement: %T has no suspend", o))
}

// lister lists one kind in a namespace as client.Objects.
func lister(proto client.ObjectList) func(context.Context, client.Client, string) ([]client.Object, error) {
	return func(ctx context.Context, c client.Client, ns string) ([]client.Object, error) {
		list := proto.DeepCopyObject().(client.ObjectList)
		if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
			return nil, fmt.Errorf("listing workloads: %w", err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		out := make([]client.Object, len(items))
		for i, it := range items {
			out[i] = it.(client.Object)
		}
		return out, nil
	}
}

func jobFinished(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
