package controller_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/testenv"
)

// Issue Trust, item 17: a hanging webhook holds back neither enforcement
// nor any other account. Six accounts deliver to an endpoint that never
// answers; while none of those requests has come back, an account under
// another policy is evaluated and its own webhook gets its event, and the
// hanging endpoint never holds more than its share of delivery workers.
func TestHangingWebhookStallsNothingElse(t *testing.T) {
	testenv.Require(t)
	t.Parallel()
	g := NewWithT(t)
	var inFlight, maxInFlight, returned atomic.Int64
	release := make(chan struct{})
	hanging, hangPath := webhookPolicy(t, g, "")
	hooks.Handle(hangPath, func(req *http.Request, _ int) int {
		n := inFlight.Add(1)
		for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
		}
		defer func() { inFlight.Add(-1); returned.Add(1) }()
		select {
		case <-release:
		case <-req.Context().Done():
		}
		return http.StatusServiceUnavailable
	})
	t.Cleanup(func() { close(release) })

	start := time.Now()
	var stuck []string
	for range 6 {
		a := createAccount(t, g, hanging.Name)
		stuck = append(stuck, a.Name)
		addIncident(g, a.Name, abuse("shouted", start))
	}
	for _, name := range stuck {
		waitPhase(g, name, v1alpha1.PhaseWarned)
	}
	g.Eventually(inFlight.Load, waitFor, pollEach).Should(BeNumerically(">", 0), "deliveries to the hanging endpoint started")

	healthy, okPath := webhookPolicy(t, g, "")
	other := createAccount(t, g, healthy.Name)
	addIncident(g, other.Name, abuse("shouted", start))
	g.Eventually(func() int { return len(hooks.Requests(okPath)) }, waitFor, pollEach).Should(Equal(1))
	waitPhase(g, other.Name, v1alpha1.PhaseWarned)
	g.Expect(returned.Load()).To(BeZero(), "the other account waited for a hanging request to time out")
	g.Expect(maxInFlight.Load()).To(BeNumerically("<=", 2), "one endpoint held more than its share of delivery workers")
}
