// Package notify delivers account transitions: the outbox (outbox.go)
// delivers the Pending entries of an account's status.history to each Sink,
// and the one sink so far posts them to a policy's webhook as CloudEvents
// 1.0 (structured JSON mode) over HTTPS, signed with HMAC-SHA256.
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
	"github.com/accountops/account-lifecycle-operator/internal/lifecycle"
)

// The wire format.
const (
	// ContentType is the structured-mode CloudEvents media type.
	ContentType = "application/cloudevents+json"
	// EventType is the CloudEvent type of a phase transition.
	EventType = "dev.lifecycle.accounts.transition"
	// The Standard Webhooks headers (https://www.standardwebhooks.com), so
	// receivers can verify with its libraries and reject replays:
	// EventIDHeader repeats the CloudEvent id (the same on every retry),
	// TimestampHeader is when this attempt was sent (Unix seconds), and
	// SignatureHeader is "v1,<base64 HMAC-SHA256 of id.timestamp.body>".
	EventIDHeader   = "webhook-id"
	TimestampHeader = "webhook-timestamp"
	SignatureHeader = "webhook-signature"
	// SecretKey is the data key of the signing Secret holding the HMAC key.
	SecretKey = "hmacKey"
	// Timeout bounds one delivery attempt.
	Timeout = 10 * time.Second
	// SourcePrefix + account name is the CloudEvent source: an absolute
	// URI that names the account, and no API version, so it stays the same
	// across versions of the API.
	SourcePrefix = "urn:accounts.lifecycle.dev:customeraccounts:"
	// maxResponseBody is how much of a response is read (and then dropped).
	maxResponseBody = 64 << 10
	// maxErrorBody is how much of a non-2xx response is quoted in the error.
	maxErrorBody = 200
)

// Event is a CloudEvent 1.0 in structured JSON mode.
type Event struct {
	SpecVersion     string `json:"specversion"`
	ID              string `json:"id"`
	Source          string `json:"source"`
	Type            string `json:"type"`
	Subject         string `json:"subject"`
	Time            string `json:"time"`
	DataContentType string `json:"datacontenttype"`
	Data            Data   `json:"data"`
}

// Data is the payload of a transition event.
type Data struct {
	Account     string                `json:"account"`
	DisplayName string                `json:"displayName,omitempty"`
	From        v1alpha1.AccountPhase `json:"from,omitempty"`
	To          v1alpha1.AccountPhase `json:"to"`
	Score       int32                 `json:"score"`
	Reason      string                `json:"reason"`
	Message     string                `json:"message,omitempty"`
	// Courtesy is the policy's message for the phase entered (reinstated
	// when Terminated → Good).
	Courtesy string `json:"courtesy,omitempty"`
	// Referral is the policy's terminated message, on termination only.
	Referral       string                    `json:"referral,omitempty"`
	PrimaryConcern v1alpha1.IncidentCategory `json:"primaryConcern,omitempty"`
	Policy         string                    `json:"policy"`
	Contacts       []v1alpha1.Contact        `json:"contacts"`
	// Statement is the statement of reasons the customer is owed: the
	// incidents that count, the thresholds, what happens next and when,
	// how to appeal and, on termination, the referral.
	Statement lifecycle.Statement `json:"statement"`
}

// StatusError is a delivery the endpoint answered with a non-2xx status.
type StatusError struct {
	Code int
	Body string
	// After is the wait the endpoint asked for (Retry-After), if any.
	After time.Duration
}

// RetryAfter is the wait the endpoint asked for (0: none); the outbox
// waits at least that long before the next attempt.
func (e *StatusError) RetryAfter() time.Duration { return e.After }

// Permanent says the endpoint is gone for good (410 Gone): the outbox stops.
func (e *StatusError) Permanent() bool { return e.Code == http.StatusGone }

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("webhook answered HTTP %d %s", e.Code, http.StatusText(e.Code))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Notifier posts transition events to webhooks: the webhook Sink.
type Notifier struct {
	Deps
	// Now is when an attempt is sent (webhook-timestamp); nil is the real
	// clock.
	Now func() time.Time

	// transports holds one transport per caBundle (by its sha256), so
	// deliveries to a receiver with its own CA reuse their connections
	// instead of a TLS handshake per attempt.
	transports sync.Map
}

func (n *Notifier) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

// Name is the webhook sink's name in status.
func (n *Notifier) Name() v1alpha1.NotificationSink { return v1alpha1.SinkWebhook }

// Endpoint is the policy's webhook URL ("" without one).
func (n *Notifier) Endpoint(policy *v1alpha1.AccountPolicy) string {
	return policy.Spec.Notifications.Webhook.URL
}

// EventID is the deterministic CloudEvent id of a history entry: every
// retry of the same transition carries it, so receivers can dedupe.
func EventID(uid types.UID, entry v1alpha1.Transition) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{
		string(uid), entry.At.UTC().Format(time.RFC3339), string(entry.From), string(entry.To),
	}, "\n")))
	return hex.EncodeToString(sum[:])[:32]
}

