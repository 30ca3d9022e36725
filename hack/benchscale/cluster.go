package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/controller"
	"github.com/accountops/account-lifecycle-operator/internal/manifests"
)

const operatorNamespace = "account-lifecycle-operator-system"

// cluster is the local control plane, the bench's own counted client, and
// the manager under test running as a separate process.
type cluster struct {
	env        *envtest.Environment
	cfg        *rest.Config
	c          client.WithWatch
	own        *countingTransport
	kubeconfig string
	raw        rest.Interface // for the API server's /metrics
	manager    *exec.Cmd
	metricsURL string
	pprofURL   string
}

func startCluster(ctx context.Context, assets, dir string) (*cluster, error) {
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join("config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting control plane: %w", err)
	}
	cl := &cluster{env: env}
	cl.own = &countingTransport{}
	cl.cfg = rest.CopyConfig(cfg)
	// The bench itself must not be the bottleneck it measures.
	cl.cfg.QPS, cl.cfg.Burst = -1, 0
	cl.cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { cl.own.next = rt; return cl.own })
	if cl.c, err = client.NewWithWatch(cl.cfg, client.Options{Scheme: controller.NewScheme()}); err != nil {
		return cl, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return cl, err
	}
	cl.raw = cs.CoreV1().RESTClient()

	ns := &corev1.Namespace{}
	ns.Name = operatorNamespace
	ns.Labels = map[string]string{v1alpha1.LabelProtected: "true"}
	if err := cl.c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return cl, err
	}
	if err := manifests.ApplyDir(ctx, cl.c, filepath.Join("config", "admission"), "bench-scale"); err != nil {
		return cl, err
	}
	user, err := env.AddUser(envtest.User{Name: "operator", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return cl, err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return cl, err
	}
	cl.kubeconfig = filepath.Join(dir, "kubeconfig")
	return cl, os.WriteFile(cl.kubeconfig, kc, 0o600)
}

// startManager runs the manager binary as production runs it (its own
// flags and client defaults), metrics on a free loopback port.
func (cl *cluster) startManager(binary string, args []string, logTo io.Writer) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	_ = l.Close()
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	pprofAddr := pl.Addr().String()
	_ = pl.Close()
	cl.metricsURL = "http://" + addr + "/metrics"
	cl.pprofURL = "http://" + pprofAddr + "/debug/pprof"
	all := append([]string{"--kubeconfig", cl.kubeconfig, "--metrics-bind-address", addr, "--pprof-bind-address", pprofAddr,
		"--health-probe-bind-address", "0", "--operator-namespace", operatorNamespace, "--zap-log-level", "error"}, args...)
	cl.manager = exec.Command(binary, all...)
	cl.manager.Stdout, cl.manager.Stderr = logTo, logTo
	return cl.manager.Start()
}

