// Package enforcement brings an account's tenant namespaces to exactly the
// enforcement actions its policy puts in force for its phase, and reverses
// every action no longer in force.
//
// Nothing is remembered between calls: what is in force in a namespace is
// read back from the world (the frozen label, the quota and network policy
// the operator created, the RoleBinding record Secret, the prior-value
// annotations on workloads), so a fresh process computes the same thing and
// a call interrupted at any point is finished exactly by the next one.
package enforcement

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// RBAC common to every action: the namespace's labels, and the record
// Secrets, which live in the operator's namespace only. Each action's file
// holds the markers for what it touches.
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups="",namespace=account-lifecycle-operator-system,resources=secrets,verbs=get;list;watch;create;update;delete

// ManagedBy is the value of v1alpha1.LabelManaged on objects the operator
// creates.
const ManagedBy = "account-lifecycle-operator"

// maxMessage keeps status messages within the API's bound.
const maxMessage = v1alpha1.MaxMessage

// systemNamespaces are never touched, whatever their labels.
var systemNamespaces = []string{"default", "kube-node-lease", "kube-public", "kube-system"}

// Enforcer applies and reverses enforcement actions on tenant namespaces.
type Enforcer struct {
	// Client reads and writes the cluster. Writes use optimistic concurrency
	// and tolerate AlreadyExists/NotFound, so a stale cached read costs at
	// most a retry, never a lost record.
	Client client.Client
	// OperatorNamespace holds the RoleBinding records; it is never enforced.
	OperatorNamespace string
	// Metadata, when set, is the manager's cache of the metadata of
	// WatchedKinds, fed by watches that wake the account on any change:
	// a kind with no object in a namespace is then not listed from the API
	// server. Nil lists every kind every time.
	Metadata client.Reader
	// Live reads from the API server itself, for the one question a cache
	// must not answer: is a namespace really gone (a record is discarded
	// then). Nil uses Client.
	Live client.Reader
}

// Request says what should be in force for an account now.
type Request struct {
	Account *v1alpha1.CustomerAccount
	Phase   v1alpha1.AccountPhase
	// Actions should be in force now; every other action is reversed.
	Actions []v1alpha1.EnforcementAction
	// DryRun reports what would be in force and changes nothing but the
	// phase label.
	DryRun bool
	// DryRunReason ("dry run" or "exempt") is used in messages.
	DryRunReason string
}

// Event is something worth announcing about one namespace. Type is
// corev1.EventTypeNormal or EventTypeWarning; Reason is one of the Reason
// constants above.
type Event struct{ Namespace, Type, Reason, Message string }

// Result reports enforcement on every tenant namespace.
type Result struct {
	// Namespaces has one entry per tenant namespace (protected ones too),
	// sorted by name.
	Namespaces []v1alpha1.NamespaceStatus
	// Events are only for changes actually made and for warnings, so a
	// steady state emits none.
	Events []Event
	// Restricted: some action is actually in force somewhere.
	Restricted bool
	// Discarded describes records the account wrote that could never be
	// restored because their namespace was deleted, and were deleted (see
	// orphans.go).
	Discarded []string
	// Changed: something was put in force or lifted somewhere. The caller
	// must then record the outcome even when its status looks unchanged:
	// that status may be a stale read.
	Changed bool
}

// Enforce brings every tenant namespace of req.Account to exactly
// req.Actions. Errors are per namespace, joined; the Result still covers
// every namespace.
func (e *Enforcer) Enforce(ctx context.Context, req Request) (Result, error) {
	want, err := req.validate()
	if err != nil {
		return Result{}, err
	}
	return e.run(ctx, req.Account, string(req.Phase), func(ctx context.Context, r *nsRun) error {
		if req.DryRun {
			return e.dryRun(ctx, r, want, req.DryRunReason)
		}
		return e.enforce(ctx, r, want)
	}, false)
}

// Release restores everything in every tenant namespace of account and
// removes the operator's labels, for the finalizer on account deletion.
func (e *Enforcer) Release(ctx context.Context, account *v1alpha1.CustomerAccount) (Result, error) {
	if account == nil || account.Name == "" {
		return Result{}, errors.New("enforcement: release needs an account")
	}
	return e.run(ctx, account, "", e.release, true)
}

// Inspect reports what is in force in every tenant namespace of account
// without changing it (but for namespaces that left the account, which are
// restored): for an account that is not evaluated, whose namespaces stay
// as they are, why says so.
func (e *Enforcer) Inspect(ctx context.Context, account *v1alpha1.CustomerAccount, why string) (Result, error) {
	if account == nil || account.Name == "" {
		return Result{}, errors.New("enforcement: inspect needs an account")
	}
	return e.run(ctx, account, "", func(ctx context.Context, r *nsRun) error {
		r.notes = append(r.notes, why)
		return e.discover(ctx, r)
	}, false)
}

