package enforcement

import (
	"context"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// NetworkPolicyName is the NetworkPolicy that puts IsolateNetwork in force.
const NetworkPolicyName = "account-lifecycle-isolate"

// IsolateNetwork: a NetworkPolicy selecting every pod with both policy
// types and no rules, which denies all ingress and egress (DNS included).
var networkObject = managedObject{
	action: v1alpha1.ActionIsolateNetwork,
	kind:   "NetworkPolicy",
	name:   NetworkPolicyName,
	empty:  func() client.Object { return &networkingv1.NetworkPolicy{} },
	desired: func(r *nsRun) client.Object {
		return &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: NetworkPolicyName, Namespace: r.ns.Name, Labels: managedLabels(r)},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			},
		}
	},
	sameSpec: func(cur, want client.Object) bool {
		return equality.Semantic.DeepEqual(cur.(*networkingv1.NetworkPolicy).Spec, want.(*networkingv1.NetworkPolicy).Spec)
	},
}

func (e *Enforcer) isolated(ctx context.Context, r *nsRun) (bool, error) {
	return e.present(ctx, r, networkObject)
}

func (e *Enforcer) isolate(ctx context.Context, r *nsRun) error {
	return e.ensure(ctx, r, networkObject)
}

func (e *Enforcer) removeIsolation(ctx context.Context, r *nsRun) error {
	return e.remove(ctx, r, networkObject)
}
