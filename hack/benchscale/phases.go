package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

type bench struct {
	cfg config
	cl  *cluster
	w   *watcher
	rep *report
	// rawPerWrite is the plain client's time per status write at the
	// bench's concurrency: the ceiling the operator is held to.
	rawPerWrite time.Duration
}

// rawCeiling times n status writes by a plain client, on accounts like the
// ones measured, before any manager runs; the accounts are then deleted.
func (b *bench) rawCeiling(ctx context.Context) error {
	names := b.create(ctx, "raw", b.cfg.n, "no-such-policy", 20)
	if names == nil {
		return fmt.Errorf("creating the plain client's accounts")
	}
	start := time.Now()
	err := parallel(len(names), b.cfg.conc, func(i int) error {
		a := &v1alpha1.CustomerAccount{}
		if err := b.cl.c.Get(ctx, client.ObjectKey{Name: names[i]}, a); err != nil {
			return err
		}
		a.Status.Phase, a.Status.Score, a.Status.ObservedGeneration = v1alpha1.PhaseWarned, ptr.To[int32](20), a.Generation
		return b.cl.c.Status().Update(ctx, a)
	})
	took := time.Since(start)
	if err != nil {
		return err
	}
	b.rawPerWrite = took / time.Duration(len(names))
	b.rep.RawSeconds = took.Seconds()
	return parallel(len(names), 8, func(i int) error {
		a := &v1alpha1.CustomerAccount{}
		a.Name = names[i]
		return client.IgnoreNotFound(b.cl.c.Delete(ctx, a))
	})
}

// create makes count accounts named prefix-i under policy with incidents
// one-point incidents each, and returns their names (nil on failure).
func (b *bench) create(ctx context.Context, prefix string, count int, policy string, incidents int) []string {
	names := make([]string, count)
	at := time.Now().Add(-time.Hour)
	err := parallel(count, 8, func(i int) error {
		names[i] = fmt.Sprintf("%s-%05d", prefix, i)
		return b.cl.c.Create(ctx, account(names[i], policy, incidents, at))
	})
	if err != nil {
		say("creating %s accounts: %v", prefix, err)
		return nil
	}
	return names
}

// coldStart: n accounts of 20 incidents exist; the manager starts; until
// every one shows Warned.
func (b *bench) coldStart(ctx context.Context, logTo interface{ Write([]byte) (int, error) }) error {
	for _, p := range policies() {
		if err := b.cl.c.Create(ctx, p); err != nil {
			return err
		}
	}
	names := b.create(ctx, "acct", b.cfg.n, "bench", 20)
	if names == nil {
		return fmt.Errorf("creating accounts")
	}
	b.w.aimAt(func(s state) bool { return s.phase == v1alpha1.PhaseWarned })
	before, err := b.cl.read(ctx)
	if err != nil {
		return err
	}
	if err := b.cl.startManager(b.cfg.manager, b.cfg.managerArgs, logTo); err != nil {
		return err
	}
	if _, err := b.w.wait(ctx, names, b.cfg.timeout); err != nil {
		return err
	}
	return b.record(ctx, "cold start: all Warned", len(names), before, nil)
}

// incidentWave adds one incident to every running account (FinalNotice).
func (b *bench) incidentWave(ctx context.Context) error {
	names := accountNames("acct", b.cfg.n)
	b.w.aimAt(func(s state) bool { return s.phase == v1alpha1.PhaseFinalNotice })
	before, err := b.cl.read(ctx)
	if err != nil {
		return err
	}
	written := b.addIncidents(ctx, names, b.cfg.conc, 0, 1, false)
	hits, err := b.w.wait(ctx, names, b.cfg.timeout)
	if err != nil {
		return err
	}
	return b.record(ctx, "incident wave: all FinalNotice", len(names), before, latencies(names, written, hits))
}

// steadyFlow: flow accounts in good standing each get a ten-point incident
// at a fixed rate and become Warned.
func (b *bench) steadyFlow(ctx context.Context) error {
	names := b.create(ctx, "flow", b.cfg.flow, "bench", 0)
	if err := b.settle(ctx, names, v1alpha1.PhaseGood); err != nil {
		return err
	}
	b.w.aimAt(func(s state) bool { return s.phase == v1alpha1.PhaseWarned })
	before, err := b.cl.read(ctx)
	if err != nil {
		return err
	}
	every := time.Duration(float64(time.Second) / b.cfg.rate)
	written := b.addIncidents(ctx, names, b.cfg.conc, every, 10, true)
	hits, err := b.w.wait(ctx, names, b.cfg.timeout)
	if err != nil {
		return err
	}
	return b.record(ctx, fmt.Sprintf("steady flow: %.0f transitions/s", b.cfg.rate), len(names), before, latencies(names, written, hits))
}

// settle waits until every name has been evaluated into phase, then until
// the manager's reconciles stop for two seconds.
func (b *bench) settle(ctx context.Context, names []string, phase v1alpha1.AccountPhase) error {
	if names == nil {
		return fmt.Errorf("creating accounts")
	}
	b.w.aimAt(func(s state) bool { return s.phase == phase && s.observed == 1 })
	if _, err := b.w.wait(ctx, names, b.cfg.timeout); err != nil {
		return err
	}
	last := -1.0
	for {
		c, err := b.cl.read(ctx)
		if err != nil {
			return err
		}
		if c.reconciles == last {
			return nil
		}
		last = c.reconciles
		time.Sleep(2 * time.Second)
	}
}

// addIncidents adds one incident of points to each account, spaced by
// every (0: as fast as conc writers go), and returns when each was written.
func (b *bench) addIncidents(ctx context.Context, names []string, conc int, every time.Duration, points int32, first bool) map[string]time.Time {
	var mu sync.Mutex
	written := make(map[string]time.Time, len(names))
	start := time.Now()
	_ = parallel(len(names), conc, func(i int) error {
		if every > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(i) * every)))
		}
		value, _ := json.Marshal(incident(fmt.Sprintf("wave-%d", points), time.Now().Add(-time.Minute), points))
		// A first incident makes the list; later ones are appended to it.
		patch := fmt.Sprintf(`[{"op":"add","path":"/spec/incidents/-","value":%s}]`, value)
		if first {
			patch = fmt.Sprintf(`[{"op":"add","path":"/spec/incidents","value":[%s]}]`, value)
		}
		a := &v1alpha1.CustomerAccount{}
		a.Name = names[i]
		t := time.Now()
		if err := b.cl.c.Patch(ctx, a, client.RawPatch(types.JSONPatchType, []byte(patch))); err != nil {
			say("adding an incident to %s: %v", names[i], err)
			return err
		}
		mu.Lock()
		written[names[i]] = t
		mu.Unlock()
		return nil
	})
	return written
}

func accountNames(prefix string, count int) []string {
	out := make([]string, count)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%05d", prefix, i)
	}
	return out
}

func latencies(names []string, written, hits map[string]time.Time) []time.Duration {
	var out []time.Duration
	for _, n := range names {
		w, ok1 := written[n]
		h, ok2 := hits[n]
		if ok1 && ok2 {
			out = append(out, max(0, h.Sub(w)))
		}
	}
	return out
}
