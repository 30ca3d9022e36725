// Command localrun starts a throwaway local cluster (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and KWOK's simulated nodes, all
// built from the Go module proxy: internal/testenv, the same cluster the
// test suites use), installs the CRDs, RBAC and admission policies, writes
// a kubeconfig and runs the manager against it in the foreground. Ctrl-C
// stops the manager and every process of the cluster.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/controller"
	"github.com/accountops/account-lifecycle-operator/internal/manifests"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

const operatorNamespace = "account-lifecycle-operator-system"

func main() {
	assets := flag.String("assets", os.Getenv("KUBEBUILDER_ASSETS"), "directory holding kube-apiserver and etcd (from hack/build-control-plane.sh)")
	kubeconfig := flag.String("write-kubeconfig", filepath.Join(".local", "kubeconfig"), "where to write the kubeconfig for kubectl")
	metricsAddr := flag.String("metrics-bind-address", ":8080", "metrics endpoint; \"0\" disables it")
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseDevMode(true)))

	if err := run(*assets, *kubeconfig, *metricsAddr); err != nil {
		fmt.Fprintln(os.Stderr, "run-local:", err)
		os.Exit(1)
	}
}

func run(assets, kubeconfig, metricsAddr string) (err error) {
	if assets == "" {
		return errors.New("no control plane binaries: pass --assets (make run-local does)")
	}
	start := time.Now()
	say("starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok from %s", assets)
	if err := os.Setenv("KUBEBUILDER_ASSETS", assets); err != nil {
		return err
	}
	logDir, _ := filepath.Abs(filepath.Join(".local", "cluster"))
	env, err := testenv.Start(testenv.Options{
		Scheme:  controller.NewScheme(),
		Cluster: &testenv.ClusterOptions{Nodes: 2, LogDir: logDir},
	})
	if err != nil {
		return fmt.Errorf("starting the local cluster: %w", err)
	}
	// Stopped on every exit path, so no process is left behind (and each
	// component dies with this process if it is killed outright).
	defer func() {
		say("stopping the cluster")
		err = errors.Join(err, env.Stop())
	}()
	cfg := env.Config

	scheme := controller.NewScheme()
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ns := &corev1.Namespace{}
	ns.Name = operatorNamespace
	ns.Labels = map[string]string{v1alpha1.LabelProtected: "true"}
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	say("installing admission policies from config/admission")
	if err := manifests.ApplyDir(ctx, c, filepath.Join("config", "admission"), "run-local"); err != nil {
		return err
	}

	user, err := env.Environment.AddUser(envtest.User{Name: "local-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(kubeconfig), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		return err
	}
	abs, _ := filepath.Abs(kubeconfig)
	say("cluster up in %s at %s: 2 simulated nodes; component logs in %s", time.Since(start).Round(100*time.Millisecond), cfg.Host, logDir)
	say("kubeconfig written to %s", abs)
	say("in another terminal:  export KUBECONFIG=%s; kubectl apply -k config/samples; kubectl get acct -o wide", abs)

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme,
		Client: controller.ClientOptions(), Cache: controller.CacheOptions(),
		Metrics:                metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return err
	}
	if err := controller.SetupAll(mgr, controller.DefaultOptions(mgr, operatorNamespace)); err != nil {
		return err
	}
	say("running the manager; Ctrl-C stops everything")
	return mgr.Start(ctx)
}

func say(format string, args ...any) {
	prefix := "[run-local] "
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		prefix = "\033[1m[run-local]\033[0m " // bold on a terminal only
	}
	fmt.Fprintf(os.Stderr, prefix+format+"\n", args...)
}
