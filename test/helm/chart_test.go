// Package helm keeps the Helm chart honest: it renders the chart in-process
// with Helm's own engine and compares it with what controller-gen generates
// and with what a real kube-apiserver accepts.
package helm

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/accountops/account-lifecycle-operator/internal/manifests"
)

const (
	root     = "../.."
	chartDir = root + "/charts/account-lifecycle-operator"
)

// render renders the chart as `helm template` would for an install.
func render(t *testing.T, release, namespace string, vals map[string]any) ([]*unstructured.Unstructured, error) {
	t.Helper()
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	values, err := chartutil.ToRenderValues(chrt, vals,
		chartutil.ReleaseOptions{Name: release, Namespace: namespace, Revision: 1, IsInstall: true}, nil)
	if err != nil {
		return nil, err
	}
	out, err := engine.Engine{Strict: true}.Render(chrt, values)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(out))
	for name := range out {
		if strings.HasSuffix(name, ".yaml") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var objs []*unstructured.Unstructured
	for _, name := range names {
		docs, err := decode([]byte(out[name]))
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out[name])
		}
		objs = append(objs, docs...)
	}
	return objs, nil
}

func mustRender(t *testing.T, vals map[string]any) []*unstructured.Unstructured {
	t.Helper()
	objs, err := render(t, "account-lifecycle-operator", "lifecycle", vals)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func decode(data []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	r := yaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &obj.Object); err != nil {
			return nil, err
		}
		if len(obj.Object) > 0 {
			out = append(out, obj)
		}
	}
}

func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("the chart renders no %s %s", kind, name)
	return nil
}

// Helm installs crds/ as they are, so they must be exactly what
// controller-gen generates (`make manifests` copies them).
func TestCRDsAreGeneratedCopies(t *testing.T) {
	want, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(want) == 0 {
		t.Fatalf("no CRDs in config/crd/bases: %v", err)
	}
	got, _ := filepath.Glob(filepath.Join(chartDir, "crds", "*"))
	if len(got) != len(want) {
		t.Errorf("chart crds/ has %d files, config/crd/bases %d: run make manifests", len(got), len(want))
	}
	for _, f := range want {
		a, _ := os.ReadFile(f)
		b, err := os.ReadFile(filepath.Join(chartDir, "crds", filepath.Base(f)))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("chart crds/%s differs from config/crd/bases (run make manifests): %v", filepath.Base(f), err)
		}
	}
}

func rules(t *testing.T, obj *unstructured.Unstructured) []rbacv1.PolicyRule {
	t.Helper()
	var r struct {
		Rules []rbacv1.PolicyRule `json:"rules"`
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &r); err != nil {
		t.Fatal(err)
	}
	return r.Rules
}

