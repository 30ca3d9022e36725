package controller

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/enforcement"
	"github.com/accountops/account-lifecycle-operator/internal/lifecycle"
)

// recoverState fills a status that has no phase (a new account, or one
// whose status was lost: restored from a backup without status, the CRD
// reinstalled) from the world: the phase label and phase-since annotation
// the enforcer leaves on every namespace it manages for the account. The
// most severe phase found wins, so a terminated tenant is never restored
// just because its account forgot it was terminated. The recovered phase
// is recorded as a history entry (reason StateRecovered), so it is
// announced: the phase may have been put in force by a manager that died
// before recording the transition, which nobody was told of. When it
// recovered anything it returns that entry and a note for the Ready message.
func (r *CustomerAccountReconciler) recoverState(ctx context.Context, account *v1alpha1.CustomerAccount, now time.Time) (*v1alpha1.Transition, string, error) {
	if account.Status.Phase != "" {
		return nil, "", nil
	}
	var list corev1.NamespaceList
	if err := r.List(ctx, &list, client.MatchingLabels{v1alpha1.LabelEnforcedFor: account.Name}); err != nil {
		return nil, "", fmt.Errorf("reading namespaces to recover the account's phase: %w", err)
	}
	phase, since, from := lifecycle.RecoverPhase(namespacePhases(list.Items), now)
	if phase == "" {
		return nil, "", nil
	}
	note := fmt.Sprintf("The status had no phase; %s since %s was recovered from namespace %s.", phase, since.UTC().Format(time.RFC3339), from)
	account.Status.Phase = phase
	account.Status.PhaseSince = &metav1.Time{Time: since}
	account.Status.History = append([]v1alpha1.Transition{{
		To: phase, At: metav1.NewTime(now), Score: ptr.To(ptr.Deref(account.Status.Score, 0)), Reason: v1alpha1.ReasonStateRecovered, Message: note,
	}}, account.Status.History...)
	if len(account.Status.History) > maxHistory {
		account.Status.History = account.Status.History[:maxHistory]
	}
	return &account.Status.History[0], note, nil
}

func namespacePhases(items []corev1.Namespace) []lifecycle.RecordedPhase {
	out := make([]lifecycle.RecordedPhase, 0, len(items))
	for _, ns := range items {
		rp := lifecycle.RecordedPhase{Source: ns.Name, Phase: v1alpha1.AccountPhase(ns.Labels[v1alpha1.LabelPhase])}
		if t, err := time.Parse(time.RFC3339, ns.Annotations[enforcement.AnnotationPhaseSince]); err == nil {
			rp.Since = t
		}
		out = append(out, rp)
	}
	return out
}