// heapProfile saves the manager's heap profile (after a collection) to
// path, for `go tool pprof`.
func (cl *cluster) heapProfile(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cl.pprofURL+"/heap?gc=1", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("manager heap profile: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("manager heap profile: %s", resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

func (cl *cluster) stop() error {
	var errs []error
	if cl.manager != nil && cl.manager.Process != nil {
		_ = cl.manager.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cl.manager.Wait() }()
		select {
		case werr := <-done:
			_ = werr // stopped by the signal: its exit status says nothing
		case <-time.After(10 * time.Second):
			errs = append(errs, cl.manager.Process.Kill())
		}
	}
	return errors.Join(append(errs, cl.env.Stop())...)
}

// countingTransport counts the bench's own requests, so they can be taken
// out of the API server's totals.
type countingTransport struct {
	next          http.RoundTripper
	reads, writes atomic.Int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	switch {
	case r.URL.Query().Get("watch") == "true" || r.URL.Path == "/metrics":
	case r.Method == http.MethodGet:
		t.reads.Add(1)
	default:
		t.writes.Add(1)
	}
	return t.next.RoundTrip(r)
}

// operatorResources are the resources the operator reads or writes. The
// API server's own housekeeping (leases, endpoints, APF) is left out.
var operatorResources = map[string]bool{
	"customeraccounts": true, "accountpolicies": true, "namespaces": true, "secrets": true, "events": true,
	"rolebindings": true, "resourcequotas": true, "networkpolicies": true, "deployments": true,
	"statefulsets": true, "replicasets": true, "daemonsets": true, "replicationcontrollers": true,
	"pods": true, "cronjobs": true, "jobs": true,
}

// counts is one reading of every figure the bench takes differences of.
type counts struct {
	at               time.Time
	reads, writes    float64 // the API server's, operator resources only
	ownReads, ownWrs float64 // the bench's own
	reconciles       float64 // the account controller's
	policyReconciles float64
	cpu, heap        float64            // manager CPU seconds and heap in use
	byResource       map[string]float64 // "verb resource" -> requests, operator resources only
}

func (cl *cluster) read(ctx context.Context) (counts, error) {
	out := counts{at: time.Now(), ownReads: float64(cl.own.reads.Load()), ownWrs: float64(cl.own.writes.Load()),
		byResource: map[string]float64{}}
	body, err := cl.raw.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return out, fmt.Errorf("API server metrics: %w", err)
	}
	for _, s := range parseMetrics(string(body), "apiserver_request_total") {
		if !operatorResources[s.labels["resource"]] {
			continue
		}
		if v := s.labels["verb"]; v != "WATCH" {
			out.byResource[v+" "+s.labels["resource"]] += s.value
		}
		switch s.labels["verb"] {
		case "GET", "LIST":
			out.reads += s.value
		case "WATCH", "CONNECT":
		default:
			out.writes += s.value
		}
	}
	if cl.metricsURL == "" {
		return out, nil
	}
	resp, err := http.Get(cl.metricsURL) //nolint:noctx // loopback, bounded by the manager's lifetime
	if err != nil {
		return out, fmt.Errorf("manager metrics: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	mb, err := io.ReadAll(resp.Body)
	if err != nil {
		return out, err
	}
	for _, s := range parseMetrics(string(mb), "controller_runtime_reconcile_total") {
		switch s.labels["controller"] {
		case "customeraccount":
			out.reconciles += s.value
		case "accountpolicy":
			out.policyReconciles += s.value
		}
	}
	out.cpu = sum(parseMetrics(string(mb), "process_cpu_seconds_total"))
	out.heap = sum(parseMetrics(string(mb), "go_memstats_heap_inuse_bytes"))
	return out, nil
}

func sum(ss []sample) float64 {
	t := 0.0
	for _, s := range ss {
		t += s.value
	}
	return t
}

type sample struct {
	labels map[string]string
	value  float64
}

// parseMetrics reads the samples of one metric from Prometheus' text format.
func parseMetrics(text, name string) []sample {
	var out []sample
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || len(line) == len(name) || (line[len(name)] != '{' && line[len(name)] != ' ') {
			continue
		}
		rest := line[len(name):]
		labels := map[string]string{}
		if rest[0] == '{' {
			end := parseLabels(rest[1:], labels)
			if end < 0 {
				continue
			}
			rest = rest[1+end:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		out = append(out, sample{labels: labels, value: v})
	}
	return out
}

// parseLabels fills labels from `a="x",b="y"}` and returns the index just
// past the closing brace, or -1.
func parseLabels(s string, labels map[string]string) int {
	i := 0
	for i < len(s) {
		if s[i] == '}' {
			return i + 1
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 || i+eq+1 >= len(s) || s[i+eq+1] != '"' {
			return -1
		}
		key := strings.TrimLeft(s[i:i+eq], ", ")
		j := i + eq + 2
		var val strings.Builder
		for ; j < len(s) && s[j] != '"'; j++ {
			if s[j] == '\\' && j+1 < len(s) {
				j++
			}
			val.WriteByte(s[j])
		}
		labels[key] = val.String()
		i = j + 1
		if i < len(s) && s[i] == ',' {
			i++
		}
	}
	return -1
}
