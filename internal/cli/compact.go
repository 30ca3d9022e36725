package cli

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/lifecycle"
	"github.com/accountops/account-lifecycle-operator/internal/resolve"
)

// compactCmd archives the incidents that can no longer change a decision:
// they are written to a file first, then removed from the ledger in one
// update that records the compaction (who, when, why, the cut-off and how
// many), which is the only removal the API server admits.
var compactCmd = command{
	writes: true,
	name:   "compact", args: "ACCOUNT --before RFC3339 --reason TEXT --archive FILE [--by WHO]",
	short: "Archive old incidents to a file and remove them from the ledger with a recorded compaction.",
	long: "Only incidents that occurred before --before and can no longer affect the account (expired or waived\n" +
		"before the policy's recovery period, or vendor-caused) are removed; if any other occurred before the\n" +
		"cut-off, nothing is changed. The ledger holds at most " + strconv.Itoa(v1alpha1.MaxIncidents) + " incidents.\n\nExample:\n" +
		"  kubectl account compact initech --before 2026-01-01T00:00:00Z --reason 'Yearly archive' --archive initech-2025.yaml\n",
	setup: func(a *app, fs *pflag.FlagSet) func(context.Context, []string) error {
		before := fs.String("before", "", "the cut-off: incidents that occurred before it are archived, RFC3339 (required)")
		reason := fs.String("reason", "", "why, and where the archive is kept (required)")
		archive := fs.String("archive", "", "file to write the archived incidents to; must not exist (required)")
		by := fs.String("by", "", "who compacts (default: your cluster user name, else $USER)")
		return func(ctx context.Context, args []string) error {
			if err := exactArgs(args, "ACCOUNT"); err != nil {
				return err
			}
			if *before == "" {
				return usagef("--before is required")
			}
			cutoff, err := parseTime("before", *before)
			if err != nil {
				return err
			}
			if err := checkText("reason", *reason, v1alpha1.MaxTextLength); err != nil {
				return err
			}
			if *archive == "" {
				return usagef("--archive is required: incidents are written there before they leave the ledger")
			}
			if _, err := os.Stat(*archive); err == nil {
				return usagef("--archive %s exists; choose a new file", *archive)
			}
			c, who, err := a.clientAs(ctx, *by)
			if err != nil {
				return err
			}
			return a.compact(ctx, c, args[0], metav1.NewTime(cutoff), who, *reason, *archive)
		}
	},
}

func (a *app) compact(ctx context.Context, c client.Client, name string, cutoff metav1.Time, who, reason, archive string) error {
	for attempt := 0; ; attempt++ {
		acct, err := getAccount(ctx, c, name)
		if err != nil {
			return err
		}
		prev := acct.Spec.Compaction
		if prev.IsDefined() && cutoff.Before(&prev.Before) {
			return usagef("--before %s is earlier than the last compaction's cut-off %s", cutoff.Format(timeFmt), prev.Before.UTC().Format(timeFmt))
		}
		res, err := resolve.Policy(ctx, c, acct)
		if err != nil {
			return err
		}
		var keep, remove []v1alpha1.Incident
		var refused []string
		for _, inc := range acct.Spec.Incidents {
			if !inc.OccurredAt.Before(&cutoff) {
				keep = append(keep, inc)
				continue
			}
			if ok, why := lifecycle.Compactable(acct, res.Policy, &inc, a.now); !ok {
				refused = append(refused, inc.ID+": "+why)
			}
			remove = append(remove, inc)
		}
		switch {
		case len(refused) > 0:
			return fmt.Errorf("nothing was changed: these incidents occurred before %s but can still affect the account: %s",
				cutoff.Format(timeFmt), strings.Join(refused, "; "))
		case len(remove) == 0:
			return fmt.Errorf("nothing was changed: no incident of %s occurred before %s", name, cutoff.Format(timeFmt))
		}
		removed := int32(len(remove)) + ptr.Deref(prev.Removed, 0)
		compaction := v1alpha1.Compaction{By: who, At: metav1.NewTime(a.now), Before: cutoff, Reason: reason, Removed: &removed}
		if err := writeArchive(archive, name, &compaction, remove); err != nil {
			return err
		}
		acct.Spec.Incidents, acct.Spec.Compaction = keep, compaction
		// The update carries the resourceVersion read: a concurrent report
		// makes it fail and the whole decision is taken again.
		err = c.Update(ctx, acct, client.FieldOwner(FieldManager))
		switch {
		case err == nil:
			return a.wrote(ctx, c, name, "%d incidents that occurred before %s archived to %s and removed from the ledger",
				len(remove), cutoff.Format(timeFmt), archive)
		case apierrors.IsConflict(err) && attempt < 5:
			continue
		case apierrors.IsInvalid(err):
			return fmt.Errorf("the API server refused the compaction (the archive %s was written): %w", archive, err)
		}
		return err
	}
}

// writeArchive writes the incidents about to leave the ledger, with the
// compaction that removes them, as YAML.
func writeArchive(path, account string, compaction *v1alpha1.Compaction, incidents []v1alpha1.Incident) error {
	out, err := yaml.Marshal(map[string]any{"account": account, "compaction": compaction, "incidents": incidents})
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return fmt.Errorf("writing the archive: %w", err)
	}
	return nil
}
