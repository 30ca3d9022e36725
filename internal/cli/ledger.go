package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

var idPattern = regexp.MustCompile(v1alpha1.IncidentIDPattern)

func checkID(id string) error {
	if len(id) > v1alpha1.MaxIncidentIDLength || !idPattern.MatchString(id) {
		return usagef("incident id %q must be 1-%d lowercase letters, digits and '-', starting and ending with a letter or digit", id, v1alpha1.MaxIncidentIDLength)
	}
	return nil
}

var reportCmd = command{
	writes: true,
	name:   "report", args: "ACCOUNT --id ID --category C --summary TEXT [flags]",
	short: "Record an incident on an account (server-side apply, one entry keyed by id).",
	long: "Other writers' incidents are untouched. A recorded incident cannot be edited;\n" +
		"reporting an existing id with different content is refused: waive it instead.\n\n" +
		"Example:\n  kubectl account report initech --id shouted-at-oncall --category Abuse --severity Major \\\n" +
		"    --summary 'Shouted at the on-call engineer.'\n",
	setup: func(a *app, fs *pflag.FlagSet) func(context.Context, []string) error {
		id := fs.String("id", "", "incident id (required): lowercase letters, digits and '-'")
		category := fs.String("category", "", "Abuse, SupportLoad, NonPayment, PolicyViolation, PoorFit or Other (required)")
		severity := fs.String("severity", "Minor", "Minor, Major or Critical")
		attribution := fs.String("attribution", "Customer", "Customer, or Vendor (recorded and shown, never counted)")
		points := fs.Int32("points", 0, "points, overriding the policy's computed points (0-1000)")
		occurred := fs.String("occurred-at", "", "when it happened, RFC3339 (default now)")
		summary := fs.String("summary", "", "what happened, briefly (required)")
		by := fs.String("reported-by", "", "who reports it (default: your cluster user name, else $USER)")
		return func(ctx context.Context, args []string) error {
			if err := exactArgs(args, "ACCOUNT"); err != nil {
				return err
			}
			inc := v1alpha1.Incident{ID: *id, Summary: *summary, OccurredAt: metav1.NewTime(a.now)}
			var err error
			if *id == "" {
				return usagef("--id is required")
			}
			if err := checkID(*id); err != nil {
				return err
			}
			if *category == "" {
				return usagef("--category is required (one of Abuse, SupportLoad, NonPayment, PolicyViolation, PoorFit, Other)")
			}
			if inc.Category, err = oneOf("category", *category, v1alpha1.Categories); err != nil {
				return err
			}
			if inc.Severity, err = oneOf("severity", *severity, []v1alpha1.Severity{v1alpha1.SeverityMinor, v1alpha1.SeverityMajor, v1alpha1.SeverityCritical}); err != nil {
				return err
			}
			if inc.Attribution, err = oneOf("attribution", *attribution, []v1alpha1.Attribution{v1alpha1.AttributionCustomer, v1alpha1.AttributionVendor}); err != nil {
				return err
			}
			if fs.Changed("points") {
				if *points < 0 || *points > 1000 {
					return usagef("--points %d is out of range 0-1000", *points)
				}
				inc.Points = points
			}
			if *occurred != "" {
				t, err := parseTime("occurred-at", *occurred)
				if err != nil {
					return err
				}
				inc.OccurredAt = metav1.NewTime(t)
			}
			if err := checkText("summary", *summary, v1alpha1.MaxTextLength); err != nil {
				return err
			}
			if *by != "" {
				if err := checkText("reported-by", *by, 128); err != nil {
					return err
				}
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			if inc.ReportedBy, err = a.whoami(ctx, c, *by); err != nil {
				return err
			}
			return a.editLedger(ctx, c, args[0], func(acct *v1alpha1.CustomerAccount, old *v1alpha1.Incident) (*v1alpha1.Incident, error) {
				switch {
				case old == nil && len(acct.Spec.Incidents) >= v1alpha1.MaxIncidents:
					return nil, fmt.Errorf("the ledger of account %q is full (%d incidents), so nothing was recorded: archive the incidents that no longer count "+
						"with kubectl account compact %s --before TIME --reason TEXT --archive FILE, then report again", acct.Name, v1alpha1.MaxIncidents, acct.Name)
				case old == nil:
					return &inc, nil
				case sameIncident(old, &inc):
					return nil, a.printf("customeraccount/%s: incident %s is already recorded as given; nothing changed\n", acct.Name, inc.ID)
				}
				return nil, fmt.Errorf("incident %q is already recorded on account %q with different content (%s); a recorded incident cannot be edited: "+
					"to stop it counting, waive it (kubectl account waive %s %s --reason TEXT), or report it under a new id",
					inc.ID, acct.Name, describe(old), acct.Name, inc.ID)
			}, inc.ID, "recorded")
		}
	},
}

var waiveCmd = command{
	writes: true,
	name:   "waive", args: "ACCOUNT INCIDENT-ID --reason TEXT [--by WHO]",
	short: "Waive an incident so it stops counting (once; a waiver is final).",
	long:  "Example:\n  kubectl account waive initech ticket-flood-0412 --reason 'The tickets were about our outage.'\n",
	setup: func(a *app, fs *pflag.FlagSet) func(context.Context, []string) error {
		reason := fs.String("reason", "", "why the incident no longer counts (required)")
		by := fs.String("by", "", "who waives it (default: your cluster user name, else $USER)")
		return func(ctx context.Context, args []string) error {
			if err := checkText("reason", *reason, v1alpha1.MaxTextLength); err != nil {
				return err
			}
			return a.editIncident(ctx, args, *by, "waived", func(acct *v1alpha1.CustomerAccount, old *v1alpha1.Incident, who string) (*v1alpha1.Incident, error) {
				switch {
				case old.Waiver.IsDefined():
					w := old.Waiver
					return nil, fmt.Errorf("incident %q on account %q is already waived by %s at %s (%s); a waiver is final",
						old.ID, acct.Name, w.By, w.At.UTC().Format(timeFmt), w.Reason)
				}
				waived := old.DeepCopy()
				waived.Waiver = &v1alpha1.Waiver{By: who, At: metav1.NewTime(a.now), Reason: *reason}
				return waived, nil
			})
		}
	},
}

// editIncident is a command on one recorded incident (ACCOUNT INCIDENT-ID):
// it checks the arguments, acts as `by`, and lets edit return the incident
// to apply; an id the account does not hold is refused, listing those it
// does.
func (a *app) editIncident(ctx context.Context, args []string, by, verb string,
	edit func(acct *v1alpha1.CustomerAccount, old *v1alpha1.Incident, who string) (*v1alpha1.Incident, error)) error {
	if err := exactArgs(args, "ACCOUNT", "INCIDENT-ID"); err != nil {
		return err
	}
	if err := checkID(args[1]); err != nil {
		return err
	}
	c, who, err := a.clientAs(ctx, by)
	if err != nil {
		return err
	}
	return a.editLedger(ctx, c, args[0], func(acct *v1alpha1.CustomerAccount, old *v1alpha1.Incident) (*v1alpha1.Incident, error) {
		if old == nil {
			return nil, noIncident(acct, args[1])
		}
		return edit(acct, old, who)
	}, args[1], verb)
}

// editLedger reads the account, lets decide return the incident to apply
// (nil: nothing to do), and server-side applies it as FieldManager. Every
// incident FieldManager already owns is re-stated as recorded, since leaving
// one out of an apply would ask the server to remove it; other writers'
// entries are not part of the apply at all. The apply carries the
// resourceVersion read, so a concurrent change is re-read and decided again.
func (a *app) editLedger(ctx context.Context, c client.Client, name string,
	decide func(*v1alpha1.CustomerAccount, *v1alpha1.Incident) (*v1alpha1.Incident, error), id, verb string) error {
	for attempt := 0; ; attempt++ {
		acct, err := getAccount(ctx, c, name)
		if err != nil {
			return err
		}
		var old *v1alpha1.Incident
		for i := range acct.Spec.Incidents {
			if acct.Spec.Incidents[i].ID == id {
				old = &acct.Spec.Incidents[i]
			}
		}
		inc, err := decide(acct, old)
		if err != nil || inc == nil {
			return err
		}
		owned := ownedIncidents(acct, FieldManager)
		entries := []any{}
		for i := range acct.Spec.Incidents {
			if r := &acct.Spec.Incidents[i]; owned[r.ID] && r.ID != id {
				entries = append(entries, toMap(r))
			}
		}
		entries = append(entries, toMap(inc))
		u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"incidents": entries}}}
		u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("CustomerAccount"))
		u.SetName(name)
		u.SetResourceVersion(acct.ResourceVersion)
		err = c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager))
		switch {
		case err == nil:
			return a.wrote(ctx, c, name, "incident %s %s", id, verb)
		case apierrors.IsConflict(err) && !isFieldConflict(err) && attempt < 5:
			continue // modified since read: decide again
		case isFieldConflict(err):
			return fmt.Errorf("incident %q on account %q was recorded by another writer with different content; a recorded incident cannot be edited: "+
				"waive it or report under a new id (server said: %w)", id, name, err)
		case apierrors.IsInvalid(err):
			return fmt.Errorf("the API server refused the change: %w", err)
		}
		return err
	}
}

