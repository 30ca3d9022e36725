package enforcement

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// leavers are the namespaces the account's status still reports that no
// longer carry its label: relabelled out of the account (to none, or to an
// account that does not exist), so they are restored rather than left
// restricted with nobody to lift it.
func (e *Enforcer) leavers(ctx context.Context, account *v1alpha1.CustomerAccount, current []corev1.Namespace) ([]corev1.Namespace, error) {
	// Candidates: those the account's enforcement labelled, and those its
	// status reports (a namespace labelled before the enforced-for label).
	var labelled corev1.NamespaceList
	if err := e.Client.List(ctx, &labelled, client.MatchingLabels{v1alpha1.LabelEnforcedFor: account.Name}); err != nil {
		return nil, fmt.Errorf("listing namespaces enforced for account %s: %w", account.Name, err)
	}
	candidates := map[string]*corev1.Namespace{}
	for i := range labelled.Items {
		candidates[labelled.Items[i].Name] = &labelled.Items[i]
	}
	for _, st := range account.Status.Namespaces {
		if _, ok := candidates[st.Name]; !ok {
			candidates[st.Name] = nil
		}
	}
	var out []corev1.Namespace
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(candidates)) {
		if slices.ContainsFunc(current, func(ns corev1.Namespace) bool { return ns.Name == name }) {
			continue
		}
		ns := candidates[name]
		if ns == nil {
			ns = &corev1.Namespace{}
			if err := e.Client.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
				if !apierrors.IsNotFound(err) {
					errs = append(errs, fmt.Errorf("namespace %s: %w", name, err))
				}
				continue
			}
		}
		if e.protection(ns) != "" || ns.DeletionTimestamp != nil {
			continue
		}
		// A namespace moved to another account is that account's to bring
		// in line, unless no such account exists: then nobody would lift
		// what this one put in force.
		if other := ns.Labels[v1alpha1.LabelAccount]; other != "" {
			err := e.Client.Get(ctx, client.ObjectKey{Name: other}, &v1alpha1.CustomerAccount{})
			if err == nil {
				continue
			}
			if !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("namespace %s moved to account %s: %w", name, other, err))
				continue
			}
		}
		out = append(out, *ns)
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

// liftFromProtected lifts whatever the operator still has in force in a
// namespace labelled protected after it was restricted: protected means
// the operator keeps its hands off, and nobody else would lift it.
func (e *Enforcer) liftFromProtected(ctx context.Context, r *nsRun) error {
	if r.ns.Labels[v1alpha1.LabelProtected] != "true" {
		return nil // system and operator namespaces are never restricted
	}
	_, labelled := r.ns.Labels[v1alpha1.LabelPhase]
	if err := e.discover(ctx, r); err != nil {
		return err
	}
	if !labelled && len(r.inForce) == 0 {
		return nil
	}
	if err := e.release(ctx, r); err != nil {
		return fmt.Errorf("lifting restrictions from a protected namespace: %w", err)
	}
	r.inForce = map[v1alpha1.EnforcementAction]bool{}
	r.reversed = append(r.reversed, "the namespace was labelled protected")
	return nil
}
