package enforcement

import (
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/manifests"
)

// The registry is the one list of actions: the API's enum, its bound on
// every list of actions and v1alpha1.EnforcementActions must name exactly
// the registered actions, so an action cannot be added on one side only.
func TestAPINamesExactlyTheRegisteredActions(t *testing.T) {
	registered := slices.Sorted(slices.Values(Actions()))
	if len(registered) != len(actionsByName) {
		t.Fatalf("an action is registered twice: %v", Actions())
	}
	if api := slices.Sorted(slices.Values(v1alpha1.EnforcementActions)); !slices.Equal(api, registered) {
		t.Errorf("v1alpha1.EnforcementActions = %v, registered %v", api, registered)
	}
	if v1alpha1.MaxActions != len(registered) {
		t.Errorf("v1alpha1.MaxActions = %d, %d actions registered", v1alpha1.MaxActions, len(registered))
	}
	lists := map[string][]string{
		"accounts.lifecycle.dev_accountpolicies.yaml": {
			"spec.properties.enforcement.properties.warned",
			"spec.properties.enforcement.properties.finalNotice",
			"spec.properties.enforcement.properties.terminated",
		},
		"accounts.lifecycle.dev_customeraccounts.yaml": {"status.properties.namespaces.items.properties.actions"},
	}
	for file, paths := range lists {
		for _, path := range paths {
			list, err := manifests.SchemaAt(filepath.Join("..", "..", "config", "crd", "bases", file), "properties."+path)
			if err != nil {
				t.Fatal(err)
			}
			if got := list["maxItems"]; got != int64(len(registered)) {
				t.Errorf("%s %s: maxItems %v, want %d (one per action)", file, path, got, len(registered))
			}
			var enum []v1alpha1.EnforcementAction
			for _, v := range list["items"].(map[string]any)["enum"].([]any) {
				enum = append(enum, v1alpha1.EnforcementAction(v.(string)))
			}
			if slices.Sort(enum); !slices.Equal(enum, registered) {
				t.Errorf("%s %s: enum %v, registered %v", file, path, enum, registered)
			}
		}
	}
}

// The order keeps the promises the stages state: the freeze first on and
// last off; the quota before workloads scale, both ways.
func TestActionOrder(t *testing.T) {
	if applyOrder[0] != v1alpha1.ActionFreezeChanges || revertOrder[len(revertOrder)-1] != v1alpha1.ActionFreezeChanges {
		t.Errorf("apply %v, revert %v: the freeze must go on first and come off last", applyOrder, revertOrder)
	}
	for name, order := range map[string][]v1alpha1.EnforcementAction{"apply": applyOrder, "revert": revertOrder} {
		if slices.Index(order, v1alpha1.ActionBlockNewWorkloads) > slices.Index(order, v1alpha1.ActionScaleToZero) {
			t.Errorf("%s order %v: the quota must come before scaling", name, order)
		}
		if len(order) != len(actionsByName) {
			t.Errorf("%s order %v does not hold every action once", name, order)
		}
	}
}

// Every kind an action watches is read from the API server, never from a
// cache of whole objects, and each is watched once.
func TestWatchedKindsAreReadUncached(t *testing.T) {
	watched := WatchedKinds()
	uncached := UncachedKinds()
	has := func(list []any, o any) bool {
		return slices.ContainsFunc(list, func(x any) bool { return reflect.TypeOf(x) == reflect.TypeOf(o) })
	}
	var seen []any
	for _, o := range watched {
		if has(seen, o) {
			t.Errorf("%T is watched twice", o)
		}
		seen = append(seen, o)
	}
	var all []any
	for _, o := range uncached {
		all = append(all, o)
	}
	for _, st := range stages {
		for _, a := range st {
			for _, o := range a.Watched() {
				if !has(seen, o) || !has(all, o) {
					t.Errorf("%s watches %T, which is not watched or not read uncached", a.Name(), o)
				}
			}
		}
	}
	for _, o := range []any{&corev1.Secret{}, &corev1.Pod{}} {
		if !has(all, o) {
			t.Errorf("%T must be read uncached", o)
		}
	}
}
