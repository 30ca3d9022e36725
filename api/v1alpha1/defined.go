package v1alpha1

// The optional structs below are values, not pointers, with omitzero (the
// Kubernetes API conventions kube-api-linter checks): each is absent
// exactly when it is its zero value. IsDefined says whether one was given.
//
// An incident's waiver and appeal are the exception: they stay pointers,
// because the ledger holds up to 500 incidents per account in the
// operator's cache, and inline they would cost every incident 168 bytes
// whether waived or appealed or not (BenchmarkCachedAccount: 6.7 KB per
// account with pointers, 10.5 KB inline). Their IsDefined takes a nil
// receiver, so callers read both kinds alike.

// IsDefined reports whether the incident was waived.
func (w *Waiver) IsDefined() bool { return w != nil && *w != Waiver{} }

// IsDefined reports whether an appeal was filed.
func (a *Appeal) IsDefined() bool { return a != nil && *a != Appeal{} }

// IsDefined reports whether the appeal was decided.
func (d AppealDecision) IsDefined() bool { return d != AppealDecision{} }

// IsDefined reports whether a hold was placed.
func (h Hold) IsDefined() bool { return h != Hold{} }

// IsDefined reports whether the account was reinstated.
func (r Reinstatement) IsDefined() bool { return r != Reinstatement{} }

// IsDefined reports whether the ledger was ever compacted.
func (c Compaction) IsDefined() bool { return c != Compaction{} }

// IsDefined reports whether a webhook is configured.
func (w *Webhook) IsDefined() bool {
	return w.URL != "" || w.SecretRef != nil || len(w.CABundle) > 0 || w.InClusterHTTP != ""
}
