package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// terminateWave: tenant accounts, each with one namespace of five objects,
// get a critical incident and are terminated with every action.
func (b *bench) terminateWave(ctx context.Context) error {
	names := accountNames("tenant", b.cfg.tenants)
	err := parallel(len(names), 8, func(i int) error {
		for _, o := range tenant(names[i]) {
			if err := b.cl.c.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
				return err
			}
		}
		return b.cl.c.Create(ctx, account(names[i], "bench-terminate", 0, time.Now()))
	})
	if err != nil {
		return err
	}
	if err := b.settle(ctx, names, v1alpha1.PhaseGood); err != nil {
		return err
	}
	b.w.aimAt(func(s state) bool { return s.phase == v1alpha1.PhaseTerminated && s.restricted == 1 && s.observed == 1 })
	before, err := b.cl.read(ctx)
	if err != nil {
		return err
	}
	written := b.addIncidents(ctx, names, b.cfg.conc, 0, 5, true)
	hits, err := b.w.wait(ctx, names, b.cfg.timeout)
	if err != nil {
		return err
	}
	return b.record(ctx, fmt.Sprintf("terminate wave: %d namespaces", len(names)), len(names), before, latencies(names, written, hits))
}

// reinstateWave reinstates every tenant account: all restored, Good again.
func (b *bench) reinstateWave(ctx context.Context) error {
	names := accountNames("tenant", b.cfg.tenants)
	b.w.aimAt(func(s state) bool { return s.phase == v1alpha1.PhaseGood && s.restricted == 0 && s.observed == 1 })
	before, err := b.cl.read(ctx)
	if err != nil {
		return err
	}
	at := metav1.NewTime(time.Now().Add(time.Second).Truncate(time.Second))
	patch := fmt.Sprintf(`{"spec":{"reinstatement":{"by":"bench","at":%q,"reason":"Settled."}}}`, at.UTC().Format(time.RFC3339))
	written := map[string]time.Time{}
	for _, n := range names {
		written[n] = time.Now()
	}
	err = parallel(len(names), b.cfg.conc, func(i int) error {
		a := &v1alpha1.CustomerAccount{}
		a.Name = names[i]
		return b.cl.c.Patch(ctx, a, client.RawPatch(types.MergePatchType, []byte(patch)))
	})
	if err != nil {
		return err
	}
	hits, err := b.w.wait(ctx, names, b.cfg.timeout)
	if err != nil {
		return err
	}
	return b.record(ctx, fmt.Sprintf("reinstate wave: %d namespaces", len(names)), len(names), before, latencies(names, written, hits))
}

// atRest: every account settled; what the operator does in the meantime,
// and its heap (the lowest reading, i.e. just after a collection).
func (b *bench) atRest(ctx context.Context) error {
	before, err := b.cl.read(ctx)
	if err != nil {
		return err
	}
	heap := before.heap
	end := time.Now().Add(b.cfg.rest)
	for time.Now().Before(end) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
		c, err := b.cl.read(ctx)
		if err != nil {
			return err
		}
		heap = min(heap, c.heap)
	}
	if b.cfg.heapProfile != "" {
		if err := b.cl.heapProfile(ctx, b.cfg.heapProfile); err != nil {
			return err
		}
	}
	total := b.cfg.n + b.cfg.flow + b.cfg.tenants
	b.rep.Accounts = total
	b.rep.HeapMiB = heap / (1 << 20)
	b.rep.HeapPerAccountKiB = heap / 1024 / float64(total)
	return b.record(ctx, fmt.Sprintf("at rest %s: %d accounts", b.cfg.rest, total), total, before, nil)
}

