package enforcement

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// ScaleToZero: Deployments, StatefulSets, ReplicationControllers and
// ReplicaSets not run by an existing Deployment to 0 replicas; CronJobs and
// Jobs suspended; DaemonSets held off every node by a node selector no node
// matches; and every other Pod (no controller, or one that is not a
// workload above) recorded and deleted (pods.go). The prior value is
// recorded in an annotation in the same write that changes it, so no crash
// can separate the change from its record. It is in force while any
// annotation or pod record exists.
const (
	// AnnotationPriorReplicas holds spec.replicas from before ScaleToZero
	// ("unset" when it was not set).
	AnnotationPriorReplicas = "accounts.lifecycle.dev/prior-replicas"
	// AnnotationPriorSuspend holds spec.suspend from before ScaleToZero
	// ("unset" when it was not set).
	AnnotationPriorSuspend = "accounts.lifecycle.dev/prior-suspend"
	// AnnotationPriorNodeSelector holds a DaemonSet's pod template
	// nodeSelector from before ScaleToZero, as JSON ("unset" when empty).
	AnnotationPriorNodeSelector = "accounts.lifecycle.dev/prior-node-selector"
	// LabelScaledToZero is the node label a held DaemonSet's pods require;
	// no node carries it, so they run nowhere.
	LabelScaledToZero = "accounts.lifecycle.dev/scaled-to-zero"
	unset             = "unset"
)

// RBAC for scaleToZero.
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;replicasets;daemonsets,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups="",resources=replicationcontrollers,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=batch,resources=cronjobs;jobs,verbs=get;list;watch;update;patch

type scaleToZero struct{}

func (scaleToZero) Name() v1alpha1.EnforcementAction { return v1alpha1.ActionScaleToZero }

// Watched: every workload kind; not Pods, which are too many to cache
// (drift there is caught by the account's periodic re-check).
func (scaleToZero) Watched() []client.Object {
	return []client.Object{
		&appsv1.Deployment{}, &appsv1.StatefulSet{}, &appsv1.ReplicaSet{}, &appsv1.DaemonSet{},
		&corev1.ReplicationController{}, &batchv1.CronJob{}, &batchv1.Job{},
	}
}

func (scaleToZero) InForce(ctx context.Context, e *Enforcer, r *nsRun) (bool, error) {
	return e.scaledDown(ctx, r)
}

func (scaleToZero) Apply(ctx context.Context, e *Enforcer, r *nsRun) error {
	return e.scaleDown(ctx, r)
}

func (scaleToZero) Revert(ctx context.Context, e *Enforcer, r *nsRun) error {
	return e.scaleBack(ctx, r)
}

// workloadKind adapts one workload type: the value ScaleToZero holds it at,
// and how to read and write that value as the annotation's string.
type workloadKind struct {
	kind       string
	annotation string
	held       string
	list       func(ctx context.Context, e *Enforcer, ns string) ([]client.Object, error)
	// skip: left alone because something else stops it (w holds every
	// workload of the namespace, by UID).
	skip  func(o client.Object, w workloads) bool
	value func(client.Object) string
	set   func(client.Object, string) error
}

var workloadKinds = []workloadKind{
	replicaKind("Deployment", &appsv1.DeploymentList{}, nil),
	replicaKind("StatefulSet", &appsv1.StatefulSetList{}, nil),
	// A ReplicaSet run by an existing Deployment follows the Deployment; an
	// owner reference to anything else (a ConfigMap, a Deployment that is
	// gone) does not keep it running.
	replicaKind("ReplicaSet", &appsv1.ReplicaSetList{}, func(o client.Object, w workloads) bool { return w.controlledBy(o, "Deployment") }),
	replicaKind("ReplicationController", &corev1.ReplicationControllerList{}, nil),
	daemonSetKind,
	suspendKind("CronJob", &batchv1.CronJobList{}, nil),
	// A finished Job has nothing left to suspend; one run by an existing
	// CronJob is suspended itself all the same, since suspending the
	// CronJob does not stop a Job already started.
	suspendKind("Job", &batchv1.JobList{}, func(o client.Object, _ workloads) bool { return jobFinished(o.(*batchv1.Job)) }),
}

// workloads are the namespace's workload objects, by UID.
type workloads map[types.UID]client.Object

// controlledBy: o's controller is one of these workloads of the given kind.
func (w workloads) controlledBy(o client.Object, kinds ...string) bool {
	ref := metav1.GetControllerOf(o)
	if ref == nil {
		return false
	}
	owner, ok := w[ref.UID]
	return ok && owner.GetName() == ref.Name && slices.Contains(kinds, ref.Kind) && kindOfObject(owner) == ref.Kind
}