func (req Request) validate() (map[v1alpha1.EnforcementAction]bool, error) {
	if req.Account == nil || req.Account.Name == "" {
		return nil, errors.New("enforcement: request needs an account")
	}
	if req.Phase == "" {
		return nil, fmt.Errorf("enforcement: request for account %s has no phase", req.Account.Name)
	}
	want := map[v1alpha1.EnforcementAction]bool{}
	for _, a := range req.Actions {
		if !slices.Contains(applyOrder, a) {
			return nil, fmt.Errorf("enforcement: unknown action %q for account %s", a, req.Account.Name)
		}
		want[a] = true
	}
	if want[v1alpha1.ActionRevokeAccess] && want[v1alpha1.ActionReadOnlyAccess] {
		return nil, fmt.Errorf("enforcement: RevokeAccess and ReadOnlyAccess exclude each other (account %s)", req.Account.Name)
	}
	return want, nil
}

// nsRun collects what happened in one namespace during one call.
type nsRun struct {
	ns      *corev1.Namespace
	account *v1alpha1.CustomerAccount
	// phase is the value of the phase label; "" removes it (release).
	phase string
	// dry: report `would` instead of what is in force.
	dry   bool
	would []v1alpha1.EnforcementAction
	// inForce is the set of actions in force once the call is done.
	inForce  map[v1alpha1.EnforcementAction]bool
	put      []string // actions put in force, with details
	reversed []string // actions reversed, with details
	warnings []warning
	notes    []string // status message parts that are not warnings
	// records are this namespace's records as last listed; nil: list again.
	records []corev1.Secret
}

type warning struct {
	reason, message string
	// persistent warnings describe a standing state and are announced only
	// when the account's status does not already report them.
	persistent bool
}

func (r *nsRun) warn(reason, format string, args ...any) {
	r.warnings = append(r.warnings, warning{reason: reason, message: fmt.Sprintf(format, args...)})
}

func (r *nsRun) warnPersistent(reason, format string, args ...any) {
	r.warnings = append(r.warnings, warning{reason: reason, message: fmt.Sprintf(format, args...), persistent: true})
}

// run applies do to every tenant namespace of account, restores those that
// left it, and looks for orphaned records when that can have changed (or
// always, when releasing).
func (e *Enforcer) run(ctx context.Context, account *v1alpha1.CustomerAccount, phase string, do func(context.Context, *nsRun) error, releasing bool) (Result, error) {
	var list corev1.NamespaceList
	if err := e.Client.List(ctx, &list, client.MatchingLabels{v1alpha1.LabelAccount: account.Name}); err != nil {
		return Result{}, fmt.Errorf("listing namespaces of account %s: %w", account.Name, err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })

	var res Result
	var errs []error
	leavers, err := e.leavers(ctx, account, list.Items)
	if err != nil {
		errs = append(errs, err)
	}
	for i := range leavers {
		r := &nsRun{ns: &leavers[i], account: account, inForce: map[v1alpha1.EnforcementAction]bool{}}
		if err := e.release(ctx, r); err != nil {
			// Kept in the result so the next call, reading the status, tries again.
			errs = append(errs, fmt.Errorf("namespace %s left the account: %w", r.ns.Name, err))
			r.notes = append(r.notes, "left the account; restoring failed: "+err.Error())
			res.add(r)
			continue
		}
		r.reversed = append(r.reversed, "the namespace left the account")
		res.announce(r)
	}
	for i := range list.Items {
		r := &nsRun{ns: &list.Items[i], account: account, phase: phase, inForce: map[v1alpha1.EnforcementAction]bool{}}
		var err error
		switch why := e.protection(r.ns); {
		case why != "":
			r.warnPersistent(v1alpha1.ReasonProtectedNamespace,
				"namespace %s is protected (%s) and is never restricted by the operator", r.ns.Name, why)
			err = e.liftFromProtected(ctx, r)
		case r.ns.DeletionTimestamp != nil:
			r.notes = append(r.notes, "namespace is being deleted; left as it is")
			err = e.discover(ctx, r)
		default:
			if err = do(ctx, r); err != nil {
				// Report what is actually in force after the failure.
				r.inForce = map[v1alpha1.EnforcementAction]bool{}
				err = errors.Join(err, e.discover(ctx, r))
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("namespace %s: %w", r.ns.Name, err))
			r.notes = append(r.notes, "error: "+err.Error())
		}
		res.add(r)
	}
	sort.Slice(res.Namespaces, func(i, j int) bool { return res.Namespaces[i].Name < res.Namespaces[j].Name })
	if releasing || mayHaveOrphans(account, list.Items) {
		discarded, err := e.discardOrphans(ctx, account)
		if err != nil {
			errs = append(errs, err)
		}
		res.Discarded = discarded
	}
	return res, errors.Join(errs...)
}

