package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/lifecycle"
)

var simulateCmd = command{
	name: "simulate", args: "--policy FILE [ACCOUNT...] [--accounts-file FILE...] [--at RFC3339] [--fail-on-change]",
	short: "Evaluate a candidate policy against live accounts and/or YAML files, offline (no writes).",
	long: "Every given account is evaluated against the candidate policy, whatever policy governs\n" +
		"it today. Without ACCOUNT names or --accounts-file, all live accounts are used. With only\n" +
		"--accounts-file no cluster is needed (a preview for GitOps pull requests).\n\n" +
		"Examples:\n  kubectl account simulate --policy policy.yaml\n" +
		"  kubectl account simulate --policy policy.yaml --accounts-file accounts.yaml --fail-on-change\n",
	setup: func(a *app, fs *pflag.FlagSet) func(context.Context, []string) error {
		policyFile := fs.String("policy", "", "YAML file holding the candidate AccountPolicy (required)")
		files := fs.StringArray("accounts-file", nil, "YAML file of CustomerAccounts (multi-document); repeatable")
		at := fs.String("at", "", "evaluate at this moment, RFC3339 (default now)")
		failOnChange := fs.Bool("fail-on-change", false, "exit 2 if any account's phase would change")
		output := outputFlag(fs)
		return func(ctx context.Context, names []string) error {
			if *policyFile == "" {
				return usagef("--policy is required")
			}
			if err := checkOutput(*output); err != nil {
				return err
			}
			now := a.now
			if *at != "" {
				t, err := parseTime("at", *at)
				if err != nil {
					return err
				}
				now = t
			}
			policy, err := readPolicy(*policyFile)
			if err != nil {
				return err
			}
			var accounts []v1alpha1.CustomerAccount
			for _, f := range *files {
				got, err := readAccounts(f)
				if err != nil {
					return err
				}
				accounts = append(accounts, got...)
			}
			if len(names) > 0 || len(*files) == 0 {
				live, err := a.liveAccounts(ctx, names)
				if err != nil {
					return err
				}
				accounts = append(accounts, live...)
			}
			result := simulation(policy, accounts, now)
			changed := result.Changed
			if *output != "" {
				err = writeStructured(a.stdout, *output, result)
			} else {
				err = printSimulation(a.stdout, result)
			}
			if err == nil && changed > 0 && *failOnChange {
				return errChanged
			}
			return err
		}
	},
}

func (a *app) liveAccounts(ctx context.Context, names []string) ([]v1alpha1.CustomerAccount, error) {
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		var list v1alpha1.CustomerAccountList
		if err := c.List(ctx, &list); err != nil {
			return nil, err
		}
		return list.Items, nil
	}
	out := make([]v1alpha1.CustomerAccount, len(names))
	for i, n := range names {
		if err := c.Get(ctx, client.ObjectKey{Name: n}, &out[i]); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("customer account %q not found", n)
			}
			return nil, err
		}
	}
	return out, nil
}

// readPolicy reads one AccountPolicy strictly (unknown fields are errors,
// since a typo would silently fall back to a default) and checks it.
func readPolicy(path string) (*v1alpha1.AccountPolicy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("reading --policy: %v", err)
	}
	var p v1alpha1.AccountPolicy
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return nil, usagef("--policy %s is not a valid AccountPolicy: %v", path, err)
	}
	if p.Kind != "AccountPolicy" {
		return nil, usagef("--policy %s holds kind %q, want AccountPolicy", path, p.Kind)
	}
	if err := lifecycle.CheckPolicy(&p); err != nil {
		return nil, usagef("--policy %s: %v", path, err)
	}
	return &p, nil
}

// readAccounts reads the CustomerAccounts of a multi-document YAML file;
// documents of other kinds are skipped.
func readAccounts(path string) ([]v1alpha1.CustomerAccount, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("reading --accounts-file: %v", err)
	}
	var out []v1alpha1.CustomerAccount
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for n := 1; ; n++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, usagef("--accounts-file %s: %v", path, err)
		}
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return nil, usagef("--accounts-file %s document %d: %v", path, n, err)
		}
		if meta.Kind != "CustomerAccount" {
			continue
		}
		var acct v1alpha1.CustomerAccount
		if err := yaml.UnmarshalStrict(doc, &acct); err != nil {
			return nil, usagef("--accounts-file %s document %d is not a valid CustomerAccount: %v", path, n, err)
		}
		out = append(out, acct)
	}
}

// simulation evaluates every account under the candidate policy at now.
// Transitions that follow at once are followed, as the operator would on
// its immediate requeue.
func simulation(policy *v1alpha1.AccountPolicy, accounts []v1alpha1.CustomerAccount, now time.Time) Simulation {
	out := Simulation{Policy: policy.Name, At: now, Accounts: []SimulationRow{}}
	for i := range accounts {
		acct := accounts[i].DeepCopy()
		current := acct.Status.Phase
		if current == "" {
			current = v1alpha1.PhaseGood
		}
		d := lifecycle.Settle(acct, policy, now)
		row := SimulationRow{Account: acct.Name, Current: current, Simulated: d.Phase, Score: d.Score, Changes: d.Phase != current}
		if row.Changes {
			out.Changed++
			if d.Phase.Rank() > current.Rank() {
				out.Escalate++
			}
		}
		out.Accounts = append(out.Accounts, row)
	}
	return out
}

// printSimulation prints the table and summary.
func printSimulation(w io.Writer, s Simulation) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	t := &printer{w: tw}
	t.printf("ACCOUNT\tCURRENT PHASE\tSIMULATED PHASE\tSCORE\tCHANGE\n")
	for _, r := range s.Accounts {
		change := "-"
		if r.Changes {
			change = fmt.Sprintf("%s -> %s", r.Current, r.Simulated)
		}
		t.printf("%s\t%s\t%s\t%d\t%s\n", r.Account, r.Current, r.Simulated, r.Score, change)
	}
	if t.err == nil {
		t.err = tw.Flush()
	}
	p := &printer{w: w, err: t.err}
	n := len(s.Accounts)
	p.printf("\n%d account(s) under policy %q at %s: %d would change phase (%d escalate, %d step down), %d unchanged.\n",
		n, s.Policy, s.At.Format(timeFmt), s.Changed, s.Escalate, s.Changed-s.Escalate, n-s.Changed)
	return p.err
}

// stamp formats an optional moment relative to now.
func stamp(t *metav1.Time, now time.Time) string {
	if t == nil {
		return "an unrecorded moment"
	}
	return stampTime(t.Time, now)
}

func stampTime(t, now time.Time) string {
	d := t.Sub(now).Round(time.Minute)
	switch {
	case d > 0:
		return fmt.Sprintf("%s (in %s)", t.UTC().Format(timeFmt), human(d))
	case d < 0:
		return fmt.Sprintf("%s (%s ago)", t.UTC().Format(timeFmt), human(-d))
	}
	return t.UTC().Format(timeFmt) + " (now)"
}

func human(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
