package testenv

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A cluster is the control plane plus what makes restrictions bite:
// kube-controller-manager (ReplicaSets, Jobs, quota status, namespace
// deletion, garbage collection, ClusterRole aggregation), kube-scheduler,
// and KWOK simulating nodes and the pods bound to them (no kubelet, no
// container runtime: pods become Running and go away, nothing executes).
// All three are built by hack/build-control-plane.sh --full.

// kwokStages are the node and pod lifecycles KWOK plays out.
//
//go:embed kwok-stages.yaml
var kwokStages []byte

// component is one process of the cluster besides etcd and the API server.
type component struct {
	name string
	args []string
}

func components(dir, kubeconfig, certDir string) []component {
	return []component{
		{"kube-controller-manager", []string{
			"--kubeconfig=" + kubeconfig,
			"--leader-elect=false",
			"--secure-port=0",
			"--controllers=*",
			// Signs the legacy service account tokens; the same key the
			// API server verifies with (envtest writes it).
			"--service-account-private-key-file=" + filepath.Join(certDir, "sa-signer.key"),
			// Each controller acts as its own service account in kube-system,
			// as in a real cluster, so admission sees the identities it must
			// let through (the freeze exempts them by group).
			"--use-service-account-credentials=true",
			// Quota usage is recounted at once, not every 5 minutes.
			"--resource-quota-sync-period=10s",
			"--concurrent-gc-syncs=5",
			"--cluster-name=account-lifecycle-local",
		}},
		{"kube-scheduler", []string{
			"--kubeconfig=" + kubeconfig,
			"--leader-elect=false",
			"--secure-port=0",
		}},
		{"kwok", []string{
			"--kubeconfig=" + kubeconfig,
			"--config=" + filepath.Join(dir, "kwok-stages.yaml"),
			"--manage-all-nodes=true",
			"--cidr=10.244.0.0/16",
			"--node-ip=127.0.0.1",
		}},
	}
}

// ClusterOptions say what a cluster runs besides the control plane.
type ClusterOptions struct {
	// Nodes is how many simulated nodes to create (default 2).
	Nodes int
	// LogDir receives one log file per component (default: the env's
	// temporary directory, removed on Stop).
	LogDir string
}

// StartCluster starts the controllers, the scheduler and KWOK against the
// env's API server, creates the simulated nodes and waits until the cluster
// works: nodes Ready, ClusterRoles aggregated, service accounts made.
func (e *Env) StartCluster(opts ClusterOptions) error {
	assets := e.Environment.BinaryAssetsDirectory
	if assets == "" {
		assets = os.Getenv("KUBEBUILDER_ASSETS")
	}
	for _, bin := range []string{"kube-controller-manager", "kube-scheduler", "kwok"} {
		if _, err := os.Stat(filepath.Join(assets, bin)); err != nil {
			return fmt.Errorf("%s is not in %s: build it with hack/build-control-plane.sh --full", bin, assets)
		}
	}
	if err := os.WriteFile(filepath.Join(e.dir, "kwok-stages.yaml"), kwokStages, 0o600); err != nil {
		return err
	}
	logDir := opts.LogDir
	if logDir == "" {
		logDir = e.dir
	}
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		return err
	}
	certDir := e.Environment.ControlPlane.APIServer.CertDir
	for _, c := range components(e.dir, e.Kubeconfig, certDir) {
		logFile := filepath.Join(logDir, c.name+".log")
		out, err := os.Create(logFile)
		if err != nil {
			return err
		}
		cmd := exec.Command(filepath.Join(assets, c.name), c.args...)
		cmd.Stdout, cmd.Stderr = out, out
		// If this process dies without stopping the cluster (SIGKILL, a
		// panic), the kernel stops the component too: none is left behind.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
		if err := cmd.Start(); err != nil {
			_ = out.Close()
			return fmt.Errorf("starting %s: %w", c.name, err)
		}
		e.procs = append(e.procs, proc{name: c.name, cmd: cmd, log: out, logFile: logFile})
	}
	nodes := opts.Nodes
	if nodes == 0 {
		nodes = 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := range nodes {
		if err := e.Client.Create(ctx, simulatedNode(fmt.Sprintf("kwok-node-%d", i))); err != nil {
			return fmt.Errorf("creating a simulated node: %w", err)
		}
	}
	if err := e.waitForCluster(ctx, nodes); err != nil {
		return fmt.Errorf("%w%s", err, e.exited())
	}
	return nil
}

// simulatedNode is a node KWOK plays: it reports Ready and runs what is
// bound to it.
func simulatedNode(name string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:        name,
		Labels:      map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "type": "kwok"},
		Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
	}}
}

// waitForCluster waits until every node is Ready and schedulable, the
// aggregated edit role has rules, and the default namespace has its
// service account: the controllers, the scheduler's nodes and KWOK all
// work.
func (e *Env) waitForCluster(ctx context.Context, nodes int) error {
	var last string
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if msg := e.exited(); msg != "" {
			return false, errors.New("a cluster component stopped" + msg)
		}
		var list corev1.NodeList
		if err := e.Client.List(ctx, &list); err != nil {
			last = err.Error()
			return false, nil
		}
		ready := 0
		for _, n := range list.Items {
			if nodeReady(&n) {
				ready++
			}
		}
		if ready < nodes {
			last = fmt.Sprintf("%d of %d simulated nodes Ready and untainted", ready, nodes)
			return false, nil
		}
		edit := &rbacv1.ClusterRole{}
		if err := e.Client.Get(ctx, client.ObjectKey{Name: "edit"}, edit); err != nil || len(edit.Rules) == 0 {
			last = "the aggregated ClusterRole edit has no rules yet"
			return false, nil
		}
		if err := e.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "default"}, &corev1.ServiceAccount{}); err != nil {
			last = "no default service account yet"
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("the cluster did not come up (%s): %w", last, err)
	}
	return nil
}

// nodeReady says the node is Ready and carries no NoSchedule taint (the
// node lifecycle controller lifts not-ready once KWOK reports Ready).
func nodeReady(n *corev1.Node) bool {
	for _, t := range n.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute {
			return false
		}
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// proc is a running component.
type proc struct {
	name    string
	cmd     *exec.Cmd
	log     *os.File
	logFile string
	done    bool
}

// exited names the components that stopped on their own, with the end of
// their logs ("" when all run).
func (e *Env) exited() string {
	var b strings.Builder
	for i := range e.procs {
		p := &e.procs[i]
		if !p.done {
			// Ask without blocking; a component that exited is reaped here.
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(p.cmd.Process.Pid, &ws, syscall.WNOHANG, nil)
			if err != nil || pid == 0 {
				continue
			}
			p.done = true
		}
		fmt.Fprintf(&b, "\n%s exited; the end of %s:\n%s", p.name, p.logFile, tail(p.logFile, 20))
	}
	return b.String()
}

// stopCluster stops the components, newest first.
func (e *Env) stopCluster() error {
	var errs []error
	for i := len(e.procs) - 1; i >= 0; i-- {
		p := e.procs[i]
		if !p.done {
			// The whole process group: a component's own children too.
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = p.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
		}
		errs = append(errs, p.log.Close())
	}
	e.procs = nil
	return errors.Join(errs...)
}

// tail is the last n lines of a file.
func tail(file string, n int) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