// record adds a row from the difference between before and now.
func (b *bench) record(ctx context.Context, name string, accounts int, before counts, lat []time.Duration) error {
	after, err := b.cl.read(ctx)
	if err != nil {
		return err
	}
	per := func(v float64) float64 { return v / float64(accounts) }
	took := after.at.Sub(before.at)
	row := row{
		Name: name, Accounts: accounts, Seconds: took.Seconds(),
		ReconcilesPerAccount: per(after.reconciles - before.reconciles),
		PolicyReconciles:     after.policyReconciles - before.policyReconciles,
		ReadsPerAccount:      per(after.reads - before.reads - (after.ownReads - before.ownReads)),
		WritesPerAccount:     per(after.writes - before.writes - (after.ownWrs - before.ownWrs)),
		Writes:               after.writes - before.writes - (after.ownWrs - before.ownWrs),
		CPUSeconds:           after.cpu - before.cpu,
		Requests:             map[string]float64{},
	}
	// Per account, the bench's own requests included (it only patches
	// accounts and creates fixtures before a phase starts).
	for k, v := range after.byResource {
		if d := v - before.byResource[k]; d > 0 {
			row.Requests[k] = per(d)
		}
	}
	if b.rawPerWrite > 0 && !strings.HasPrefix(name, "at rest") && !strings.HasPrefix(name, "steady") {
		row.RawSeconds = (b.rawPerWrite * time.Duration(accounts)).Seconds()
		row.Ratio = row.Seconds / row.RawSeconds
	}
	if len(lat) > 0 {
		row.P50ms = float64(percentile(lat, 50).Milliseconds())
		row.P99ms = float64(percentile(lat, 99).Milliseconds())
		row.MaxMs = float64(slices.Max(lat).Milliseconds())
	}
	b.rep.Rows = append(b.rep.Rows, row)
	return nil
}

type report struct {
	N                 int      `json:"n"`
	Accounts          int      `json:"accounts"`
	Concurrency       int      `json:"concurrency"`
	Cores             int      `json:"cores"`
	Go                string   `json:"go"`
	ManagerArgs       []string `json:"managerArgs,omitempty"`
	Load              string   `json:"loadBefore"`
	LoadAfter         string   `json:"loadAfter"`
	RawSeconds        float64  `json:"rawSeconds"`
	HeapMiB           float64  `json:"heapMiB"`
	HeapPerAccountKiB float64  `json:"heapPerAccountKiB"`
	Rows              []row    `json:"rows"`
}

type row struct {
	Name                 string  `json:"name"`
	Accounts             int     `json:"accounts"`
	Seconds              float64 `json:"seconds"`
	RawSeconds           float64 `json:"rawSeconds,omitempty"`
	Ratio                float64 `json:"ratioToRaw,omitempty"`
	ReconcilesPerAccount float64 `json:"reconcilesPerAccount"`
	PolicyReconciles     float64 `json:"policyReconciles"`
	ReadsPerAccount      float64 `json:"readsPerAccount"`
	WritesPerAccount     float64 `json:"writesPerAccount"`
	Writes               float64 `json:"writes"`
	CPUSeconds           float64 `json:"managerCPUSeconds"`
	P50ms                float64 `json:"p50ms,omitempty"`
	P99ms                float64 `json:"p99ms,omitempty"`
	MaxMs                float64 `json:"maxMs,omitempty"`
	// Requests are the API server's requests per account by verb and
	// resource, the bench's own included.
	Requests map[string]float64 `json:"requestsPerAccount"`
}

func (r *report) print(out io.Writer) {
	p := func(w io.Writer, format string, args ...any) { _, _ = fmt.Fprintf(w, format, args...) }
	p(out, "\nbench-scale: n=%d (%d accounts in all), %d cores, %s, concurrency %d, load %s -> %s\n",
		r.N, r.Accounts, r.Cores, r.Go, r.Concurrency, r.Load, r.LoadAfter)
	p(out, "plain client: %d status writes in %.2fs\n\n", r.N, r.RawSeconds)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	p(tw, "phase\taccounts\tseconds\t× raw\treconciles/acct\tpolicy reconciles\treads/acct\twrites/acct\tp50 ms\tp99 ms\tCPU s\t\n")
	for _, x := range r.Rows {
		ratio, p50, p99 := "-", "-", "-"
		if x.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f", x.Ratio)
		}
		if x.P99ms > 0 || x.P50ms > 0 {
			p50, p99 = fmt.Sprintf("%.0f", x.P50ms), fmt.Sprintf("%.0f", x.P99ms)
		}
		p(tw, "%s\t%d\t%.1f\t%s\t%.2f\t%.0f\t%.3f\t%.2f\t%s\t%s\t%.1f\t\n", x.Name, x.Accounts, x.Seconds, ratio,
			x.ReconcilesPerAccount, x.PolicyReconciles, x.ReadsPerAccount, x.WritesPerAccount, p50, p99, x.CPUSeconds)
	}
	_ = tw.Flush()
	p(out, "\nmanager heap in use at rest: %.1f MiB, %.1f KiB per account\n", r.HeapMiB, r.HeapPerAccountKiB)
}