// NewEvent builds the CloudEvent for a history entry. The id is the one
// recorded on the entry, or EventID when none is.
func NewEvent(account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, entry v1alpha1.Transition) Event {
	id := EventID(account.UID, entry)
	if len(entry.Notifications) > 0 && entry.Notifications[0].ID != "" {
		// Every sink's entry carries the same id (MarkPending).
		id = entry.Notifications[0].ID
	}
	data := Data{
		Account:        account.Name,
		DisplayName:    account.Spec.DisplayName,
		From:           entry.From,
		To:             entry.To,
		Score:          ptr.Deref(entry.Score, 0),
		Reason:         entry.Reason,
		Message:        entry.Message,
		Courtesy:       policy.Spec.Messages.For(entry.From, entry.To),
		PrimaryConcern: account.Status.PrimaryConcern,
		Policy:         policy.Name,
		Contacts:       append([]v1alpha1.Contact{}, account.Spec.Contacts...),
		Statement:      lifecycle.StatementFor(account, policy, entry),
	}
	if entry.To == v1alpha1.PhaseTerminated {
		data.Referral = policy.Spec.Messages.Terminated
	}
	return Event{
		SpecVersion:     "1.0",
		ID:              id,
		Source:          SourcePrefix + account.Name,
		Type:            EventType,
		Subject:         account.Name,
		Time:            entry.At.UTC().Format(time.RFC3339),
		DataContentType: "application/json",
		Data:            data,
	}
}

// Sign is the Standard Webhooks signature of a message: "v1," and the
// base64 HMAC-SHA256, under key, of "id.timestamp.body". A receiver
// configured with the secret "whsec_" + base64(key) verifies it with any
// Standard Webhooks library, which also rejects a timestamp more than five
// minutes off: a captured request cannot be replayed later.
func Sign(key []byte, id string, at time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(at.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Deliver posts the entry's CloudEvent to the policy's webhook once. Any
// error (no webhook, non-https URL, missing signing key, transport error,
// non-2xx answer) means the event was not delivered and may be retried with
// the same id.
func (n *Notifier) Deliver(ctx context.Context, account *v1alpha1.CustomerAccount, policy *v1alpha1.AccountPolicy, entry v1alpha1.Transition) error {
	hook := &policy.Spec.Notifications.Webhook
	if !hook.IsDefined() {
		return errors.New("the policy has no webhook")
	}
	u, err := url.Parse(hook.URL)
	allowed := err == nil && u.Host != "" &&
		(u.Scheme == "https" || u.Scheme == "http" && hook.InClusterHTTP == v1alpha1.InClusterHTTPAllow && InCluster(u.Hostname()))
	if !allowed {
		return fmt.Errorf("refusing webhook url %q: only absolute https:// URLs are allowed, or http:// to a Service in the cluster (NAME.NAMESPACE.svc) with inClusterHTTP: Allow", hook.URL)
	}
	httpc, err := n.client(hook.CABundle)
	if err != nil {
		return err
	}
	var key []byte
	if hook.SecretRef != nil {
		if key, err = n.signingKey(ctx, hook.SecretRef.Name); err != nil {
			return err
		}
	}
	event := NewEvent(account, policy, entry)
	body, err := json.Marshal(event)
	if err != nil {
		return fmt.Errorf("encoding event: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set(EventIDHeader, event.ID)
	sent := n.now()
	req.Header.Set(TimestampHeader, strconv.FormatInt(sent.Unix(), 10))
	if key != nil {
		req.Header.Set(SignatureHeader, Sign(key, event.ID, sent, body))
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return fmt.Errorf("posting to webhook: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{Code: resp.StatusCode, Body: strings.TrimSpace(strings.ToValidUTF8(string(head), "")),
			After: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
	}
	return nil
}

// maxRetryAfter bounds the wait an endpoint may ask for.
const maxRetryAfter = 24 * time.Hour

// retryAfter reads a Retry-After header (RFC 9110: delay-seconds or an
// HTTP-date); anything unreadable is no request.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		d = time.Duration(min(max(secs, 0), int64(maxRetryAfter/time.Second))) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = at.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// InCluster says a host names a Service in the cluster.
func InCluster(host string) bool {
	return strings.HasSuffix(host, ".svc") || strings.HasSuffix(host, ".svc.cluster.local")
}

// client is the configured client, made not to follow redirects (a webhook
// answers for itself, and a redirect could lead off https), trusting only
// caBundle's authorities when one is given.
func (n *Notifier) client(caBundle []byte) (*http.Client, error) {
	c := &http.Client{Timeout: Timeout}
	if n.HTTP != nil {
		cp := *n.HTTP
		c = &cp
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if len(caBundle) == 0 {
		return c, nil
	}
	key := sha256.Sum256(caBundle)
	if t, ok := n.transports.Load(key); ok {
		c.Transport = t.(*http.Transport)
		return c, nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caBundle) {
		return nil, errors.New("the webhook's caBundle holds no PEM certificate")
	}
	base, _ := c.Transport.(*http.Transport)
	if base == nil {
		base = http.DefaultTransport.(*http.Transport)
	}
	t := base.Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	actual, _ := n.transports.LoadOrStore(key, t)
	c.Transport = actual.(*http.Transport)
	return c, nil
}

func (n *Notifier) signingKey(ctx context.Context, name string) ([]byte, error) {
	if n.Secrets == nil {
		return nil, fmt.Errorf("cannot read signing Secret %s/%s: no Secret reader configured", n.Namespace, name)
	}
	s := &corev1.Secret{}
	if err := n.Secrets.Get(ctx, client.ObjectKey{Namespace: n.Namespace, Name: name}, s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("signing Secret %s/%s not found: create it with data key %q", n.Namespace, name, SecretKey)
		}
		return nil, fmt.Errorf("reading signing Secret %s/%s: %w", n.Namespace, name, err)
	}
	key := s.Data[SecretKey]
	if len(key) == 0 {
		return nil, fmt.Errorf("signing Secret %s/%s has no (or an empty) data key %q", n.Namespace, name, SecretKey)
	}
	return key, nil
}
