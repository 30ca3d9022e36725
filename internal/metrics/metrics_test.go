package metrics

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Known series exist at 0 before anything happens.
func TestKnownSeriesStartAtZero(t *testing.T) {
	for _, series := range []string{
		`account_lifecycle_transitions_total{from="FinalNotice",to="Terminated"} 0`,
		`account_lifecycle_transitions_total{from="Terminated",to="Good"} 0`,
		`account_lifecycle_notifications_total{result="dropped"} 0`,
	} {
		if !strings.Contains(scrape(t), series) {
			t.Errorf("no %s in the scrape", series)
		}
	}
}

func TestPendingGauges(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	SetPendingSource(func() (int, time.Time, error) { return 3, now.Add(-90 * time.Second), nil }, clock)
	out := scrape(t)
	for _, want := range []string{"account_lifecycle_notifications_pending 3", "account_lifecycle_notification_oldest_pending_seconds 90"} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	SetPendingSource(func() (int, time.Time, error) { return 0, time.Time{}, nil }, clock)
	if out := scrape(t); !strings.Contains(out, "account_lifecycle_notification_oldest_pending_seconds 0") {
		t.Errorf("with none pending the age is not 0:\n%s", out)
	}
	SetPendingSource(func() (int, time.Time, error) { return 0, time.Time{}, errors.New("cache not synced") }, clock)
	if _, err := testutil.GatherAndCount(crmetrics.Registry, "account_lifecycle_notifications_pending"); err == nil {
		t.Error("a failing source is not reported as an error to the scraper")
	}
	SetPendingSource(func() (int, time.Time, error) { return 0, time.Time{}, nil }, clock)
}

func scrape(t *testing.T) string {
	t.Helper()
	mfs, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			b.WriteString(mf.GetName())
			if len(m.GetLabel()) > 0 {
				b.WriteString("{")
				for i, l := range m.GetLabel() {
					if i > 0 {
						b.WriteString(",")
					}
					b.WriteString(l.GetName() + `="` + l.GetValue() + `"`)
				}
				b.WriteString("}")
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			b.WriteString(" " + strconv.FormatFloat(v, 'f', -1, 64) + "\n")
		}
	}
	return b.String()
}

func TestDecisionGauges(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	SetDecisionSources(
		func() (int, time.Time, error) { return 2, now.Add(-2 * time.Hour), nil },
		func() (int, time.Time, error) { return 1, now.Add(-30 * time.Minute), nil },
		func() time.Time { return now })
	out := scrape(t)
	for _, want := range []string{
		"account_lifecycle_accounts_awaiting_approval 2", "account_lifecycle_approval_oldest_wait_seconds 7200",
		"account_lifecycle_appeals_pending 1", "account_lifecycle_appeal_oldest_pending_seconds 1800",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q:\n%s", want, out)
		}
	}
}
