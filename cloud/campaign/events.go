package campaign

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// EventCampaignsTTL is how long the engine trusts its list of a brand's
// running event campaigns before reading it again. Events are the sync
// path's hot loop: reading the campaigns for each would cost more than
// the event. A start or pause made by another process takes effect within
// this time; one made through this engine at once.
const EventCampaignsTTL = 5 * time.Second

type eventCache struct {
	mu     sync.Mutex
	brands map[string]eventEntry
}

type eventEntry struct {
	ids []string
	// byID holds the campaigns as read (their Spent may be stale: a
	// campaign is read again in the transaction only when it fires).
	byID map[string]Campaign
	// boosts: a campaign gives points multipliers, so purchases need a look.
	boosts bool
	loaded time.Time
}

func (e *Engine) eventCampaignIDs(r Reader, brandID string, now time.Time) ([]string, error) {
	e.events.mu.Lock()
	ent, ok := e.events.brands[brandID]
	e.events.mu.Unlock()
	if ok && now.Sub(ent.loaded) < EventCampaignsTTL && !now.Before(ent.loaded) {
		return ent.ids, nil
	}
	cs, err := r.Campaigns()
	if err != nil {
		return nil, err
	}
	ent = eventEntry{loaded: now, byID: map[string]Campaign{}}
	for _, c := range cs {
		if c.Status != Running && c.Status != Paused {
			continue
		}
		if c.Trigger.IsEvent() {
			ent.ids = append(ent.ids, c.ID)
			ent.byID[c.ID] = c
		}
		for _, a := range c.Actions {
			ent.boosts = ent.boosts || a.Kind == ActionPointsMultiplier
		}
	}
	e.events.mu.Lock()
	if e.events.brands == nil {
		e.events.brands = map[string]eventEntry{}
	}
	e.events.brands[brandID] = ent
	e.events.mu.Unlock()
	return ent.ids, nil
}

// WantsEvents reports whether a brand's pushed events need the campaigns'
// look at all (a running event campaign, or points multipliers given), so
// the sync path skips the hook's reads for brands without any.
func (e *Engine) WantsEvents(ctx context.Context, brandID string) bool {
	now := e.Now()
	e.events.mu.Lock()
	ent, ok := e.events.brands[brandID]
	e.events.mu.Unlock()
	if !ok || now.Sub(ent.loaded) >= EventCampaignsTTL || now.Before(ent.loaded) {
		err := e.Store.View(ctx, brandID, func(r Reader) error {
			_, err := e.eventCampaignIDs(r, brandID, now)
			return err
		})
		if err != nil {
			return true // when in doubt, look
		}
		e.events.mu.Lock()
		ent = e.events.brands[brandID]
		e.events.mu.Unlock()
	}
	return len(ent.ids) > 0 || ent.boosts
}

// forgetEvents drops the cached list after this engine changed a campaign.
func (e *Engine) forgetEvents(brandID string) {
	e.events.mu.Lock()
	delete(e.events.brands, brandID)
	e.events.mu.Unlock()
}

// OnEvent runs the brand's event campaigns for one applied event, inside
// the transaction that applied it (l), so the event and what its campaigns
// give commit together, once. It returns the grants made.
func (e *Engine) OnEvent(l Ledger, brandID string, f EventFacts) ([]Grant, error) {
	now := e.Now()
	ids, err := e.eventCampaignIDs(l, brandID, now)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	var out []Grant
	e.events.mu.Lock()
	cached := e.events.brands[brandID].byID
	e.events.mu.Unlock()
	for _, id := range ids {
		c, ok := cached[id]
		if !ok || !c.ActiveAt(now) {
			continue
		}
		fr, ok, err := c.EventFiring(f)
		if err != nil {
			return nil, fmt.Errorf("campaign %s: %w", id, err)
		}
		if !ok {
			continue
		}
		who := f.After
		if fr.MemberID != who.ID {
			if who, err = l.Member(fr.MemberID); err != nil {
				continue // a referrer who no longer exists gets nothing
			}
		}
		if !c.Audience.Matches(who) {
			continue
		}
		if _, acted, err := l.Grant(c.ID, fr.MemberID, fr.Occurrence); err != nil || acted {
			if err != nil {
				return nil, err
			}
			continue
		}
		// Fires: read the campaign in the transaction for its status and
		// what it has spent.
		if c, err = l.Campaign(id); err != nil {
			return nil, fmt.Errorf("campaign %s: %w", id, err)
		}
		if !c.ActiveAt(now) {
			continue
		}
		g, acted, err := Act(l, &c, fr, now)
		if err != nil {
			return nil, err
		}
		if acted {
			out = append(out, g)
		}
	}
	return out, nil
}
