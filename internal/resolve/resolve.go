// Package resolve finds the AccountPolicy that governs a CustomerAccount. The
// operator and the kubectl plugin share it so both resolve policies the same way.
package resolve

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/lifecycle"
)

// Resolution is the outcome of finding an account's policy: either a
// usable policy, or the Ready=False reason and message explaining why the
// account cannot be evaluated.
type Resolution struct {
	Policy  *v1alpha1.AccountPolicy
	Reason  string
	Message string
}

// Policy finds the policy that governs an account: the one it names,
// else the single policy whose selector matches its labels. Policies being
// deleted count as absent, so deleting a policy freezes its accounts.
func Policy(ctx context.Context, c client.Reader, account *v1alpha1.CustomerAccount) (Resolution, error) {
	if name := account.Spec.PolicyName; name != "" {
		var policy v1alpha1.AccountPolicy
		if err := c.Get(ctx, types.NamespacedName{Name: name}, &policy); err != nil {
			if apierrors.IsNotFound(err) {
				return noPolicy(fmt.Sprintf("AccountPolicy %q named by spec.policyName does not exist", name)), nil
			}
			return Resolution{}, err
		}
		if !policy.DeletionTimestamp.IsZero() {
			return noPolicy(fmt.Sprintf("AccountPolicy %q named by spec.policyName is being deleted", name)), nil
		}
		return checked(&policy), nil
	}

	var list v1alpha1.AccountPolicyList
	if err := c.List(ctx, &list); err != nil {
		return Resolution{}, err
	}
	matches := Selecting(list.Items, account)
	switch len(matches) {
	case 0:
		return noPolicy("no AccountPolicy selects this account; set spec.policyName or label the account to match a policy's accountSelector"), nil
	case 1:
		return checked(matches[0]), nil
	default:
		names := make([]string, 0, len(matches))
		for _, p := range matches {
			names = append(names, p.Name)
		}
		return Resolution{
			Reason: v1alpha1.ReasonPolicyConflict,
			Message: fmt.Sprintf("several AccountPolicies select this account (%s); set spec.policyName to choose one",
				strings.Join(names, ", ")),
		}, nil
	}
}

// Selecting returns the live policies whose selector matches the
// account's labels, sorted by name. A policy without a selector selects none.
func Selecting(policies []v1alpha1.AccountPolicy, account *v1alpha1.CustomerAccount) []*v1alpha1.AccountPolicy {
	var out []*v1alpha1.AccountPolicy
	for i := range policies {
		p := &policies[i]
		if !p.DeletionTimestamp.IsZero() || p.Spec.AccountSelector == nil {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.AccountSelector)
		if err != nil || sel.Empty() {
			// An invalid selector is reported on the policy; an empty one would
			// silently grab every account, which nobody means.
			continue
		}
		if sel.Matches(labels.Set(account.Labels)) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func noPolicy(msg string) Resolution {
	return Resolution{Reason: v1alpha1.ReasonNoPolicy, Message: msg}
}

// checked refuses a policy the engine cannot use, so a broken policy never
// revokes nor restores anything.
func checked(policy *v1alpha1.AccountPolicy) Resolution {
	if err := lifecycle.CheckPolicy(policy); err != nil {
		return Resolution{
			Reason:  v1alpha1.ReasonPolicyNotReady,
			Message: fmt.Sprintf("AccountPolicy %q is unusable: %v", policy.Name, err),
		}
	}
	return Resolution{Policy: policy}
}
