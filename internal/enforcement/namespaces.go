package enforcement

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// leavers are the namespaces the account's status still reports that no
// longer carry any account label: relabelled out of the account, so they
// are restored rather than left restricted with nobody to lift it. A
// namespace moved to another account is that account's to bring in line.
func (e *Enforcer) leavers(ctx context.Context, account *v1alpha1.CustomerAccount, current []corev1.Namespace) ([]corev1.Namespace, error) {
	var out []corev1.Namespace
	var errs []error
	for _, st := range account.Status.Namespaces {
		if slices.ContainsFunc(current, func(ns corev1.Namespace) bool { return ns.Name == st.Name }) {
			continue
		}
		var ns corev1.Namespace
		if err := e.Client.Get(ctx, client.ObjectKey{Name: st.Name}, &ns); err != nil {
			if !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("namespace %s: %w", st.Name, err))
			}
			continue
		}
		if ns.Labels[v1alpha1.LabelAccount] != "" || e.protection(&ns) != "" || ns.DeletionTimestamp != nil {
			continue
		}
		out = append(out, ns)
	}
	return out, errors.Join(errs...)
}

// protection says why ns must never be touched, or "" if it may be.
func (e *Enforcer) protection(ns *corev1.Namespace) string {
	switch {
	case slices.Contains(systemNamespaces, ns.Name):
		return "a Kubernetes system namespace"
	case ns.Name == e.OperatorNamespace:
		return "the operator's own namespace"
	case ns.Labels[v1alpha1.LabelProtected] == "true":
		return "labelled " + v1alpha1.LabelProtected + "=true"
	}
	return ""
}
