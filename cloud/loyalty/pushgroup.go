package loyalty

import (
	"context"
	"sync"

	"github.com/memberpass/memberpass/cloud"
)

// maxGroupPushes caps the pushes one transaction carries, so a group's
// commit stays short for the pushes waiting behind it.
const maxGroupPushes = 64

// pushCall is one PushEvents waiting to be committed.
type pushCall struct {
	ctx    context.Context
	dev    cloud.Device
	events []cloud.Event

	acked   uint64
	results []cloud.EventResult
	err     error
	// deviceSeq is the device's acknowledged seq in the cloud; behind is
	// set when the push collided with it (see Push).
	deviceSeq uint64
	behind    bool
	// turn receives true when this call leads the next group, false when
	// its group has committed and the fields above are set.
	turn chan bool
}

// pushGroup is group commit without a goroutine of its own: the first
// push to arrive when no commit is running leads; pushes arriving while a
// group commits queue up, and when it is done the oldest of them leads the
// next group, which carries all of them. A lone push commits at once, and
// under load each durable commit carries many pushes.
type pushGroup struct {
	mu      sync.Mutex
	queue   []*pushCall
	leading bool
}

// do runs c in a group committed by commit and returns it with its
// outcome set. A call whose context ends before its group starts is not
// committed and fails with the context's error.
func (g *pushGroup) do(ctx context.Context, c *pushCall, commit func([]*pushCall)) *pushCall {
	c.turn = make(chan bool, 1)
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if g.leading {
		g.mu.Unlock()
		if lead := <-c.turn; !lead {
			return c
		}
		g.mu.Lock()
	}
	g.leading = true
	n := min(len(g.queue), maxGroupPushes)
	group := make([]*pushCall, 0, n)
	for _, q := range g.queue[:n] {
		if err := q.ctx.Err(); err != nil && q != c {
			q.err = err
			q.turn <- false
			continue
		}
		group = append(group, q)
	}
	g.queue = append(g.queue[:0:0], g.queue[n:]...)
	g.mu.Unlock()

	if err := ctx.Err(); err != nil {
		c.err = err
		group = group[1:] // c leads the group it is first in
	}
	if len(group) > 0 {
		commit(group)
	}

	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].turn <- true
	} else {
		g.leading = false
	}
	g.mu.Unlock()
	for _, q := range group {
		if q != c {
			q.turn <- false
		}
	}
	return c
}
