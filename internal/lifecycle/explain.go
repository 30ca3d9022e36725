package lifecycle

import (
	"fmt"
	"strings"
	"time"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// Messages say why, what next and when. They carry no policy text: the
// reconciler adds the policy's courteous messages.

func escalatedTransition(f *facts, from, to rank) *Transition {
	var b strings.Builder
	fmt.Fprintf(&b, "Score %d reaches the %s threshold (%d)", f.score, f.level.phase(), f.rules.th[f.level])
	if f.level > to {
		b.WriteString(", but termination always follows a full notice period")
	}
	fmt.Fprintf(&b, "; the account moves from %s to %s.", from.phase(), to.phase())
	writeWhatNext(&b, f, to)
	return &Transition{From: from.phase(), To: to.phase(), Reason: v1alpha1.ReasonEscalated, Message: b.String()}
}

// writeWhatNext tells what follows after entering phase `to` now.
func writeWhatNext(b *strings.Builder, f *facts, to rank) {
	switch to {
	case warned:
		fmt.Fprintf(b, " FinalNotice follows if the score reaches %d.", f.rules.th[finalNotice])
	case finalNotice:
		fmt.Fprintf(b, " Termination is possible from %s if the score still reaches %d", fmtTime(f.now.Add(f.rules.notice)), f.rules.th[terminated])
		switch n := f.rules.approvals; {
		case n == 1:
			fmt.Fprintf(b, " and a termination approval dated on or after %s is recorded", fmtTime(f.now))
		case n > 1:
			fmt.Fprintf(b, " and %d termination approvals by different people, dated on or after %s, are recorded", n, fmtTime(f.now))
		}
		b.WriteString(".")
	}
}

func terminatedTransition(f *facts, account *v1alpha1.CustomerAccount, st state) *Transition {
	var b strings.Builder
	fmt.Fprintf(&b, "Score %d still reaches the termination threshold (%d) and the %s notice period that began %s has ended",
		f.score, f.rules.th[terminated], fmtDuration(f.rules.notice), fmtTime(st.since))
	if who := approvedBy(f, account, st); who != "" {
		fmt.Fprintf(&b, "; %s", who)
	}
	b.WriteString(", so the account is Terminated. It stays Terminated until a reinstatement is recorded.")
	return &Transition{From: v1alpha1.PhaseFinalNotice, To: v1alpha1.PhaseTerminated, Reason: v1alpha1.ReasonTerminated, Message: b.String()}
}

func recoveredTransition(f *facts, from, to rank) *Transition {
	var b strings.Builder
	k := to + 1
	fmt.Fprintf(&b, "Score %d is below the %s threshold (%d)", f.score, k.phase(), f.rules.th[k])
	if f.rules.recovery > 0 && f.dropped[k] {
		fmt.Fprintf(&b, " and has been since %s, at least the %s recovery period", fmtTime(f.dropAt[k]), fmtDuration(f.rules.recovery))
	}
	fmt.Fprintf(&b, "; the account steps down from %s to %s.", from.phase(), to.phase())
	if to > good {
		fmt.Fprintf(&b, " It steps down further once the score stays below %d", f.rules.th[to])
		if f.rules.recovery > 0 {
			fmt.Fprintf(&b, " for %s", fmtDuration(f.rules.recovery))
		}
		b.WriteString(".")
	}
	return &Transition{From: from.phase(), To: to.phase(), Reason: v1alpha1.ReasonRecovered, Message: b.String()}
}

func reinstatedTransition(f *facts, account *v1alpha1.CustomerAccount, to rank) *Transition {
	r := account.Spec.Reinstatement
	var b strings.Builder
	fmt.Fprintf(&b, "Reinstated by %s at %s (%s); incidents that occurred before then no longer count.", r.By, fmtTime(r.At.Time), r.Reason)
	switch {
	case to > good:
		fmt.Fprintf(&b, " Incidents since then score %d, reaching the %s threshold (%d), so the account enters %s directly.",
			f.score, f.level.phase(), f.rules.th[f.level], to.phase())
		writeWhatNext(&b, f, to)
	case f.level > good:
		h := account.Spec.Hold
		fmt.Fprintf(&b, " Incidents since then score %d, reaching the %s threshold (%d), but a hold by %s keeps the account Good until %s.",
			f.score, f.level.phase(), f.rules.th[f.level], h.By, fmtTime(h.Until.Time))
	default:
		fmt.Fprintf(&b, " The account is Good; it is Warned again if the score reaches %d.", f.rules.th[warned])
	}
	return &Transition{From: v1alpha1.PhaseTerminated, To: to.phase(), Reason: v1alpha1.ReasonReinstated, Message: b.String()}
}

// explain says why the account is in state st and when that can change.
func explain(f *facts, account *v1alpha1.CustomerAccount, st state, next moment) string {
	var b strings.Builder
	switch {
	case st.phase == terminated:
		fmt.Fprintf(&b, "Terminated since %s; score %d.", fmtTime(st.since), f.score)
		if ra := reinstatedAt(account); ra != nil && st.since.Before(*ra) {
			fmt.Fprintf(&b, " A reinstatement dated %s lifts it then.", fmtTime(*ra))
		} else {
			b.WriteString(" It stays Terminated until a reinstatement is recorded.")
		}
	case st.phase == finalNotice && f.level == terminated:
		fmt.Fprintf(&b, "In FinalNotice since %s; score %d reaches the termination threshold (%d)", fmtTime(st.since), f.score, f.rules.th[terminated])
		if failing := failingGates(gateInput{f, account, st}); len(failing) > 0 {
			for i, g := range failing {
				b.WriteString([]string{", but ", "; also "}[min(i, 1)])
				b.WriteString(g.message)
			}
			b.WriteString(".")
		} else {
			b.WriteString("; termination is due now.")
		}
	case f.level > st.phase:
		h := account.Spec.Hold
		fmt.Fprintf(&b, "Score %d reaches the %s threshold (%d), but a hold by %s pauses escalation until %s; the account stays %s.",
			f.score, f.level.phase(), f.rules.th[f.level], h.By, fmtTime(h.Until.Time), st.phase.phase())
	case f.level < st.phase:
		fmt.Fprintf(&b, "Score %d is below the %s threshold (%d); the account steps down once the score has stayed below it for the %s recovery period.",
			f.score, st.phase.phase(), f.rules.th[st.phase], fmtDuration(f.rules.recovery))
	case f.level == good:
		fmt.Fprintf(&b, "Score %d is below the Warned threshold (%d); the account is Good.", f.score, f.rules.th[warned])
	default:
		fmt.Fprintf(&b, "Score %d reaches the %s threshold (%d); the account is %s since %s.",
			f.score, f.level.phase(), f.rules.th[f.level], st.phase.phase(), fmtTime(st.since))
	}
	switch {
	case next.at.IsZero():
		b.WriteString(" Nothing changes unless the account or policy is edited.")
	case next.at.Equal(f.now):
		b.WriteString(" Evaluate again now: another transition is due at once.")
	default:
		fmt.Fprintf(&b, " Next evaluation at %s, when %s.", fmtTime(next.at), next.why)
	}
	return b.String()
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// fmtDuration writes whole days as days, the rest as Go durations.
func fmtDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == 0:
		return "0s"
	case d%day == 0 && d/day == 1:
		return "1-day"
	case d%day == 0:
		return fmt.Sprintf("%d-day", d/day)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
