package e2e

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/controller"
	"github.com/accountops/account-lifecycle-operator/internal/manifests"
)

// decisionsCluster is a control plane with the shipped RBAC and admission
// policies, the operator running as its service account, and users bound
// to the shipped decision roles, each acting through impersonation.
type decisionsCluster struct {
	admin client.Client
	as    func(user string) client.Client
}

func newDecisionsCluster(t *testing.T, g Gomega) *decisionsCluster {
	t.Helper()
	ctx := context.Background()
	env, cfg, admin := controlPlane(t, g)
	g.Expect(manifests.ApplyDir(ctx, admin, filepath.Join(root, "config", "rbac"), "e2e")).To(Succeed())
	for user, role := range map[string]string{
		"rita": "account-lifecycle-reporter", "carol": "account-lifecycle-approver",
		"alice": "account-lifecycle-approver", "bob": "account-lifecycle-approver",
		"desk": "account-lifecycle-relay",
	} {
		g.Expect(admin.Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "decides-" + user},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		})).To(Succeed())
	}
	operator, err := env.AddUser(envtest.User{Name: operatorUser,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + operatorNamespace}}, &rest.Config{QPS: 50, Burst: 100})
	g.Expect(err).NotTo(HaveOccurred())
	stop := startManager(g, operator.Config(), nil)
	t.Cleanup(func() { g.Expect(stop()).To(Succeed()) })
	return &decisionsCluster{admin: admin, as: func(user string) client.Client {
		c := rest.CopyConfig(cfg)
		c.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
		cl, err := client.New(c, client.Options{Scheme: controller.NewScheme()})
		g.Expect(err).NotTo(HaveOccurred())
		return cl
	}}
}

// change reads the account as user, changes it and writes it back,
// returning the API server's answer.
func (d *decisionsCluster) change(g Gomega, user, name string, edit func(*v1alpha1.CustomerAccount)) error {
	c := d.as(user)
	// The operator writes the account too (its finalizer): a conflict is
	// read again, never taken for an answer.
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		a := &v1alpha1.CustomerAccount{}
		g.Expect(c.Get(context.Background(), client.ObjectKey{Name: name}, a)).To(Succeed())
		edit(a)
		return c.Update(context.Background(), a)
	})
}

func refusedWith(g Gomega, err error, msg string) {
	g.ExpectWithOffset(1, apierrors.IsForbidden(err)).To(BeTrue(), "want a refusal, got %v", err)
	g.ExpectWithOffset(1, err.Error()).To(ContainSubstring(msg))
}

func (d *decisionsCluster) phase(g Gomega, name string, phase v1alpha1.AccountPhase) *v1alpha1.CustomerAccount {
	a := &v1alpha1.CustomerAccount{}
	g.EventuallyWithOffset(1, func(g Gomega) {
		g.Expect(d.admin.Get(context.Background(), client.ObjectKey{Name: name}, a)).To(Succeed())
		g.Expect(a.Status.ObservedGeneration).To(Equal(a.Generation))
		g.Expect(a.Status.Phase).To(Equal(phase))
	}, waitFor, pollEach).Should(Succeed())
	return a
}

func pendingReason(a *v1alpha1.CustomerAccount) (string, string) {
	c := meta.FindStatusCondition(a.Status.Conditions, v1alpha1.ConditionTerminationPending)
	if c == nil {
		return "", ""
	}
	return c.Reason, c.Message
}

func reported(id, by string, relayedBy string) v1alpha1.Incident {
	return v1alpha1.Incident{ID: id, Category: v1alpha1.CategoryAbuse, Severity: v1alpha1.SeverityCritical,
		OccurredAt: metav1.NewTime(time.Now().Add(-time.Hour)), ReportedBy: by, RelayedBy: relayedBy, Summary: "Abused the on-call engineer."}
}

func approve(by string) func(*v1alpha1.CustomerAccount) {
	return func(a *v1alpha1.CustomerAccount) {
		a.Spec.TerminationApprovals = append(a.Spec.TerminationApprovals, v1alpha1.Decision{By: by, At: metav1.Now(), Note: "Reviewed."})
	}
}

