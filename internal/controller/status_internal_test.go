package controller

import (
	"fmt"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// Issue Trust, item 10: however many namespaces an account has, its status
// stays within the CRD's bound, keeps every namespace with something to
// say, and counts the rest.
func TestBoundNamespacesKeepsWhatMatters(t *testing.T) {
	g := NewWithT(t)
	var all []v1alpha1.NamespaceStatus
	for i := range 300 {
		st := v1alpha1.NamespaceStatus{Name: fmt.Sprintf("ns-%03d", i), Actions: []v1alpha1.EnforcementAction{v1alpha1.ActionFreezeChanges}}
		if i%70 == 69 {
			st.Message = "error: something"
		}
		all = append(all, st)
	}
	kept, sum := boundNamespaces(all)
	g.Expect(kept).To(HaveLen(maxNamespaces))
	g.Expect(kept).To(ContainElements(
		HaveField("Name", "ns-069"), HaveField("Name", "ns-139"), HaveField("Name", "ns-209"), HaveField("Name", "ns-279")))
	g.Expect(kept[0].Name).To(Equal("ns-000"), "sorted by name")
	g.Expect(*sum).To(Equal(v1alpha1.NamespaceSummary{Total: ptr.To[int32](300), Restricted: ptr.To[int32](300), WithMessages: ptr.To[int32](4), Omitted: ptr.To[int32](300 - maxNamespaces)}))

	few, sum := boundNamespaces(all[:3])
	g.Expect(few).To(Equal(all[:3]))
	g.Expect(sum.Omitted).To(HaveValue(BeZero()))
	none, sum := boundNamespaces(nil)
	g.Expect(none).To(BeNil())
	g.Expect(sum).To(BeNil())
}
