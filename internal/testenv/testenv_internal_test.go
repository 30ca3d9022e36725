package testenv

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// A control plane whose start fails after kube-apiserver is up (here: the
// API server refuses a CRD) is stopped, not left running after the test.
func TestFailedStartLeavesNothingRunning(t *testing.T) {
	Require(t)
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	e := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "internal", "testenv", "testdata", "refused-crd")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: os.Getenv("KUBEBUILDER_ASSETS"),
	}
	if _, err := startControlPlane(e); err == nil {
		_ = e.Stop()
		t.Fatal("the refused CRD was installed")
	}
	api := e.ControlPlane.APIServer
	if api == nil || api.SecureServing.Port == "" {
		t.Fatal("kube-apiserver was never started: the test shows nothing")
	}
	addr := net.JoinHostPort(api.SecureServing.Address, api.SecureServing.Port)
	if _, err := strconv.Atoi(api.SecureServing.Port); err != nil {
		t.Fatalf("port %q", api.SecureServing.Port)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		_ = c.Close()
		_ = e.Stop()
		t.Fatalf("kube-apiserver still serves %s after the failed start", addr)
	}
}