// Authentic names and decision rights, at the API server, and four eyes
// with two required approvals, end to end.
func TestDecisionsAreMadeByTheRightPeople(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	d := newDecisionsCluster(t, g)
	g.Expect(d.admin.Create(ctx, &v1alpha1.AccountPolicy{ObjectMeta: metav1.ObjectMeta{Name: "four-eyes"},
		Spec: v1alpha1.AccountPolicySpec{
			Thresholds: v1alpha1.Thresholds{Warned: 1, FinalNotice: 2, Terminated: 3}, NoticePeriod: &metav1.Duration{},
			Approvals: v1alpha1.Approvals{Required: ptr.To[int32](2)}, RecoveryPeriod: &metav1.Duration{},
		}})).To(Succeed())

	// Incidents in one's own name; another's only as a relay, saying so.
	acct := &v1alpha1.CustomerAccount{ObjectMeta: metav1.ObjectMeta{Name: "globex"},
		Spec: v1alpha1.CustomerAccountSpec{PolicyName: "four-eyes", Incidents: []v1alpha1.Incident{reported("shouted", "jane", "")}}}
	refusedWith(g, d.as("rita").Create(ctx, acct), "a new incident must be reported in your own name: its reportedBy must be rita")
	acct.Spec.Incidents[0].RelayedBy = "rita"
	refusedWith(g, d.as("rita").Create(ctx, acct.DeepCopy()), "you need the report-on-behalf permission on customeraccounts")
	acct.Spec.Incidents[0].RelayedBy = "desk"
	g.Expect(d.as("desk").Create(ctx, acct.DeepCopy())).To(Succeed(), "a relay records jane's incident")
	g.Expect(d.change(g, "rita", "globex", func(a *v1alpha1.CustomerAccount) {
		a.Spec.Incidents = append(a.Spec.Incidents, reported("unpaid", "rita", ""))
	})).To(Succeed())
	g.Expect(d.change(g, "carol", "globex", func(a *v1alpha1.CustomerAccount) {
		a.Spec.Incidents = append(a.Spec.Incidents, reported("threats", "carol", ""))
	})).To(Succeed())
	a := d.phase(g, "globex", v1alpha1.PhaseFinalNotice)
	reason, _ := pendingReason(a)
	g.Expect(reason).To(Equal(v1alpha1.ReasonAwaitingApproval))

	// Who may approve, and in whose name.
	refusedWith(g, d.change(g, "rita", "globex", approve("rita")), "approving a termination needs the approve permission on customeraccounts, which rita does not have")
	refusedWith(g, d.change(g, "alice", "globex", approve("bob")), "a termination approval must be signed by its author: its by must be alice")
	refusedWith(g, d.change(g, "carol", "globex", approve("carol")), "carol reported incident(s) threats of this account and cannot also approve its termination")

	// One approval of two required does not terminate, and a second by the
	// same person (it replaces the first) does not either.
	g.Expect(d.change(g, "alice", "globex", approve("alice"))).To(Succeed())
	g.Eventually(func(g Gomega) {
		_, msg := pendingReason(d.phase(g, "globex", v1alpha1.PhaseFinalNotice))
		g.Expect(msg).To(ContainSubstring("1 of 2 termination approval(s) count"))
	}, waitFor, pollEach).Should(Succeed())
	// (A second later: status times are whole seconds.)
	g.Expect(d.change(g, "alice", "globex", func(a *v1alpha1.CustomerAccount) {
		a.Spec.TerminationApprovals[0].At = metav1.NewTime(a.Spec.TerminationApprovals[0].At.Add(time.Second))
	})).To(Succeed())
	g.Consistently(func(g Gomega) {
		d.phase(g, "globex", v1alpha1.PhaseFinalNotice)
	}, 2*time.Second, pollEach).Should(Succeed())
	_, msg := pendingReason(d.phase(g, "globex", v1alpha1.PhaseFinalNotice))
	g.Expect(msg).To(ContainSubstring("1 of 2 termination approval(s) count"))

	// A second person: terminated.
	g.Expect(d.change(g, "bob", "globex", approve("bob"))).To(Succeed())
	a = d.phase(g, "globex", v1alpha1.PhaseTerminated)
	g.Expect(a.Status.History[0].Message).To(And(ContainSubstring("alice approved termination"), ContainSubstring("bob approved termination")))

	// Reinstating needs its own permission, in one's own name. (Dated a
	// second after the termination, which it must follow.)
	reinstate := func(by string) func(*v1alpha1.CustomerAccount) {
		return func(a *v1alpha1.CustomerAccount) {
			a.Spec.Reinstatement = v1alpha1.Reinstatement{By: by, At: metav1.NewTime(a.Status.PhaseSince.Add(time.Second)), Reason: "Settled."}
		}
	}
	refusedWith(g, d.change(g, "rita", "globex", reinstate("rita")), "reinstating an account needs the reinstate permission on customeraccounts, which rita does not have")
	refusedWith(g, d.change(g, "alice", "globex", reinstate("bob")), "a reinstatement must be signed by its author: its by must be alice")
	g.Expect(d.change(g, "alice", "globex", reinstate("alice"))).To(Succeed())
	d.phase(g, "globex", v1alpha1.PhaseGood)
}