// The operator gets exactly the permissions its +kubebuilder:rbac markers
// declare: no more, no fewer.
func TestRBACEqualsGeneratedRole(t *testing.T) {
	generated, err := manifests.Read(filepath.Join(root, "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs := mustRender(t, nil)
	for _, g := range generated {
		got := find(t, objs, g.GetKind(), "account-lifecycle-operator-manager")
		if want := rules(t, g); !reflect.DeepEqual(rules(t, got), want) {
			t.Errorf("chart %s rules differ from config/rbac/role.yaml (run make manifests):\n got %+v\nwant %+v",
				g.GetKind(), rules(t, got), want)
		}
		if g.GetKind() == "Role" && got.GetNamespace() != "lifecycle" {
			t.Errorf("the secrets Role is in namespace %q, want the release namespace", got.GetNamespace())
		}
	}
}

func matchConditions(t *testing.T, obj *unstructured.Unstructured) string {
	t.Helper()
	conds, _, err := unstructured.NestedSlice(obj.Object, "spec", "matchConditions")
	if err != nil || len(conds) == 0 {
		t.Fatalf("%s has no matchConditions: %v", obj.GetName(), err)
	}
	var b strings.Builder
	for _, c := range conds {
		b.WriteString(c.(map[string]any)["expression"].(string) + "\n")
	}
	msg, _, _ := unstructured.NestedSlice(obj.Object, "spec", "validations")
	b.WriteString(msg[0].(map[string]any)["messageExpression"].(string))
	return b.String()
}

// The freeze exempts this release's service account and the configured
// admin group, and the policies can be left out.
func TestAdmissionPolicyValues(t *testing.T) {
	policies := []string{"ops-account-lifecycle-operator-frozen-namespace", "ops-account-lifecycle-operator-frozen-namespace-object"}
	objs, err := render(t, "ops", "tenancy", map[string]any{"adminGroup": "acme:sre"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range policies {
		text := matchConditions(t, find(t, objs, "ValidatingAdmissionPolicy", name))
		for _, want := range []string{"'system:serviceaccount:tenancy:ops-account-lifecycle-operator-controller-manager'", "'acme:sre'", "(acme:sre)"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s does not mention %s:\n%s", name, want, text)
			}
		}
		if strings.Contains(text, "platform:admins") {
			t.Errorf("%s still exempts platform:admins:\n%s", name, text)
		}
		find(t, objs, "ValidatingAdmissionPolicyBinding", name)
	}
	defaults := matchConditions(t, find(t, mustRender(t, nil), "ValidatingAdmissionPolicy", "account-lifecycle-operator-frozen-namespace"))
	if !strings.Contains(defaults, "'platform:admins'") {
		t.Errorf("the default admin group is not platform:admins:\n%s", defaults)
	}

	for _, o := range mustRender(t, map[string]any{"installAdmissionPolicy": false}) {
		if strings.HasPrefix(o.GetKind(), "ValidatingAdmissionPolicy") {
			t.Errorf("installAdmissionPolicy=false still renders %s %s", o.GetKind(), o.GetName())
		}
	}
	if _, err := render(t, "ops", "tenancy", map[string]any{"adminGroup": "x' || true || '"}); err == nil {
		t.Error("an adminGroup that breaks out of the CEL string was accepted")
	}
}

// The Deployment runs in the release namespace, knows it, and carries the
// values it is given.
func TestDeployment(t *testing.T) {
	objs := mustRender(t, map[string]any{
		"image":        map[string]any{"repository": "registry.example/alo", "tag": "v9"},
		"replicas":     2,
		"nodeSelector": map[string]any{"pool": "system"},
	})
	d := find(t, objs, "Deployment", "account-lifecycle-operator-controller-manager")
	if d.GetNamespace() != "lifecycle" {
		t.Errorf("Deployment namespace %q", d.GetNamespace())
	}
	spec := d.Object["spec"].(map[string]any)
	pod := spec["template"].(map[string]any)["spec"].(map[string]any)
	c := pod["containers"].([]any)[0].(map[string]any)
	if spec["replicas"] != int64(2) || c["image"] != "registry.example/alo:v9" ||
		!reflect.DeepEqual(pod["nodeSelector"], map[string]any{"pool": "system"}) {
		t.Errorf("values not applied: replicas %v image %v nodeSelector %v", spec["replicas"], c["image"], pod["nodeSelector"])
	}
	env := c["env"].([]any)[0].(map[string]any)
	if env["name"] != "POD_NAMESPACE" || c["livenessProbe"] == nil || c["readinessProbe"] == nil {
		t.Errorf("manager container lacks POD_NAMESPACE or probes: %v", c)
	}
	if pod["securityContext"].(map[string]any)["runAsNonRoot"] != true {
		t.Errorf("pod does not run as non-root by default: %v", pod["securityContext"])
	}
}

// values.schema.json refuses bad values at render time with a message that
// names the value, where a bad value used to render invalid YAML or a
// Deployment the API server refuses; the defaults and the documented
// overrides pass.
func TestValuesSchema(t *testing.T) {
	for _, ok := range []map[string]any{
		nil,
		{"replicas": 2, "adminGroup": "ops:admins", "installAdmissionPolicy": false},
		{"image": map[string]any{"repository": "registry.example/alo", "tag": "v0.1.0"}, "nodeSelector": map[string]any{"pool": "system"}},
	} {
		if _, err := render(t, "account-lifecycle-operator", "lifecycle", ok); err != nil {
			t.Errorf("values %v refused: %v", ok, err)
		}
	}
	for _, tc := range []struct {
		vals map[string]any
		want string
	}{
		{map[string]any{"replicas": "two"}, "replicas"},
		{map[string]any{"metrics": map[string]any{"port": 70000}}, "/metrics/port"},
		{map[string]any{"image": map[string]any{"pullPolicy": "Sometimes"}}, "/image/pullPolicy"},
		{map[string]any{"adminGroups": "ops"}, "adminGroups"},
	} {
		_, err := render(t, "account-lifecycle-operator", "lifecycle", tc.vals)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("values %v: got %v, want an error naming %s", tc.vals, err, tc.want)
		}
	}
}

// `helm lint`, in-process.
func TestHelmLint(t *testing.T) {
	linter := lint.All(chartDir, nil, "lifecycle", false)
	for _, m := range linter.Messages {
		if m.Severity >= support.WarningSev {
			t.Errorf("helm lint: %s", m)
		}
	}
}

// With the default values, in the kustomize install's namespace, the chart's
// admission policies are those of config/admission (only the names differ).
func TestAdmissionPoliciesMatchKustomize(t *testing.T) {
	objs, err := render(t, "account-lifecycle-operator", "account-lifecycle-operator-system", nil)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "config", "admission", "*_policy.yaml"))
	if len(files) == 0 {
		t.Fatal("no policies in config/admission")
	}
	for _, f := range files {
		want, err := manifests.Read(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			name := "account-lifecycle-operator-" + strings.TrimPrefix(w.GetName(), "account-lifecycle-")
			got := find(t, objs, w.GetKind(), name)
			if !reflect.DeepEqual(got.Object["spec"], w.Object["spec"]) {
				t.Errorf("chart %s %s differs from %s:\n got %v\nwant %v", w.GetKind(), name, f, got.Object["spec"], w.Object["spec"])
			}
		}
	}
}
