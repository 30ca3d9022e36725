package v1alpha1_test

import (
	"path/filepath"
	"testing"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/manifests"
)

// The limits clients check before sending are the ones the API server
// enforces: the generated CRD schema states the same numbers.
func TestLimitsMatchTheSchema(t *testing.T) {
	file := filepath.Join("..", "..", "config", "crd", "bases", "accounts.lifecycle.dev_customeraccounts.yaml")
	at := func(path string) map[string]any {
		node, err := manifests.SchemaAt(file, path)
		if err != nil {
			t.Fatal(err)
		}
		return node
	}
	incident := "properties.spec.properties.incidents.items.properties"
	for _, tc := range []struct {
		path, key string
		want      any
	}{
		{"properties.spec.properties.incidents", "maxItems", int64(v1alpha1.MaxIncidents)},
		{incident + ".id", "maxLength", int64(v1alpha1.MaxIncidentIDLength)},
		{incident + ".id", "pattern", v1alpha1.IncidentIDPattern},
		{incident + ".reportedBy", "maxLength", int64(v1alpha1.MaxNameLength)},
		{incident + ".summary", "maxLength", int64(v1alpha1.MaxTextLength)},
		{"properties.status.properties.history", "maxItems", int64(v1alpha1.MaxHistory)},
		{"properties.status.properties.history.items.properties.message", "maxLength", int64(v1alpha1.MaxMessage)},
		{"properties.status.properties.namespaces", "maxItems", int64(v1alpha1.MaxStatusNamespaces)},
		{"properties.status.properties.namespaces.items.properties.message", "maxLength", int64(v1alpha1.MaxMessage)},
	} {
		if got := at(tc.path)[tc.key]; got != tc.want {
			t.Errorf("%s %s = %v, the Go constant says %v", tc.path, tc.key, got, tc.want)
		}
	}
}
