package enforcement

import (
	"context"
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// NetworkPolicyName is the NetworkPolicy that puts IsolateNetwork in force.
const NetworkPolicyName = "account-lifecycle-isolate"

// RBAC for isolateNetwork.
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;patch;delete

// IsolateNetwork: a NetworkPolicy selecting every pod with both policy
// types and no rules, which denies all ingress and egress (DNS included).
// NetworkPolicies are additive, so a tenant's own policy allowing traffic
// would widen it: the namespace's other NetworkPolicies (except those
// labelled accounts.lifecycle.dev/keep=true) are recorded and set aside
// while isolated, like RoleBindings under RevokeAccess, and restored
// exactly before the isolation is lifted.
type isolateNetwork struct{}

func (isolateNetwork) Name() v1alpha1.EnforcementAction { return v1alpha1.ActionIsolateNetwork }

func (isolateNetwork) Watched() []client.Object {
	return []client.Object{&networkingv1.NetworkPolicy{}}
}

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
	squatters: networkPolicyRecords,
}

var networkPolicyRecords = newRecordKind[networkingv1.NetworkPolicy]("NetworkPolicy", "np", nil)

// tenantPolicies are the NetworkPolicies that isolation sets aside.
func (e *Enforcer) tenantPolicies(ctx context.Context, r *nsRun) ([]client.Object, error) {
	all, err := lister(&networkingv1.NetworkPolicyList{})(ctx, e, r.ns.Name)
	if err != nil {
		return nil, err
	}
	var out []client.Object
	for _, np := range all {
		// One of our name, ours or a squatter, is ensure's business.
		if np.GetName() == NetworkPolicyName || np.GetLabels()[v1alpha1.LabelKeep] == "true" {
			continue
		}
		out = append(out, np)
	}
	return out, nil
}

func (isolateNetwork) InForce(ctx context.Context, e *Enforcer, r *nsRun) (bool, error) {
	ours, err := e.present(ctx, r, networkObject)
	if err != nil || !ours {
		return false, err
	}
	others, err := e.tenantPolicies(ctx, r)
	return len(others) == 0, err
}

func (isolateNetwork) Apply(ctx context.Context, e *Enforcer, r *nsRun) error {
	// Ours goes in first, so the namespace is never open in between.
	if err := e.ensure(ctx, r, networkObject); err != nil {
		return err
	}
	others, err := e.tenantPolicies(ctx, r)
	if err != nil {
		return err
	}
	// A newcomer under a recorded name (created while isolated by someone
	// the freeze admits) is removed; the original is restored.
	removed, _, err := e.setAsideEach(ctx, r, networkPolicyRecords, others)
	if len(removed) > 0 {
		r.put = append(r.put, fmt.Sprintf("%s (set aside the tenant's NetworkPolicies %s, which would widen it; recorded in Secrets in %s)",
			v1alpha1.ActionIsolateNetwork, strings.Join(removed, ", "), e.OperatorNamespace))
	}
	return err
}

// Revert restores the tenant's policies first, then lifts ours
// (restoring a policy that had its name): the namespace is never open
// wider than the tenant had it.
func (isolateNetwork) Revert(ctx context.Context, e *Enforcer, r *nsRun) error {
	recs, err := e.readRecords(ctx, r, networkPolicyRecords)
	if err != nil {
		return err
	}
	delete(recs, NetworkPolicyName) // remove's business
	if len(recs) > 0 || r.lost(networkPolicyRecords, recs) > 0 {
		created, err := e.restoreRecorded(ctx, r, networkPolicyRecords, recs, func(name string, _ client.Object) {
			r.warn(v1alpha1.ReasonRestoreConflict,
				"NetworkPolicy %s was created by someone else while the network was isolated and was left as they made it; the recorded policy was not restored", name)
		})
		if err != nil {
			return err
		}
		r.reversed = append(r.reversed, fmt.Sprintf("restored %d NetworkPolicies set aside by %s", created, v1alpha1.ActionIsolateNetwork))
	}
	return e.remove(ctx, r, networkObject)
}
