package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// These tests run against a real kube-apiserver and etcd (envtest) so that
// every schema rule, default and CEL rule is enforced by the server itself.
var (
	k8sClient      client.Client
	kubeconfigPath string
	nameSeq        atomic.Int64
)

func TestMain(m *testing.M) {
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		fmt.Fprintln(os.Stderr, "registering the API:", err)
		os.Exit(1)
	}
	os.Exit(testenv.Main(m, testenv.Options{Scheme: scheme}, func(env *testenv.Env) (func(), error) {
		// kubectl tests talk to the same apiserver through a kubeconfig file.
		k8sClient, kubeconfigPath = env.Client, env.Kubeconfig
		return nil, nil
	}))
}

// uniqueName returns a fresh cluster-scoped object name, since all tests
// share one apiserver and both kinds are cluster-scoped.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, nameSeq.Add(1))
}

// incident returns a complete, valid incident as a user would write it.
func incident(id string) map[string]any {
	return map[string]any{
		"id":         id,
		"category":   "SupportLoad",
		"severity":   "Major",
		"occurredAt": "2026-10-01T09:00:00Z",
		"reportedBy": "support@vendor.example",
		"summary":    "Opened 40 tickets in a day for one known issue.",
	}
}

// waiver returns a complete, valid waiver.
func waiver(reason string) map[string]any {
	return map[string]any{
		"by":     "jane.doe",
		"at":     "2026-10-05T12:00:00Z",
		"reason": reason,
	}
}

// incidents returns n valid incidents with ids inc-0 .. inc-(n-1).
func incidents(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = incident(fmt.Sprintf("inc-%d", i))
	}
	return out
}

// accountObj builds an unstructured CustomerAccount, so tests can send what
// the typed Go structs could never express (unknown enums, bad durations...).
func accountObj(name string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("CustomerAccount"))
	u.SetName(name)
	return u
}

// validAccountSpec has one incident and one contact.
func validAccountSpec() map[string]any {
	return map[string]any{
		"displayName": "Acme Robotics",
		"contacts":    []any{map[string]any{"name": "Ann Ops", "email": "ann@acme.example"}},
		"incidents":   []any{incident("inc-1")},
	}
}

// policyObj builds an unstructured AccountPolicy.
func policyObj(name string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("AccountPolicy"))
	u.SetName(name)
	return u
}

// validPolicySpec is the smallest policy a user can write.
func validPolicySpec() map[string]any {
	return map[string]any{
		"thresholds": map[string]any{"warned": int64(3), "finalNotice": int64(6), "terminated": int64(10)},
	}
}

// specOf returns the spec map of an unstructured object.
func specOf(u *unstructured.Unstructured) map[string]any {
	return u.Object["spec"].(map[string]any)
}

// incidentAt returns incident i of an unstructured spec.
func incidentAt(spec map[string]any, i int) map[string]any {
	return spec["incidents"].([]any)[i].(map[string]any)
}

// requireInvalid fails unless err is an Invalid error from the apiserver
// whose user-facing text contains every wanted substring.
func requireInvalid(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("the apiserver accepted the object; want rejection containing %q", want)
	}
	if !apierrors.IsInvalid(err) {
		t.Fatalf("want an Invalid (422) error, got %T: %v", err, err)
	}
	t.Logf("refused as expected: %v", err)
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not contain %q:\n%v", w, err)
		}
	}
}

// mustGet re-reads an unstructured object from the apiserver.
func mustGet(t *testing.T, ctx context.Context, u *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(u.GroupVersionKind())
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(u), got); err != nil {
		t.Fatalf("get %s: %v", u.GetName(), err)
	}
	return got
}
