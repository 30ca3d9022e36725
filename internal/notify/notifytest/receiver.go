// Package notifytest is a webhook receiver for tests: an HTTPS server on
// loopback that records what it is sent, per path, and answers as told.
package notifytest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/accountops/account-lifecycle-operator/internal/notify"
)

// Request is one delivery the receiver got.
type Request struct {
	Header   http.Header
	Body     []byte
	Event    notify.Event
	Received time.Time
}

// Receiver records deliveries per URL path. Its Client trusts its
// certificate.
type Receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests map[string][]Request
	answers  map[string]func(req *http.Request, attempt int) int
}

// NewReceiver starts a receiver; Close it when done.
func NewReceiver() *Receiver {
	r := &Receiver{requests: map[string][]Request{}, answers: map[string]func(*http.Request, int) int{}}
	r.Server = httptest.NewTLSServer(http.HandlerFunc(r.serve))
	return r
}

// URL is the https URL of a path on the receiver.
func (r *Receiver) URL(path string) string {
	return r.Server.URL + "/" + path
}

// Answer sets the status code the path answers, given the 1-based number
// of the delivery; 200 when unset.
func (r *Receiver) Answer(path string, code func(attempt int) int) {
	r.Handle(path, func(_ *http.Request, attempt int) int { return code(attempt) })
}

// Handle is Answer with the request at hand, e.g. to hang until it is
// cancelled.
func (r *Receiver) Handle(path string, code func(req *http.Request, attempt int) int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers[path] = code
}

// Requests returns what the path received, in order.
func (r *Receiver) Requests(path string) []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests[path]...)
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	got := Request{Header: req.Header.Clone(), Body: body, Received: time.Now()}
	_ = json.Unmarshal(body, &got.Event)
	path := req.URL.Path[1:]
	r.mu.Lock()
	r.requests[path] = append(r.requests[path], got)
	n := len(r.requests[path])
	answer := r.answers[path]
	r.mu.Unlock()
	code := http.StatusOK
	if answer != nil {
		code = answer(req, n)
	}
	w.WriteHeader(code)
}

// Verify checks a delivery's signature the way a receiver would, with the
// Standard Webhooks library (an implementation that is not ours): under
// the secret key, with its five-minute replay tolerance.
func Verify(key []byte, r Request) error {
	wh, err := standardwebhooks.NewWebhookRaw(key)
	if err != nil {
		return err
	}
	return wh.Verify(r.Body, r.Header)
}