// listWorkloads lists every workload kind of the namespace once.
func (e *Enforcer) listWorkloads(ctx context.Context, r *nsRun) (map[string][]client.Object, workloads, error) {
	byKind := map[string][]client.Object{}
	all := workloads{}
	for _, k := range workloadKinds {
		objs, err := k.list(ctx, e, r.ns.Name)
		if err != nil {
			return nil, nil, err
		}
		byKind[k.kind] = objs
		for _, o := range objs {
			all[o.GetUID()] = o
		}
	}
	return byKind, all, nil
}

func (e *Enforcer) scaledDown(ctx context.Context, r *nsRun) (bool, error) {
	byKind, _, err := e.listWorkloads(ctx, r)
	if err != nil {
		return false, err
	}
	for _, k := range workloadKinds {
		for _, o := range byKind[k.kind] {
			if _, ok := o.GetAnnotations()[k.annotation]; ok {
				return true, nil
			}
		}
	}
	recs, err := e.readRecords(ctx, r, podRecords)
	return len(recs) > 0, err
}

func (e *Enforcer) scaleDown(ctx context.Context, r *nsRun) error {
	byKind, all, err := e.listWorkloads(ctx, r)
	if err != nil {
		return err
	}
	var held []string
	var errs []error
	for _, k := range workloadKinds {
		for _, o := range byKind[k.kind] {
			_, recorded := o.GetAnnotations()[k.annotation]
			if k.skip != nil && k.skip(o, all) && !recorded {
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
				errs = append(errs, fmt.Errorf("holding %s %s at %s: %w", k.kind, o.GetName(), k.held, err))
				continue
			}
			if recorded {
				r.warn(v1alpha1.ReasonDriftCorrected, "%s %s was changed to %s by someone else while restricted and was held again (%s is restored on reinstatement)",
					k.kind, o.GetName(), cur, o.GetAnnotations()[k.annotation])
			}
			held = append(held, k.kind+" "+o.GetName())
		}
	}
	deleted, err := e.stopPods(ctx, r, all)
	if err != nil {
		errs = append(errs, err)
	}
	held = append(held, deleted...)
	if len(held) > 0 {
		r.put = append(r.put, fmt.Sprintf("%s (scaled to zero, suspended or stopped: %s)", v1alpha1.ActionScaleToZero, strings.Join(held, ", ")))
	}
	return errors.Join(errs...)
}

func (e *Enforcer) scaleBack(ctx context.Context, r *nsRun) error {
	byKind, all, err := e.listWorkloads(ctx, r)
	if err != nil {
		return err
	}
	var restored []string
	var errs []error
	for _, k := range workloadKinds {
		for _, o := range byKind[k.kind] {
			prior, recorded := o.GetAnnotations()[k.annotation]
			if !recorded {
				continue
			}
			changed := o.DeepCopyObject().(client.Object)
			removeAnnotation(changed, k.annotation)
			cur := k.value(o)
			switch {
			case k.skip != nil && k.skip(o, all):
				// Something else runs it now: the deployment controller
				// copies a Deployment's annotations onto its ReplicaSet, so
				// this one is most likely the Deployment's record, not
				// ours; either way the Deployment restored above sets its
				// replicas. Only the annotation goes.
			case cur != k.held:
				// Someone changed it while restricted: their value stands.
				r.warn(v1alpha1.ReasonRestoreConflict,
					"%s %s was changed to %s by someone else while restricted and was left as it is (it was %s before)",
					k.kind, o.GetName(), cur, prior)
			case k.set(changed, prior) != nil:
				r.warn(v1alpha1.ReasonRestoreConflict,
					"%s %s has an unreadable %s annotation %q and was left at %s", k.kind, o.GetName(), k.annotation, prior, cur)
			default:
				restored = append(restored, k.kind+" "+o.GetName())
			}
			if err := e.patchExact(ctx, o, changed); err != nil {
				errs = append(errs, fmt.Errorf("restoring %s %s: %w", k.kind, o.GetName(), err))
			}
		}
	}
	recreated, err := e.restorePods(ctx, r)
	if err != nil {
		errs = append(errs, err)
	}
	restored = append(restored, recreated...)
	if len(errs) > 0 {
		return errors.Join(errs...)
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

func replicaKind(kind string, list client.ObjectList, skip func(client.Object, workloads) bool) workloadKind {
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

func suspendKind(kind string, list client.ObjectList, skip func(client.Object, workloads) bool) workloadKind {
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
	case *corev1.ReplicationController:
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

// lister lists one kind in a namespace as client.Objects, from the API
// server unless the metadata cache says there is none (see mayHold).
func lister(proto client.ObjectList) func(context.Context, *Enforcer, string) ([]client.Object, error) {
	return func(ctx context.Context, e *Enforcer, ns string) ([]client.Object, error) {
		if !e.mayHold(ctx, proto, ns) {
			return nil, nil
		}
		list := proto.DeepCopyObject().(client.ObjectList)
		if err := e.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
			return nil, fmt.Errorf("listing %ss: %w", strings.TrimSuffix(reflect.TypeOf(proto).Elem().Name(), "List"), err)
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
