package enforcement

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// The suite runs against a real kube-apiserver (envtest, RBAC on) with the
// CRDs and the shipped admission policies from config/admission installed,
// so RBAC escalation checks, quota and the ValidatingAdmissionPolicy are
// the API server's own.

const (
	operatorNS   = "account-lifecycle-operator-system"
	operatorUser = "system:serviceaccount:account-lifecycle-operator-system:account-lifecycle-operator-controller-manager"
)

var (
	testEnv *envtest.Environment
	scheme  = runtime.NewScheme()
	admin   client.Client // system:masters
	seq     atomic.Int64
)

func TestMain(m *testing.M) {
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			fmt.Fprintln(os.Stderr, "scheme:", err)
			os.Exit(1)
		}
	}
	os.Exit(testenv.Main(m, testenv.Options{Scheme: scheme}, func(env *testenv.Env) (func(), error) {
		testEnv, admin = env.Environment, env.Client
		return nil, setup(context.Background())
	}))
}

func setup(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNS}}
	if err := admin.Create(ctx, ns); err != nil {
		return err
	}
	if err := aggregateClusterRoles(ctx); err != nil {
		return fmt.Errorf("aggregating admin/edit/view: %w", err)
	}
	if err := applyKustomization(ctx, filepath.Join("..", "..", "config", "admission")); err != nil {
		return fmt.Errorf("installing config/admission: %w", err)
	}
	return waitForAdmission(ctx)
}

// aggregateClusterRoles does the job of kube-controller-manager's
// clusterrole-aggregation controller, which envtest does not run: without
// it admin, edit and view grant nothing. Aggregation nests (view into edit
// into admin), so it repeats until nothing changes.
func aggregateClusterRoles(ctx context.Context) error {
	for changed := true; changed; {
		changed = false
		var all rbacv1.ClusterRoleList
		if err := admin.List(ctx, &all); err != nil {
			return err
		}
		for i := range all.Items {
			cr := &all.Items[i]
			if cr.AggregationRule == nil {
				continue
			}
			var rules []rbacv1.PolicyRule
			for _, sel := range cr.AggregationRule.ClusterRoleSelectors {
				s, err := metav1.LabelSelectorAsSelector(&sel)
				if err != nil {
					return err
				}
				for _, src := range all.Items {
					if src.Name != cr.Name && s.Matches(labels.Set(src.Labels)) {
						rules = append(rules, src.Rules...)
					}
				}
			}
			if equality.Semantic.DeepEqual(rules, cr.Rules) {
				continue
			}
			cr.Rules = rules
			if err := admin.Update(ctx, cr); err != nil {
				return err
			}
			changed = true
		}
	}
	return nil
}

// applyKustomization creates every object of the files a kustomization.yaml
// lists, as `kubectl apply -k` would for plain resources.
func applyKustomization(ctx context.Context, dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return err
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := utilyaml.Unmarshal(raw, &k); err != nil {
		return err
	}
	if len(k.Resources) == 0 {
		return errors.New("kustomization lists no resources")
	}
	for _, f := range k.Resources {
		objs, err := readObjects(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err := admin.Create(ctx, o); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
		}
	}
	return nil
}

// readObjects decodes every YAML document of a file.
func readObjects(path string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

// waitForAdmission waits until the API server enforces both policies:
// they are loaded asynchronously after creation.
func waitForAdmission(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "admission-probe", Labels: map[string]string{
		v1alpha1.LabelAccount: "probe", v1alpha1.LabelPhase: "FinalNotice", v1alpha1.LabelFrozen: "true",
	}}}
	if err := admin.Create(ctx, ns); err != nil {
		return err
	}
	user, err := userClient("probe-user")
	if err != nil {
		return err
	}
	if err := grantNamespaceEditor(ctx, "probe-user"); err != nil {
		return err
	}
	if err := admin.Create(ctx, editBinding("probe-edit", ns.Name, "probe-user")); err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		cmErr := user.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "probe-", Namespace: ns.Name}})
		var cur corev1.Namespace
		nsErr := user.Get(ctx, client.ObjectKeyFromObject(ns), &cur)
		if nsErr == nil {
			cur.Labels["probe"] = "x"
			nsErr = user.Update(ctx, &cur)
		}
		if isFrozenDenial(cmErr) && isFrozenDenial(nsErr) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("admission policies not enforced after 60s: configmap: %v; namespace: %v", cmErr, nsErr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func isFrozenDenial(err error) bool {
	return apierrors.IsForbidden(err) && strings.Contains(err.Error(), "is frozen")
}

// userClient authenticates as a user with a client certificate, the way
// a real user or a service account token would reach the API server.
func userClient(name string, groups ...string) (client.Client, error) {
	u, err := testEnv.AddUser(envtest.User{Name: name, Groups: groups}, &rest.Config{QPS: 100, Burst: 200})
	if err != nil {
		return nil, err
	}
	return client.New(u.Config(), client.Options{Scheme: scheme})
}

func userConfig(t *testing.T, name string, groups ...string) *rest.Config {
	t.Helper()
	u, err := testEnv.AddUser(envtest.User{Name: name, Groups: groups}, &rest.Config{QPS: 100, Burst: 200})
	if err != nil {
		t.Fatal(err)
	}
	return u.Config()
}

// grantNamespaceEditor lets user update and delete namespaces, as a namespace-admin
// tool might, to show the frozen Namespace itself is protected.
func grantNamespaceEditor(ctx context.Context, user string) error {
	cr := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "namespace-editor-" + user},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "update", "patch", "delete"}}},
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "namespace-editor-" + user},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: cr.Name},
	}
	// Idempotent, so the suite also passes with go test -count=N.
	return errors.Join(ignoreExists(admin.Create(ctx, cr)), ignoreExists(admin.Create(ctx, crb)))
}

func ignoreExists(err error) error {
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func editBinding(name, ns, user string) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
	}
}

// eventually retries f until it succeeds: admission reads namespace labels
// from an informer, so a label change takes a moment to be enforced.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after 30s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func uniq(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }
