// Command benchscale measures the operator at scale on a local control
// plane (etcd + kube-apiserver from hack/build-control-plane.sh), against
// the ceiling a plain client reaches on the same API server in the same
// run: a cold start over n accounts, a wave of one new incident per
// account, a steady flow of transitions, a terminate and a reinstate wave
// over tenant namespaces, and a minute at rest. Reads and writes are the
// API server's own apiserver_request_total less the bench's own requests;
// reconciles, CPU and heap are the manager's metrics. It prints one table
// and writes JSON (docs/performance.md explains every figure).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type config struct {
	assets, manager, jsonOut, managerLog string
	heapProfile                          string
	managerArgs                          []string
	n, flow, tenants, conc               int
	rate                                 float64
	rest, timeout                        time.Duration
}

func main() {
	var cfg config
	var args string
	flag.StringVar(&cfg.assets, "assets", os.Getenv("KUBEBUILDER_ASSETS"), "directory holding kube-apiserver and etcd (make bench-scale passes it)")
	flag.StringVar(&cfg.manager, "manager", "bin/manager", "the manager binary to measure")
	flag.StringVar(&args, "manager-args", "", "extra flags for the manager, space-separated")
	flag.StringVar(&cfg.jsonOut, "json", "bench-scale.json", "where to write the results as JSON")
	flag.StringVar(&cfg.heapProfile, "heap-profile", "", "file for the manager's heap profile at the end of the rest (default: none)")
	flag.StringVar(&cfg.managerLog, "manager-log", "", "file for the manager's log (default: discarded)")
	flag.IntVar(&cfg.n, "n", 1000, "accounts in the cold start and the incident wave")
	flag.IntVar(&cfg.flow, "flow", 0, "accounts in the steady flow (default: n/2)")
	flag.Float64Var(&cfg.rate, "rate", 20, "transitions per second in the steady flow")
	flag.IntVar(&cfg.tenants, "tenants", 200, "accounts, each with one tenant namespace of five objects, in the terminate and reinstate waves")
	flag.IntVar(&cfg.conc, "concurrency", 4, "concurrency of the plain client and of the bench's writes")
	flag.DurationVar(&cfg.rest, "rest", time.Minute, "time at rest at the end")
	flag.DurationVar(&cfg.timeout, "timeout", 15*time.Minute, "longest a phase may take")
	flag.Parse()
	cfg.managerArgs = strings.Fields(args)
	if cfg.flow == 0 {
		cfg.flow = cfg.n / 2
	}
	if cfg.assets == "" {
		fmt.Fprintln(os.Stderr, "bench-scale: no control plane binaries: pass --assets (make bench-scale does)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, cfg)
	if rep != nil {
		rep.print(os.Stdout)
		if data, jerr := json.MarshalIndent(rep, "", "  "); jerr == nil {
			_ = os.WriteFile(cfg.jsonOut, append(data, '\n'), 0o600)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-scale:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) (rep *report, err error) {
	dir, err := os.MkdirTemp("", "bench-scale-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	say("starting etcd and kube-apiserver")
	cl, err := startCluster(ctx, cfg.assets, dir)
	if cl != nil {
		defer func() {
			if serr := cl.stop(); serr != nil && err == nil {
				err = serr
			}
		}()
	}
	if err != nil {
		return nil, err
	}
	w := newWatcher()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go w.run(wctx, cl.c)

	rep = &report{N: cfg.n, Concurrency: cfg.conc, Cores: runtime.NumCPU(), Go: runtime.Version(), ManagerArgs: cfg.managerArgs,
		Load: loadAverage()}
	b := &bench{cfg: cfg, cl: cl, w: w, rep: rep}
	logTo := io.Discard
	if cfg.managerLog != "" {
		f, err := os.Create(cfg.managerLog)
		if err != nil {
			return rep, err
		}
		defer func() { _ = f.Close() }()
		logTo = f
	}
	steps := []struct {
		name string
		do   func(context.Context) error
	}{
		{"raw ceiling", b.rawCeiling},
		{"cold start", func(ctx context.Context) error { return b.coldStart(ctx, logTo) }},
		{"incident wave", b.incidentWave},
		{"steady flow", b.steadyFlow},
		{"terminate wave", b.terminateWave},
		{"reinstate wave", b.reinstateWave},
		{"at rest", b.atRest},
	}
	for _, s := range steps {
		say("%s", s.name)
		if err := s.do(ctx); err != nil {
			return rep, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	rep.LoadAfter = loadAverage()
	return rep, nil
}

func say(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[bench-scale %s] "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// loadAverage is the machine's 1-minute load, to say how noisy a run was.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(data))[:3], " ")
}