// enforce puts want in force in one namespace and reverses the rest. One
// action failing does not stop the others: every restriction that can be
// put in force is, and the errors are joined. The freeze is lifted last and
// only once every other reversal succeeded, so tenants never act on a
// half-restored namespace. Only the actions the in-force mark says may be
// in force are reversed (all of them when it is unknown), so a namespace
// with nothing in force costs no reads.
func (e *Enforcer) enforce(ctx context.Context, r *nsRun, want map[v1alpha1.EnforcementAction]bool) error {
	// The phase label is written together with the frozen label so the
	// admission policy's message names the right phase, and the mark grows
	// to cover what is about to be put in force before any of it is.
	freeze := want[v1alpha1.ActionFreezeChanges] || r.frozen() // lifted last, below
	maybe, known := r.markedInForce()
	start := keepMark
	if known {
		start = setMark(union(maybe, want))
	}
	if err := e.setLabels(ctx, r, r.phase, &freeze, start); err != nil {
		return err
	}
	var errs []error
	for _, a := range revertOrder {
		if !want[a] && a != v1alpha1.ActionFreezeChanges && (!known || maybe[a]) {
			if err := action(a).Revert(ctx, e, r); err != nil {
				errs = append(errs, fmt.Errorf("lifting %s: %w", a, err))
			}
		}
	}
	for _, a := range applyOrder {
		if !want[a] {
			continue
		}
		if err := action(a).Apply(ctx, e, r); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a, err))
			continue
		}
		r.inForce[a] = true
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// Everything else is lifted: the mark says exactly what is in force.
	return e.setLabels(ctx, r, r.phase, ptr.To(want[v1alpha1.ActionFreezeChanges]), setMark(want))
}

// release reverses every action and removes the operator's labels; the
// freeze and the labels go only once everything else is back.
func (e *Enforcer) release(ctx context.Context, r *nsRun) error {
	maybe, known := r.markedInForce()
	var errs []error
	for _, a := range revertOrder {
		if a == v1alpha1.ActionFreezeChanges || known && !maybe[a] {
			continue
		}
		if err := action(a).Revert(ctx, e, r); err != nil {
			errs = append(errs, fmt.Errorf("lifting %s: %w", a, err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return e.setLabels(ctx, r, "", ptr.To(false), removeMark)
}

// dryRun sets the phase label only and reports what would be in force,
// and what actually is if an earlier enforcement left something.
func (e *Enforcer) dryRun(ctx context.Context, r *nsRun, want map[v1alpha1.EnforcementAction]bool, reason string) error {
	if reason == "" {
		reason = "dry run"
	}
	if err := e.setLabels(ctx, r, r.phase, nil, keepMark); err != nil {
		return err
	}
	if err := e.discover(ctx, r); err != nil {
		return err
	}
	would := ordered(want)
	msg := fmt.Sprintf("%s: nothing is enforced; would be in force: %s", reason, joinOr(would, "none"))
	if actual := ordered(r.inForce); len(actual) > 0 {
		msg += fmt.Sprintf("; still in force from before: %s", joinOr(actual, "none"))
	}
	r.notes = append(r.notes, msg)
	r.dry, r.would = true, would
	return nil
}

// discover fills r.inForce from the world, without writing.
func (e *Enforcer) discover(ctx context.Context, r *nsRun) error {
	var errs []error
	for _, a := range applyOrder {
		on, err := action(a).InForce(ctx, e, r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if on {
			r.inForce[a] = true
		}
	}
	return errors.Join(errs...)
}

func ordered(set map[v1alpha1.EnforcementAction]bool) []v1alpha1.EnforcementAction {
	var out []v1alpha1.EnforcementAction
	for _, a := range applyOrder {
		if set[a] {
			out = append(out, a)
		}
	}
	return out
}

func joinOr[T ~string](items []T, none string) string {
	if len(items) == 0 {
		return none
	}
	s := make([]string, len(items))
	for i, it := range items {
		s[i] = string(it)
	}
	return strings.Join(s, ", ")
}
