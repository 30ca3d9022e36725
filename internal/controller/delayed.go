package controller

import (
	"context"
	"time"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// countsDelay gathers the account changes of a wave into one recount of
// their policy: a request already waiting is not added again, so a policy
// is recounted (and its status written) at most once per countsDelay
// however many of its accounts change meanwhile.
const countsDelay = 2 * time.Second

// delayed enqueues what inner would, after a delay.
type delayed struct {
	inner handler.EventHandler
	after time.Duration
}

type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

// delayedQueue turns every Add into an AddAfter. It hides the priority
// queue's AddWithOpts on purpose, so handlers fall back to Add.
type delayedQueue struct {
	queue
	after time.Duration
}

func (q delayedQueue) Add(r reconcile.Request) { q.AddAfter(r, q.after) }

func (d delayed) Create(ctx context.Context, e event.TypedCreateEvent[client.Object], q queue) {
	d.inner.Create(ctx, e, delayedQueue{q, d.after})
}

func (d delayed) Update(ctx context.Context, e event.TypedUpdateEvent[client.Object], q queue) {
	d.inner.Update(ctx, e, delayedQueue{q, d.after})
}

func (d delayed) Delete(ctx context.Context, e event.TypedDeleteEvent[client.Object], q queue) {
	d.inner.Delete(ctx, e, delayedQueue{q, d.after})
}

func (d delayed) Generic(ctx context.Context, e event.TypedGenericEvent[client.Object], q queue) {
	d.inner.Generic(ctx, e, delayedQueue{q, d.after})
}
