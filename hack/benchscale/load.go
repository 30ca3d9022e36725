package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// Policies: "bench" warns at 10 points and gives final notice at 21, so 20
// one-point incidents warn and one more gives final notice; nothing is
// terminated. "bench-terminate" terminates at once on one critical
// non-payment incident (no notice, no approval), with every action.
func policies() []*v1alpha1.AccountPolicy {
	return []*v1alpha1.AccountPolicy{{
		ObjectMeta: metav1.ObjectMeta{Name: "bench"},
		Spec: v1alpha1.AccountPolicySpec{
			Window:     &metav1.Duration{Duration: 2160 * time.Hour},
			Thresholds: v1alpha1.Thresholds{Warned: 10, FinalNotice: 21, Terminated: 1000},
		},
	}, {
		ObjectMeta: metav1.ObjectMeta{Name: "bench-terminate"},
		Spec: v1alpha1.AccountPolicySpec{
			Thresholds:   v1alpha1.Thresholds{Warned: 1, FinalNotice: 2, Terminated: 3},
			NoticePeriod: &metav1.Duration{},
			Approvals:    v1alpha1.Approvals{Required: ptr.To[int32](0)},
			Enforcement: v1alpha1.Enforcement{Terminated: []v1alpha1.EnforcementAction{
				v1alpha1.ActionFreezeChanges, v1alpha1.ActionRevokeAccess, v1alpha1.ActionScaleToZero,
				v1alpha1.ActionIsolateNetwork, v1alpha1.ActionBlockNewWorkloads,
			}},
		},
	}}
}

func incident(id string, at time.Time, points int32) v1alpha1.Incident {
	return v1alpha1.Incident{
		ID: id, Category: v1alpha1.CategoryPoorFit, Severity: v1alpha1.SeverityMinor,
		OccurredAt: metav1.NewTime(at), ReportedBy: "bench", Summary: "A ticket the bench made up.",
		Points: ptr.To(points),
	}
}

func account(name, policy string, incidents int, at time.Time) *v1alpha1.CustomerAccount {
	a := &v1alpha1.CustomerAccount{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.CustomerAccountSpec{PolicyName: policy}}
	for i := range incidents {
		a.Spec.Incidents = append(a.Spec.Incidents, incident(fmt.Sprintf("ticket-%02d", i), at, 1))
	}
	return a
}

// tenant is a namespace of account with five objects: a Deployment, a
// StatefulSet, a ConfigMap and two RoleBindings.
func tenant(account string) []client.Object {
	ns := "ns-" + account
	labels := map[string]string{"app": "web"}
	pod := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
	}
	binding := func(name, role string) *rbacv1.RoleBinding {
		return &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: account + "-" + name}},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		}
	}
	return []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{v1alpha1.LabelAccount: account}}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}, Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: pod}},
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns}, Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: pod}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: ns}, Data: map[string]string{"tier": "gold"}},
		binding("developers", "edit"),
		binding("owners", "admin"),
	}
}

// parallel runs fn for 0..n-1 on conc goroutines and returns the first error.
func parallel(n, conc int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for range conc {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// state is what the bench watches of an account.
type state struct {
	phase                v1alpha1.AccountPhase
	restricted, observed int32
}

// watcher follows every account through one watch and notes when each
// first meets the current aim.
type watcher struct {
	mu    sync.Mutex
	state map[string]state
	aim   func(state) bool
	hit   map[string]time.Time
	wake  chan struct{}
}

func newWatcher() *watcher {
	return &watcher{state: map[string]state{}, hit: map[string]time.Time{}, wake: make(chan struct{}, 1)}
}

func (w *watcher) run(ctx context.Context, c client.WithWatch) {
	for ctx.Err() == nil {
		var list v1alpha1.CustomerAccountList
		if err := c.List(ctx, &list); err != nil {
			time.Sleep(time.Second)
			continue
		}
		for i := range list.Items {
			w.see(&list.Items[i])
		}
		wi, err := c.Watch(ctx, &v1alpha1.CustomerAccountList{}, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
		if err != nil {
			continue
		}
		for ev := range wi.ResultChan() {
			if ev.Type == watch.Error {
				break
			}
			if a, ok := ev.Object.(*v1alpha1.CustomerAccount); ok && ev.Type != watch.Deleted {
				w.see(a)
			}
		}
		wi.Stop()
	}
}

func (w *watcher) see(a *v1alpha1.CustomerAccount) {
	s := state{phase: a.Status.Phase}
	if sum := a.Status.NamespaceSummary; sum != nil {
		s.restricted = ptr.Deref(sum.Restricted, 0)
	}
	if a.Status.ObservedGeneration == a.Generation {
		s.observed = 1
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.state[a.Name] = s
	if _, done := w.hit[a.Name]; !done && w.aim != nil && w.aim(s) {
		w.hit[a.Name] = time.Now()
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// aimAt forgets earlier hits and counts from now the accounts meeting aim.
func (w *watcher) aimAt(aim func(state) bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.aim, w.hit = aim, map[string]time.Time{}
	now := time.Now()
	for name, s := range w.state {
		if aim(s) {
			w.hit[name] = now
		}
	}
}

// wait returns when every name has met the aim, with the times they did.
func (w *watcher) wait(ctx context.Context, names []string, timeout time.Duration) (map[string]time.Time, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		missing := 0
		for _, n := range names {
			if _, ok := w.hit[n]; !ok {
				missing++
			}
		}
		out := make(map[string]time.Time, len(w.hit))
		for k, v := range w.hit {
			out[k] = v
		}
		w.mu.Unlock()
		if missing == 0 {
			return out, nil
		}
		select {
		case <-w.wake:
		case <-time.After(time.Second):
		case <-deadline.C:
			return out, fmt.Errorf("%d of %d accounts did not get there within %s", missing, len(names), timeout)
		case <-ctx.Done():
			return out, ctx.Err()
		}
	}
}

// percentile of the durations (p in 0..100), nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p/100*float64(len(s))+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return s[i]
}
