package enforcement

import (
	"context"
	"reflect"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// Action is one enforcement action. Each lives in a file of its own, with
// the RBAC markers for what it touches, and is listed once in stages:
// adding an action is that file, that line, and its name in the API (a
// test checks the API against stages).
//
// What is in force is read back from the world, never remembered, so a
// fresh process computes the same thing, and Apply and Revert must leave a
// state the next call finishes exactly if they are interrupted anywhere:
// whatever Revert must restore is recorded before Apply changes it.
type Action interface {
	// Name is the action's name in AccountPolicy spec.enforcement.
	Name() v1alpha1.EnforcementAction
	// InForce reads whether the action is fully in force in the namespace.
	InForce(ctx context.Context, e *Enforcer, r *nsRun) (bool, error)
	// Apply puts the action in force; it is called again while in force,
	// and then corrects drift.
	Apply(ctx context.Context, e *Enforcer, r *nsRun) error
	// Revert lifts the action and restores exactly what it changed; it is a
	// no-op when nothing of the action is left.
	Revert(ctx context.Context, e *Enforcer, r *nsRun) error
	// Watched are the kinds whose changes can undo the action in a tenant
	// namespace: the manager watches their metadata (drift) and reads them
	// from the API server, never from a cache of whole objects.
	Watched() []client.Object
}

// stages are every action in the order they are put in force. Stages are
// lifted in the reverse order, but the actions of one stage in the order
// listed:
//   - the freeze goes in first, so tenants cannot change what is being
//     restricted, and comes off last, after everything else is back;
//   - the quota goes in before workloads are scaled down, and comes off
//     before they scale back up, so their pods are never refused on the way.
var stages = [][]Action{
	{freezeChanges{}},
	{revokeAccess{}, readOnlyAccess{}},
	{blockNewWorkloads, scaleToZero{}},
	{isolateNetwork{}},
}

var (
	// applyOrder and revertOrder are the stages, flattened.
	applyOrder, revertOrder = orders(stages)
	actionsByName           = func() map[v1alpha1.EnforcementAction]Action {
		m := map[v1alpha1.EnforcementAction]Action{}
		for _, st := range stages {
			for _, a := range st {
				m[a.Name()] = a
			}
		}
		return m
	}()
)

func orders(stages [][]Action) (apply, revert []v1alpha1.EnforcementAction) {
	for _, st := range stages {
		for _, a := range st {
			apply = append(apply, a.Name())
		}
	}
	for i := len(stages) - 1; i >= 0; i-- {
		for _, a := range stages[i] {
			revert = append(revert, a.Name())
		}
	}
	return apply, revert
}

// Actions are the names of every action, in the order they are put in force.
func Actions() []v1alpha1.EnforcementAction { return slices.Clone(applyOrder) }

func action(a v1alpha1.EnforcementAction) Action {
	if impl, ok := actionsByName[a]; ok {
		return impl
	}
	panic("enforcement: unknown action " + string(a)) // Request.validate rules this out
}

// WatchedKinds are the kinds whose changes can undo an action: every
// action's Watched, once each.
func WatchedKinds() []client.Object {
	var out []client.Object
	seen := map[reflect.Type]bool{}
	for _, st := range stages {
		for _, a := range st {
			for _, o := range a.Watched() {
				if t := reflect.TypeOf(o); !seen[t] {
					seen[t] = true
					out = append(out, o)
				}
			}
		}
	}
	return out
}

// UncachedKinds are every kind enforcement reads, to be read from the API
// server: the watched kinds, Pods (too many to cache; ScaleToZero lists
// them) and Secrets (records live in the operator's namespace only).
func UncachedKinds() []client.Object {
	return append([]client.Object{&corev1.Secret{}, &corev1.Pod{}}, WatchedKinds()...)
}
