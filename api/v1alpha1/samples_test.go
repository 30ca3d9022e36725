package v1alpha1_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

var samplesDir = filepath.Join("..", "..", "config", "samples")

// readObjects decodes every YAML document of a file.
func readObjects(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	dec := yaml.NewYAMLOrJSONDecoder(f, 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
			return objs
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}

// TestSamplesApply: the kustomization lists every sample file, every sample
// is accepted by a server-side apply, and the samples say what they claim.
func TestSamplesApply(t *testing.T) {
	testenv.Require(t)
	ctx := t.Context()
	kust := readObjects(t, filepath.Join(samplesDir, "kustomization.yaml"))
	listed, _, _ := unstructured.NestedStringSlice(kust[0].Object, "resources")
	files, err := filepath.Glob(filepath.Join(samplesDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var onDisk []string
	for _, f := range files {
		if base := filepath.Base(f); base != "kustomization.yaml" {
			onDisk = append(onDisk, base)
		}
	}
	slices.Sort(listed)
	if !slices.Equal(listed, onDisk) || len(onDisk) < 4 {
		t.Fatalf("kustomization lists %v, directory holds %v", listed, onDisk)
	}

	for _, file := range onDisk {
		for _, obj := range readObjects(t, filepath.Join(samplesDir, file)) {
			if err := applyAs(ctx, "samples", obj); err != nil {
				t.Errorf("%s: %s %s refused: %v", file, obj.GetKind(), obj.GetName(), err)
			}
		}
	}
	if t.Failed() {
		return
	}

	var pol v1alpha1.AccountPolicy
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: "standard"}, &pol); err != nil {
		t.Fatal(err)
	}
	w := pol.Spec.CategoryWeights
	if w.For(v1alpha1.CategoryAbuse) <= max(w.For(v1alpha1.CategorySupportLoad), w.For(v1alpha1.CategoryNonPayment), w.For(v1alpha1.CategoryPolicyViolation), w.For(v1alpha1.CategoryPoorFit), w.For(v1alpha1.CategoryOther)) {
		t.Errorf("abuse should weigh most: %+v", w)
	}
	m := pol.Spec.Messages
	if m.Warned == "" || m.FinalNotice == "" || m.Reinstated == "" || !strings.Contains(m.Terminated, "may serve you better") {
		t.Errorf("policy messages incomplete or terminated lacks a referral: %+v", m)
	}
	if pol.Spec.EffectiveRecoveryPeriod() == 0 || pol.Spec.EffectiveNoticePeriod() == 0 {
		t.Errorf("sample should show notice and recovery periods: %+v", pol.Spec)
	}
	sel, err := metav1.LabelSelectorAsSelector(pol.Spec.AccountSelector)
	if err != nil {
		t.Fatal(err)
	}

	accounts := map[string]*v1alpha1.CustomerAccount{}
	for _, name := range []string{"northwind-traders", "contoso", "initech"} {
		var a v1alpha1.CustomerAccount
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, &a); err != nil {
			t.Fatal(err)
		}
		if !sel.Matches(labels.Set(a.Labels)) {
			t.Errorf("policy %q does not select sample account %s", pol.Name, name)
		}
		accounts[name] = &a
	}
	if n := len(accounts["northwind-traders"].Spec.Incidents); n > 1 {
		t.Errorf("the good account has %d incidents", n)
	}
	if incs := accounts["contoso"].Spec.Incidents; len(incs) == 0 || incs[0].Attribution != v1alpha1.AttributionVendor {
		t.Errorf("contoso should carry a vendor-caused incident: %+v", incs)
	}
	abuse := 0
	for _, inc := range accounts["initech"].Spec.Incidents {
		if inc.Category == v1alpha1.CategoryAbuse && inc.Attribution == v1alpha1.AttributionCustomer && !inc.Waiver.IsDefined() {
			abuse++
		}
	}
	if abuse < 2 {
		t.Errorf("initech should show repeated counted abuse, has %d", abuse)
	}
}
