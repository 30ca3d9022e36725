package metrics

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/yaml"
)

// series are the operator's metric names as a scrape shows them.
func series(t *testing.T) []string {
	t.Helper()
	SetPendingSource(func() (int, time.Time, error) { return 0, time.Time{}, nil }, time.Now)
	SetDecisionSources(func() (int, time.Time, error) { return 0, time.Time{}, nil },
		func() (int, time.Time, error) { return 0, time.Time{}, nil }, time.Now)
	AccountsByPhase.WithLabelValues("p", "Good").Set(0)
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	return names
}

var metricName = regexp.MustCompile(`\baccount_lifecycle_[a-z_]+`)

// The shipped alerts and dashboard only use series the operator exports:
// a renamed metric cannot leave an alert that never fires.
func TestAlertsAndDashboardUseExportedSeries(t *testing.T) {
	exported := series(t)
	root := filepath.Join("..", "..", "config", "prometheus")
	var exprs []string

	raw, err := os.ReadFile(filepath.Join(root, "rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rule struct {
		Kind string `json:"kind"`
		Spec struct {
			Groups []struct {
				Rules []struct {
					Alert string `json:"alert"`
					Expr  string `json:"expr"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(raw, &rule); err != nil {
		t.Fatal(err)
	}
	if rule.Kind != "PrometheusRule" {
		t.Fatalf("rules.yaml is a %q", rule.Kind)
	}
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" {
				t.Errorf("a rule without an alert name or expression: %+v", r)
			}
			exprs = append(exprs, r.Expr)
		}
	}

	raw, err = os.ReadFile(filepath.Join(root, "dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	if len(exprs) < 10 {
		t.Fatalf("only %d expressions found", len(exprs))
	}
	for _, e := range exprs {
		for _, name := range metricName.FindAllString(e, -1) {
			if !slices.Contains(exported, name) {
				t.Errorf("%q uses %s, which the operator does not export", e, name)
			}
		}
	}
}