// An undecided appeal holds termination back after the notice period and
// the approvals; upheld, termination proceeds; overturned, the incident
// stops counting and the account steps down. Only a decider with
// decide-appeals, in their own name, decides.
func TestAppealsAreHeardBeforeTermination(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	d := newDecisionsCluster(t, g)
	g.Expect(d.admin.Create(ctx, &v1alpha1.AccountPolicy{ObjectMeta: metav1.ObjectMeta{Name: "appeals"},
		Spec: v1alpha1.AccountPolicySpec{
			Thresholds: v1alpha1.Thresholds{Warned: 1, FinalNotice: 4, Terminated: 6}, NoticePeriod: &metav1.Duration{},
			RecoveryPeriod: &metav1.Duration{},
		}})).To(Succeed())
	for _, name := range []string{"upheld", "overturned"} {
		g.Expect(d.as("rita").Create(ctx, &v1alpha1.CustomerAccount{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: v1alpha1.CustomerAccountSpec{PolicyName: "appeals", Incidents: []v1alpha1.Incident{
				reported("shouted", "rita", ""), reported("threats", "rita", ""),
			}}})).To(Succeed())
		appeal := func(by string) func(*v1alpha1.CustomerAccount) {
			return func(a *v1alpha1.CustomerAccount) {
				a.Spec.Incidents[1].Appeal = &v1alpha1.Appeal{By: by, At: metav1.Now(), Statement: "We never threatened anyone."}
			}
		}
		refusedWith(g, d.change(g, "rita", name, appeal("customer@"+name+".example")), "an appeal must be filed in your own name (by: rita)")
		g.Expect(d.change(g, "desk", name, appeal("customer@"+name+".example"))).To(Succeed(), "the control plane relays the customer's appeal")
		g.Expect(d.change(g, "alice", name, approve("alice"))).To(Succeed())
		g.Eventually(func(g Gomega) {
			reason, msg := pendingReason(d.phase(g, name, v1alpha1.PhaseFinalNotice))
			g.Expect(reason).To(Equal(v1alpha1.ReasonAppealPending), msg)
			g.Expect(msg).To(ContainSubstring("appealed incident threats"))
		}, waitFor, pollEach).Should(Succeed())
	}

	decide := func(outcome v1alpha1.AppealOutcome, by string) func(*v1alpha1.CustomerAccount) {
		return func(a *v1alpha1.CustomerAccount) {
			a.Spec.Incidents[1].Appeal.Decision = v1alpha1.AppealDecision{Outcome: outcome, By: by, At: metav1.Now(), Reason: "Heard both sides."}
		}
	}
	refusedWith(g, d.change(g, "desk", "upheld", decide(v1alpha1.AppealUpheld, "desk")), "deciding an appeal needs the decide-appeals permission on customeraccounts, which desk does not have")
	refusedWith(g, d.change(g, "alice", "upheld", decide(v1alpha1.AppealUpheld, "bob")), "an appeal decision must be signed by its author: its by must be alice")
	g.Expect(d.change(g, "bob", "upheld", decide(v1alpha1.AppealUpheld, "bob"))).To(Succeed())
	d.phase(g, "upheld", v1alpha1.PhaseTerminated)

	g.Expect(d.change(g, "bob", "overturned", decide(v1alpha1.AppealOverturned, "bob"))).To(Succeed())
	a := d.phase(g, "overturned", v1alpha1.PhaseWarned)
	g.Expect(a.Status.Score).To(HaveValue(Equal(int32(3))), "the overturned incident no longer counts")
}
