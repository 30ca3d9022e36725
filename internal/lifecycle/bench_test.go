package lifecycle

import (
	"fmt"
	"testing"
	"time"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// benchAccount is a FinalNotice account with n incidents spread over 120
// days (every 10th vendor-caused, every 7th waived, mixed categories and
// severities). At now, day 125, nothing new has occurred for 5 days and the
// score has just fallen below FinalNotice as old incidents expire, so the
// recovery period (10 days) is running and the whole history sweep matters.
func benchAccount(n int) (*v1alpha1.CustomerAccount, *v1alpha1.AccountPolicy, time.Time) {
	sevs := []v1alpha1.Severity{v1alpha1.SeverityMinor, v1alpha1.SeverityMajor, v1alpha1.SeverityMinor, v1alpha1.SeverityCritical}
	var incs []v1alpha1.Incident
	for i := range n {
		when := t0.Add(time.Duration(i) * 120 * day / time.Duration(n))
		x := inc(fmt.Sprintf("i%d", i), when,
			cat(v1alpha1.Categories[i%len(v1alpha1.Categories)]), sev(sevs[i%len(sevs)]))
		if i%10 == 3 {
			vendor(&x)
		}
		if i%7 == 5 {
			waived(when.Add(2 * day))(&x)
		}
		incs = append(incs, x)
	}
	account, now := acct(v1alpha1.PhaseFinalNotice, at(40*day), incidents(incs...)), at(125*day)
	policy := pol(recovery(10*day), func(s *v1alpha1.AccountPolicySpec) { s.CategoryWeights.Abuse = i32(2) })
	score := Evaluate(account, policy, now).Score
	policy.Spec.Thresholds = v1alpha1.Thresholds{Warned: score / 2, FinalNotice: score + 1, Terminated: score * 2}
	return account, policy, now
}

func TestBenchAccountExercisesRecovery(t *testing.T) {
	for _, n := range []int{50, 500} {
		a, p, now := benchAccount(n)
		d := Evaluate(a, p, now)
		if d.Phase != v1alpha1.PhaseFinalNotice || d.Level != v1alpha1.PhaseWarned || d.Transition != nil || d.NextEvaluation == nil {
			t.Errorf("n=%d: %s level %s score %d next %v: want FinalNotice pending recovery at Warned level; %s", n, d.Phase, d.Level, d.Score, d.NextEvaluation, d.Explanation)
		}
	}
}

func benchmarkEvaluate(b *testing.B, n int) {
	a, p, now := benchAccount(n)
	b.ReportAllocs()
	for b.Loop() {
		_ = Evaluate(a, p, now)
	}
}

func BenchmarkEvaluate50(b *testing.B)  { benchmarkEvaluate(b, 50) }
func BenchmarkEvaluate500(b *testing.B) { benchmarkEvaluate(b, 500) }