func isFieldConflict(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return false
	}
	for _, c := range status.Status().Details.Causes {
		if c.Type == metav1.CauseTypeFieldManagerConflict {
			return true
		}
	}
	return false
}

// ownedIncidents returns the ids of the incidents that manager owns through
// server-side apply, read from the account's managedFields.
func ownedIncidents(acct *v1alpha1.CustomerAccount, manager string) map[string]bool {
	ids := map[string]bool{}
	for _, mf := range acct.ManagedFields {
		if mf.Manager != manager || mf.Operation != metav1.ManagedFieldsOperationApply || mf.FieldsV1 == nil {
			continue
		}
		var fields struct {
			Spec struct {
				Incidents map[string]json.RawMessage `json:"f:incidents"`
			} `json:"f:spec"`
		}
		if json.Unmarshal(mf.FieldsV1.GetRawBytes(), &fields) != nil {
			continue
		}
		for k := range fields.Spec.Incidents {
			var key struct {
				ID string `json:"id"`
			}
			if strings.HasPrefix(k, "k:") && json.Unmarshal([]byte(k[2:]), &key) == nil {
				ids[key.ID] = true
			}
		}
	}
	return ids
}

func toMap(inc *v1alpha1.Incident) map[string]any {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(inc)
	if err != nil {
		panic(err) // a typed Incident always converts
	}
	return m
}

func sameIncident(a, b *v1alpha1.Incident) bool {
	orMinor := func(s v1alpha1.Severity) v1alpha1.Severity {
		if s == "" {
			return v1alpha1.SeverityMinor
		}
		return s
	}
	orCustomer := func(s v1alpha1.Attribution) v1alpha1.Attribution {
		if s == "" {
			return v1alpha1.AttributionCustomer
		}
		return s
	}
	samePoints := (a.Points == nil) == (b.Points == nil) && (a.Points == nil || *a.Points == *b.Points)
	return a.Category == b.Category && orMinor(a.Severity) == orMinor(b.Severity) && a.OccurredAt.Equal(&b.OccurredAt) &&
		a.ReportedBy == b.ReportedBy && a.Summary == b.Summary && orCustomer(a.Attribution) == orCustomer(b.Attribution) && samePoints
}

func describe(inc *v1alpha1.Incident) string {
	return fmt.Sprintf("%s %s at %s by %s: %q", inc.Severity, inc.Category, inc.OccurredAt.UTC().Format(timeFmt), inc.ReportedBy, inc.Summary)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
