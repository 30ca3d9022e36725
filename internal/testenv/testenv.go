// Package testenv starts the real kube-apiserver and etcd the envtest
// suites run against, the same way for all of them: the CRDs of
// config/crd/bases installed, the binaries from KUBEBUILDER_ASSETS or else
// hack/build-control-plane.sh's cache.
//
// Test tiers: `go test -short ./...` needs no API server. Under -short a
// suite's TestMain (Main) starts none, every test that needs one calls
// Require first and is skipped, and every pure test still runs. `make
// test` runs everything.
package testenv

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Options say what to start. The zero value installs the operator's CRDs.
type Options struct {
	// CRDDirs are the directories of CRDs to install, relative to the
	// repository root (default: config/crd/bases). NoCRDs installs none.
	CRDDirs []string
	NoCRDs  bool
	// Scheme is the client's scheme (default: client-go's).
	Scheme *runtime.Scheme
	// Cluster, when set, makes the control plane a small cluster: the
	// controllers, the scheduler and simulated nodes (cluster.go).
	Cluster *ClusterOptions
}

// Env is a running control plane.
type Env struct {
	Environment *envtest.Environment
	Config      *rest.Config
	// Client is an admin client with Options.Scheme.
	Client client.Client
	// Kubeconfig is a kubeconfig file for the admin, for kubectl.
	Kubeconfig string

	dir   string
	procs []proc
}

// skipReason is why a test that needs an API server does not run.
const skipReason = "needs a kube-apiserver (skipped under -short; make test runs it)"

// Require skips t under -short: call it first in every test that needs the
// API server.
func Require(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip(skipReason)
	}
}

// Main is the TestMain of a suite that shares one control plane: it
// starts it (not under -short), lets setup wire the suite to it (and
// return what to undo after the tests, or nil), runs the tests and stops
// it. It returns the exit code for os.Exit.
func Main(m *testing.M, opts Options, setup func(*Env) (teardown func(), err error)) int {
	flag.Parse() // testing's flags, for -short, before m.Run parses them
	if testing.Short() {
		return m.Run()
	}
	env, err := Start(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping envtest:", err)
		}
	}()
	if setup != nil {
		teardown, err := setup(env)
		if err != nil {
			fmt.Fprintln(os.Stderr, "suite setup:", err)
			return 1
		}
		if teardown != nil {
			defer teardown()
		}
	}
	return m.Run()
}

// ForTest starts a control plane of the test's own (stopped when it
// ends), for tests that must own theirs (a manager killed and restarted,
// a chart's CRDs); it skips the test under -short.
func ForTest(t testing.TB, opts Options) *Env {
	t.Helper()
	Require(t)
	env, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	return env
}

// Start starts a control plane.
func Start(opts Options) (*Env, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	e := &envtest.Environment{}
	if !opts.NoCRDs {
		dirs := opts.CRDDirs
		if len(dirs) == 0 {
			dirs = []string{filepath.Join("config", "crd", "bases")}
		}
		for _, d := range dirs {
			e.CRDDirectoryPaths = append(e.CRDDirectoryPaths, filepath.Join(root, d))
		}
		e.ErrorIfCRDPathMissing = true
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" || opts.Cluster != nil {
		// The binaries make test uses; built once and cached.
		args := []string{}
		if opts.Cluster != nil {
			args = append(args, "--full")
		}
		out, err := exec.Command(filepath.Join(root, "hack", "build-control-plane.sh"), args...).Output()
		if err != nil {
			return nil, fmt.Errorf("KUBEBUILDER_ASSETS is unset and hack/build-control-plane.sh failed: %w", err)
		}
		e.BinaryAssetsDirectory = strings.TrimSpace(string(out))
	}
	cfg, err := startControlPlane(e)
	if err != nil {
		return nil, fmt.Errorf("starting envtest (make test sets KUBEBUILDER_ASSETS; see hack/build-control-plane.sh): %w", err)
	}
	env := &Env{Environment: e, Config: cfg}
	if env.Client, err = client.New(cfg, client.Options{Scheme: opts.Scheme}); err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	if env.dir, err = os.MkdirTemp("", "envtest-"); err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	env.Kubeconfig = filepath.Join(env.dir, "kubeconfig")
	if err := os.WriteFile(env.Kubeconfig, e.KubeConfig, 0o600); err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	if opts.Cluster != nil {
		if err := env.StartCluster(*opts.Cluster); err != nil {
			return nil, errors.Join(err, env.Stop())
		}
	}
	return env, nil
}

// startControlPlane starts e, and stops it again when starting fails: a
// failure after etcd and kube-apiserver are up (CRDs the API server
// refuses, say) otherwise leaves both running after the test binary exits.
func startControlPlane(e *envtest.Environment) (*rest.Config, error) {
	cfg, err := e.Start()
	if err != nil {
		return nil, errors.Join(err, e.Stop())
	}
	return cfg, nil
}

// Stop stops the cluster's components and the control plane and removes
// the kubeconfig.
func (e *Env) Stop() error {
	err := errors.Join(e.stopCluster(), e.Environment.Stop())
	if e.dir != "" {
		err = errors.Join(err, os.RemoveAll(e.dir))
	}
	return err
}

// Root is the repository root: the nearest directory above the working
// directory (a package's, under go test) holding go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testenv: no go.mod above the working directory")
		}
		dir = parent
	}
}
