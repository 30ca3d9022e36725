package helm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// managerContainer is the chart's manager container.
func managerContainer(t *testing.T, objs []*unstructured.Unstructured) map[string]any {
	t.Helper()
	d := find(t, objs, "Deployment", "account-lifecycle-operator-controller-manager")
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	return containers[0].(map[string]any)
}

func stringsOf(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

// portNamed returns the container port of that name, or nil.
func portNamed(c map[string]any, name string) map[string]any {
	for _, p := range c["ports"].([]any) {
		if p := p.(map[string]any); p["name"] == name {
			return p
		}
	}
	return nil
}

// kustomizeManager is the manager container of config/manager/manager.yaml.
func kustomizeManager(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "config", "manager", "manager.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := decode(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if d.GetKind() == "Deployment" {
			containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
			return containers[0].(map[string]any)
		}
	}
	t.Fatal("config/manager/manager.yaml has no Deployment")
	return nil
}

// Metrics are served securely by default, by the chart and by kustomize
// alike: --metrics-secure on :8443, a port named https, and a Service
// pointing at it. metrics.secure=false is the opt-out.
func TestMetricsAreSecureByDefault(t *testing.T) {
	for name, c := range map[string]map[string]any{"chart": managerContainer(t, mustRender(t, nil)), "kustomize": kustomizeManager(t)} {
		args := stringsOf(c["args"])
		if !slices.Contains(args, "--metrics-secure") || !slices.Contains(args, "--metrics-bind-address=:8443") {
			t.Errorf("%s: manager args %v, want --metrics-secure on :8443", name, args)
		}
		if p := portNamed(c, "https"); p == nil || p["containerPort"] != int64(8443) {
			t.Errorf("%s: no container port https 8443: %v", name, c["ports"])
		}
	}
	svc := find(t, mustRender(t, nil), "Service", "account-lifecycle-operator-metrics")
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	if p := ports[0].(map[string]any); p["name"] != "https" || p["targetPort"] != "https" || p["port"] != int64(8443) {
		t.Errorf("metrics Service port %v, want https 8443 -> https", p)
	}

	plain := managerContainer(t, mustRender(t, map[string]any{"metrics": map[string]any{"secure": false, "port": 8080}}))
	if args := stringsOf(plain["args"]); slices.Contains(args, "--metrics-secure") {
		t.Errorf("metrics.secure=false still passes --metrics-secure: %v", args)
	}
	if portNamed(plain, "http-metrics") == nil {
		t.Errorf("metrics.secure=false: no port http-metrics: %v", plain["ports"])
	}
}

// The ServiceMonitor, PrometheusRule and dashboard are off by default (they
// need the Prometheus Operator's CRDs, or a Grafana sidecar), and when on
// are the ones in config/prometheus: the same alerts, the same dashboard,
// and a scrape of the secure port with Prometheus' token.
func TestMonitoringIsOptional(t *testing.T) {
	for _, o := range mustRender(t, nil) {
		if k := o.GetKind(); k == "ServiceMonitor" || k == "PrometheusRule" || k == "ConfigMap" {
			t.Errorf("default values render a %s %s", k, o.GetName())
		}
	}
	on := map[string]any{"enabled": true}
	objs := mustRender(t, map[string]any{"metrics": map[string]any{
		"serviceMonitor": on, "prometheusRule": map[string]any{"enabled": true, "labels": map[string]any{"release": "kps"}}, "grafanaDashboard": on,
	}})

	sm := find(t, objs, "ServiceMonitor", "account-lifecycle-operator")
	endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	ep := endpoints[0].(map[string]any)
	if ep["port"] != "https" || ep["scheme"] != "https" || ep["bearerTokenFile"] == nil {
		t.Errorf("ServiceMonitor endpoint %v, want the https port with Prometheus' token", ep)
	}
	sel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	svc := find(t, objs, "Service", "account-lifecycle-operator-metrics")
	if !subset(sel, svc.GetLabels()) {
		t.Errorf("ServiceMonitor selects %v, the metrics Service has labels %v", sel, svc.GetLabels())
	}

	rule := find(t, objs, "PrometheusRule", "account-lifecycle-operator")
	if rule.GetNamespace() != "lifecycle" || rule.GetLabels()["release"] != "kps" {
		t.Errorf("PrometheusRule namespace %q labels %v", rule.GetNamespace(), rule.GetLabels())
	}
	var shipped map[string]any
	readYAML(t, filepath.Join(root, "config", "prometheus", "rules.yaml"), &shipped)
	if !reflect.DeepEqual(rule.Object["spec"], shipped["spec"]) {
		t.Error("the chart's PrometheusRule differs from config/prometheus/rules.yaml (make manifests copies it)")
	}

	cm := find(t, objs, "ConfigMap", "account-lifecycle-operator-dashboard")
	if cm.GetLabels()["grafana_dashboard"] != "1" {
		t.Errorf("dashboard ConfigMap labels %v, want grafana_dashboard: \"1\"", cm.GetLabels())
	}
	got, _, _ := unstructured.NestedString(cm.Object, "data", "account-lifecycle.json")
	var gotJSON, wantJSON any
	if err := json.Unmarshal([]byte(got), &gotJSON); err != nil {
		t.Fatalf("the dashboard in the ConfigMap is not JSON: %v", err)
	}
	readYAML(t, filepath.Join(root, "config", "prometheus", "dashboard.json"), &wantJSON)
	if !reflect.DeepEqual(gotJSON, wantJSON) {
		t.Error("the chart's dashboard differs from config/prometheus/dashboard.json (make manifests copies it)")
	}
}

// The kustomize ServiceMonitor scrapes the port the kustomize metrics
// Service names.
func TestKustomizeServiceMonitorMatchesTheService(t *testing.T) {
	var svc, sm map[string]any
	readYAML(t, filepath.Join(root, "config", "manager", "metrics_service.yaml"), &svc)
	readYAML(t, filepath.Join(root, "config", "prometheus", "monitor.yaml"), &sm)
	u, m := &unstructured.Unstructured{Object: svc}, &unstructured.Unstructured{Object: sm}
	ports, _, _ := unstructured.NestedSlice(u.Object, "spec", "ports")
	endpoints, _, _ := unstructured.NestedSlice(m.Object, "spec", "endpoints")
	if len(ports) == 0 || len(endpoints) == 0 || ports[0].(map[string]any)["name"] != endpoints[0].(map[string]any)["port"] {
		t.Errorf("Service ports %v, ServiceMonitor endpoints %v", ports, endpoints)
	}
	sel, _, _ := unstructured.NestedStringMap(m.Object, "spec", "selector", "matchLabels")
	if !subset(sel, u.GetLabels()) {
		t.Errorf("ServiceMonitor selects %v, the Service has labels %v", sel, u.GetLabels())
	}
	if p := portNamed(kustomizeManager(t), ports[0].(map[string]any)["targetPort"].(string)); p == nil {
		t.Errorf("the Service targets port %v, which the manager does not declare", ports[0])
	}
}

func subset(sub, of map[string]string) bool {
	for k, v := range sub {
		if of[k] != v {
			return false
		}
	}
	return len(sub) > 0
}

// readYAML reads a YAML (or JSON) file into into.
func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
