// Command localrun starts a throwaway control plane (etcd + kube-apiserver
// built from the Go module proxy), installs the CRDs and admission policies,
// writes a kubeconfig and runs the manager against it in the foreground.
// Ctrl-C stops the manager, the apiserver and etcd.
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
	say("starting etcd and kube-apiserver from %s", assets)
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join("config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("starting control plane: %w", err)
	}
	// Stopped on every exit path, so no etcd or apiserver is left behind.
	defer func() {
		say("stopping kube-apiserver and etcd")
		err = errors.Join(err, env.Stop())
	}()

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

	user, err := env.AddUser(envtest.User{Name: "local-admin", Groups: []string{"system:masters"}}, nil)
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
	say("control plane up in %s at %s", time.Since(start).Round(100*time.Millisecond), cfg.Host)
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
	fmt.Fprintf(os.Stderr, "\033[1m[run-local]\033[0m "+format+"\n", args...)
}
