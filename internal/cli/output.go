package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/lifecycle"
	"github.com/accountops/account-lifecycle-operator/internal/resolve"
)

// outputFlag adds -o/--output: the human text by default, or json|yaml for
// scripts, as kubectl does.
func outputFlag(fs *pflag.FlagSet) *string {
	return fs.StringP("output", "o", "", "output format: json or yaml (default: human-readable text)")
}

// checkOutput refuses an unknown -o before anything is read.
func checkOutput(o string) error {
	switch o {
	case "", "json", "yaml":
		return nil
	}
	return usagef("--output %q: use json or yaml (or leave it out for text)", o)
}

// checkWriteOutput refuses an unknown -o of a command that writes, which
// also prints -o name.
func checkWriteOutput(o string) error {
	switch o {
	case "", "json", "yaml", "name":
		return nil
	}
	return usagef("--output %q: use json, yaml or name (or leave it out for a summary)", o)
}

// writeStructured writes v as JSON or YAML.
func writeStructured(w io.Writer, format string, v any) error {
	var b []byte
	var err error
	if format == "json" {
		b, err = json.MarshalIndent(v, "", "  ")
		b = append(b, '\n')
	} else {
		b, err = yaml.Marshal(v)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Explanation is what `explain -o json|yaml` prints.
type Explanation struct {
	Account        string                     `json:"account"`
	DisplayName    string                     `json:"displayName,omitempty"`
	Phase          v1alpha1.AccountPhase      `json:"phase,omitempty"`
	PhaseSince     *metav1.Time               `json:"phaseSince,omitempty"`
	Policy         string                     `json:"policy,omitempty"`
	PolicyProblem  string                     `json:"policyProblem,omitempty"`
	Score          int32                      `json:"score"`
	Thresholds     []v1alpha1.AccountPhase    `json:"thresholdsReached,omitempty"`
	DueNow         *lifecycle.Transition      `json:"dueNow,omitempty"`
	Explanation    string                     `json:"explanation,omitempty"`
	NextEvaluation *time.Time                 `json:"nextEvaluation,omitempty"`
	Incidents      []IncidentVerdict          `json:"incidents"`
	Approvals      *ApprovalsView             `json:"approvals,omitempty"`
	Conditions     []metav1.Condition         `json:"conditions,omitempty"`
	Namespaces     []v1alpha1.NamespaceStatus `json:"namespaces,omitempty"`
	Hold           v1alpha1.Hold              `json:"hold,omitzero"`
	Statement      *lifecycle.Statement       `json:"lastStatement,omitempty"`
}

// IncidentVerdict is one incident and whether it counts now.
type IncidentVerdict struct {
	v1alpha1.Incident `json:",inline"`
	Points            int32  `json:"pointsNow"`
	Counts            bool   `json:"counts"`
	NotCounted        string `json:"notCounted,omitempty"`
}

// ApprovalsView is how many approvals termination needs and each judged.
type ApprovalsView struct {
	Needed   int                         `json:"needed"`
	Verdicts []lifecycle.ApprovalVerdict `json:"recorded"`
}

// explanation gathers what explain shows, for -o json|yaml.
func explanation(acct *v1alpha1.CustomerAccount, res resolve.Resolution, now time.Time) Explanation {
	e := Explanation{Account: acct.Name, DisplayName: acct.Spec.DisplayName, Phase: acct.Status.Phase, PhaseSince: acct.Status.PhaseSince,
		Conditions: acct.Status.Conditions, Namespaces: acct.Status.Namespaces, Hold: acct.Spec.Hold, Incidents: []IncidentVerdict{}}
	policy := res.Policy
	if policy == nil {
		e.PolicyProblem = fmt.Sprintf("%s: %s", res.Reason, res.Message)
	} else {
		e.Policy = policy.Name
		d := lifecycle.Evaluate(acct, policy, now)
		e.Score, e.Thresholds, e.DueNow, e.Explanation, e.NextEvaluation = d.Score, d.Thresholds, d.Transition, d.Explanation, d.NextEvaluation
		needed, verdicts := lifecycle.Approvals(acct, policy, now)
		e.Approvals = &ApprovalsView{Needed: needed, Verdicts: verdicts}
		if h := acct.Status.History; len(h) > 0 {
			s := lifecycle.StatementFor(acct, policy, h[0])
			e.Statement = &s
		}
	}
	for i := range acct.Spec.Incidents {
		inc := acct.Spec.Incidents[i]
		v := IncidentVerdict{Incident: inc, Points: lifecycle.Points(policy, &inc)}
		if policy != nil {
			v.Counts, v.NotCounted = lifecycle.Counts(acct, policy, &inc, now)
		}
		e.Incidents = append(e.Incidents, v)
	}
	return e
}

// SimulationRow is one account of `simulate -o json|yaml`.
type SimulationRow struct {
	Account   string                `json:"account"`
	Current   v1alpha1.AccountPhase `json:"currentPhase"`
	Simulated v1alpha1.AccountPhase `json:"simulatedPhase"`
	Score     int32                 `json:"score"`
	Changes   bool                  `json:"changes"`
}

// Simulation is what `simulate -o json|yaml` prints.
type Simulation struct {
	Policy   string          `json:"policy"`
	At       time.Time       `json:"at"`
	Accounts []SimulationRow `json:"accounts"`
	Changed  int             `json:"changed"`
	Escalate int             `json:"escalate"`
}
