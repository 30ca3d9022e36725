package manifests

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// SchemaAt reads the generated CRD in file (its first version's
// openAPIV3Schema) and returns the schema node at a dotted path of keys,
// e.g. "properties.spec.properties.incidents": for tests that hold Go
// constants to what the API server enforces.
func SchemaAt(file, path string) (map[string]any, error) {
	objs, err := Read(file)
	if err != nil {
		return nil, err
	}
	if len(objs) != 1 {
		return nil, fmt.Errorf("%s: %d documents, want one CRD", file, len(objs))
	}
	versions, _, err := unstructured.NestedSlice(objs[0].Object, "spec", "versions")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(versions) == 0 {
		return nil, fmt.Errorf("%s: no versions", file)
	}
	v, ok := versions[0].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: version is not an object", file)
	}
	keys := append([]string{"schema", "openAPIV3Schema"}, strings.Split(path, ".")...)
	node, found, err := unstructured.NestedMap(v, keys...)
	if err != nil {
		return nil, fmt.Errorf("%s: schema at %s: %w", file, path, err)
	}
	if !found {
		return nil, fmt.Errorf("%s: no schema at %s", file, path)
	}
	return node, nil
}
