package v1alpha1

// Bounds of the API, for clients that check input before sending it (the
// kubectl plugin) and for the operator, which must keep its status
// writable. The CRD's markers state the same numbers; a test checks the
// generated schema against these.
const (
	// MaxIncidents bounds spec.incidents (etcd's object size and the CEL
	// cost budget set it); compact the ledger to make room.
	MaxIncidents = 500
	// MaxIncidentIDLength and IncidentIDPattern: an incident id is a DNS
	// label.
	MaxIncidentIDLength = 63
	IncidentIDPattern   = `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// MaxNameLength bounds who recorded something (reportedBy, by).
	MaxNameLength = 128
	// MaxTextLength bounds a summary, a reason or a note.
	MaxTextLength = 1024
	// MaxHistory bounds status.history, newest first.
	MaxHistory = 20
	// MaxStatusNamespaces bounds status.namespaces; namespaceSummary counts
	// them all.
	MaxStatusNamespaces = 64
	// MaxMessage bounds status messages (history and namespace entries).
	MaxMessage = 2048
)
