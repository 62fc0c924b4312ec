// Package kvstore keeps the campaign engine's state in the cloud's record
// storage (cloud.Storage: bbolt, or PostgreSQL through pgstore), beside the
// loyalty books, so a grant's once-only key and what it gives commit in one
// transaction. It is the engine's store until the relational store
// (cloud/sqlstore) lands; the engine sees only campaign.Store.
//
// The once-only key is the record key (brand, "cgrant", campaign 0 member
// 0 occurrence): Act reads it and writes it in the transaction that gives
// the rewards. On PostgreSQL transactions are serializable (pgstore retries
// conflicts), so two processes acting on the same key cannot both commit.
package kvstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/records"
)

// Kinds of record this package keeps.
const (
	KindCampaign   = "campaign"    // id -> Campaign
	KindGrant      = "cgrant"      // campaign 0 member 0 occurrence -> Grant
	KindPendingMsg = "cmsgpending" // campaign 0 member 0 occurrence -> nothing
	KindRun        = "crun"        // run id -> Run
	KindLottery    = "lottery"     // id -> Lottery
	KindDraw       = "ldraw"       // lottery 0 draw id -> Draw
	KindDrawChance = "ldrawchance" // member 0 lottery 0 key -> DrawChance
)

// Store implements campaign.Store on a cloud.Storage.
type Store struct {
	DB cloud.Storage
}

// New makes a store.
func New(db cloud.Storage) *Store { return &Store{DB: db} }

// View implements campaign.Store.
func (s *Store) View(ctx context.Context, brandID string, fn func(campaign.Reader) error) error {
	return s.DB.View(ctx, func(tx cloud.Tx) error { return fn(&Ledger{Tx: tx, BrandID: brandID}) })
}

// Update implements campaign.Store.
func (s *Store) Update(ctx context.Context, brandID string, fn func(campaign.Ledger) error) error {
	return s.DB.Update(ctx, func(tx cloud.Tx) error { return fn(&Ledger{Tx: tx, BrandID: brandID}) })
}

// BrandIDs implements campaign.Store.
func (s *Store) BrandIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := s.DB.View(ctx, func(tx cloud.Tx) error {
		var err error
		ids, err = records.BrandIDs(tx)
		return err
	})
	return ids, err
}

// Ledger is campaign.Ledger on one cloud.Tx; the event hook builds one on
// the push's transaction.
type Ledger struct {
	Tx      cloud.Tx
	BrandID string
}

var _ campaign.Ledger = (*Ledger)(nil)

func key(parts ...string) []byte { return []byte(strings.Join(parts, "\x00")) }

// Brand implements campaign.Reader.
func (l *Ledger) Brand() (cloud.Brand, error) { return records.Brand(l.Tx, l.BrandID) }

// Campaign implements campaign.Reader.
func (l *Ledger) Campaign(id string) (campaign.Campaign, error) {
	c, err := records.Get[campaign.Campaign](l.Tx, l.BrandID, KindCampaign, []byte(id), fmt.Sprintf("campaign %q", id))
	return c, err
}

// Campaigns implements campaign.Reader.
func (l *Ledger) Campaigns() ([]campaign.Campaign, error) {
	out, _, err := records.List[campaign.Campaign](l.Tx, l.BrandID, KindCampaign, nil, 0)
	return out, err
}

// PutCampaign implements campaign.Ledger.
func (l *Ledger) PutCampaign(c campaign.Campaign) error {
	return records.Put(l.Tx, l.BrandID, KindCampaign, []byte(c.ID), c)
}

// Grant implements campaign.Reader.
func (l *Ledger) Grant(campaignID, memberID, occurrence string) (campaign.Grant, bool, error) {
	g, err := records.Get[campaign.Grant](l.Tx, l.BrandID, KindGrant, key(campaignID, memberID, occurrence), "grant")
	if cloud.IsNotFound(err) {
		return g, false, nil
	}
	return g, err == nil, err
}

// PutGrant implements campaign.Ledger.
func (l *Ledger) PutGrant(g campaign.Grant) error {
	k := key(g.CampaignID, g.MemberID, g.Occurrence)
	if len(g.Messages) > 0 && !g.MessagesQueued {
		if err := l.Tx.Put(l.BrandID, KindPendingMsg, k, nil); err != nil {
			return err
		}
	} else if err := l.Tx.Delete(l.BrandID, KindPendingMsg, k); err != nil {
		return err
	}
	return records.Put(l.Tx, l.BrandID, KindGrant, k, g)
}

// Grants implements campaign.Reader.
func (l *Ledger) Grants(campaignID, afterMember, afterOccurrence string, limit int) ([]campaign.Grant, error) {
	prefix := key(campaignID, "")
	from := prefix
	if afterMember != "" {
		from = append(key(campaignID, afterMember, afterOccurrence), 0)
	}
	var out []campaign.Grant
	err := l.Tx.Scan(l.BrandID, KindGrant, from, func(k, v []byte) (bool, error) {
		if !bytes.HasPrefix(k, prefix) || (limit > 0 && len(out) == limit) {
			return false, nil
		}
		var g campaign.Grant
		if err := json.Unmarshal(v, &g); err != nil {
			return false, fmt.Errorf("decode grant: %w", err)
		}
		out = append(out, g)
		return true, nil
	})
	return out, err
}

// PendingMessages implements campaign.Reader.
func (l *Ledger) PendingMessages(limit int) ([]campaign.Grant, error) {
	var keys [][]byte
	err := l.Tx.Scan(l.BrandID, KindPendingMsg, nil, func(k, _ []byte) (bool, error) {
		keys = append(keys, bytes.Clone(k))
		return len(keys) < limit, nil
	})
	if err != nil {
		return nil, err
	}
	var out []campaign.Grant
	for _, k := range keys {
		g, err := records.Get[campaign.Grant](l.Tx, l.BrandID, KindGrant, k, "grant")
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// Members implements campaign.Reader.
func (l *Ledger) Members(after string, limit int, need campaign.Needs) ([]campaign.MemberFacts, error) {
	var from []byte
	if after != "" {
		from = append([]byte(after), 0)
	}
	var out []campaign.MemberFacts
	err := l.Tx.Scan(l.BrandID, records.KindMember, from, func(k, v []byte) (bool, error) {
		if len(out) == limit {
			return false, nil
		}
		var m cloud.Member
		if err := json.Unmarshal(v, &m); err != nil {
			return false, fmt.Errorf("decode member %q: %w", k, err)
		}
		out = append(out, campaign.MemberFacts{Member: m})
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		m := out[i].Member
		if m.MergedInto != "" {
			continue
		}
		if need.Coupons {
			cs, err := records.MemberCoupons(l.Tx, l.BrandID, m.ID)
			if err != nil {
				return nil, err
			}
			for _, c := range cs {
				if c.State == cloud.CouponIssued {
					out[i].Coupons = append(out[i].Coupons, c)
				}
			}
		}
		if need.PointsLots {
			if out[i].PointsLots, err = records.PointsLots(l.Tx, l.BrandID, m.ID); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Member implements campaign.Reader.
func (l *Ledger) Member(id string) (cloud.Member, error) { return records.Member(l.Tx, l.BrandID, id) }

// Run implements campaign.Reader.
func (l *Ledger) Run(id string) (campaign.Run, bool, error) {
	r, err := records.Get[campaign.Run](l.Tx, l.BrandID, KindRun, []byte(id), "run")
	if cloud.IsNotFound(err) {
		return r, false, nil
	}
	return r, err == nil, err
}

// PutRun implements campaign.Ledger.
func (l *Ledger) PutRun(r campaign.Run) error {
	return records.Put(l.Tx, l.BrandID, KindRun, []byte(r.ID), r)
}

// Activity implements campaign.Reader: the member's activity records are
// one per UTC day, so the window is counted in whole UTC days.
func (l *Ledger) Activity(memberID string, from, to time.Time) (int64, int64, error) {
	prefix := records.MemberKey(memberID)
	end := records.ActivityKey(memberID, to)
	var visits, spend int64
	err := l.Tx.Scan(l.BrandID, records.KindActivity, records.ActivityKey(memberID, from), func(k, v []byte) (bool, error) {
		if !bytes.HasPrefix(k, prefix) || bytes.Compare(k, end) >= 0 {
			return false, nil
		}
		var a records.Activity
		if err := json.Unmarshal(v, &a); err != nil {
			return false, fmt.Errorf("decode activity of %s: %w", memberID, err)
		}
		visits += int64(a.Visits)
		spend += a.SpendFen
		return true, nil
	})
	return visits, spend, err
}

// CouponTemplate implements campaign.Reader.
func (l *Ledger) CouponTemplate(id string) (cloud.CouponTemplate, error) {
	return records.CouponTemplate(l.Tx, l.BrandID, id)
}

// IssueCoupon implements campaign.Ledger through loyalty.
func (l *Ledger) IssueCoupon(memberID, templateID string, validDays int, reason string, now time.Time) (string, int64, error) {
	c, t, err := loyalty.GrantCoupon(l.Tx, l.BrandID, memberID, templateID, validDays, reason, now)
	return c.Code, t.AmountOffFen, err
}

// AwardPoints implements campaign.Ledger through loyalty.
func (l *Ledger) AwardPoints(memberID string, points int64, reason string, now time.Time) error {
	return loyalty.GrantPoints(l.Tx, l.BrandID, memberID, points, reason, now)
}

// AddBonus implements campaign.Ledger through loyalty.
func (l *Ledger) AddBonus(memberID string, fen int64, reason string, now time.Time) error {
	return loyalty.GrantBonus(l.Tx, l.BrandID, memberID, fen, reason, now)
}

// BoostPoints implements campaign.Ledger through loyalty.
func (l *Ledger) BoostPoints(memberID string, multiplierBP int, until time.Time, reason string) error {
	return loyalty.GrantPointsBoost(l.Tx, l.BrandID, memberID, multiplierBP, until, reason)
}

// Lottery implements campaign.Reader.
func (l *Ledger) Lottery(id string) (campaign.Lottery, error) {
	return records.Get[campaign.Lottery](l.Tx, l.BrandID, KindLottery, []byte(id), fmt.Sprintf("lottery %q", id))
}

// Lotteries implements campaign.Reader.
func (l *Ledger) Lotteries() ([]campaign.Lottery, error) {
	out, _, err := records.List[campaign.Lottery](l.Tx, l.BrandID, KindLottery, nil, 0)
	return out, err
}

// PutLottery implements campaign.Ledger.
func (l *Ledger) PutLottery(lot campaign.Lottery) error {
	return records.Put(l.Tx, l.BrandID, KindLottery, []byte(lot.ID), lot)
}

// Draws implements campaign.Reader.
func (l *Ledger) Draws(lotteryID string) ([]campaign.Draw, error) {
	var out []campaign.Draw
	err := records.ScanPrefix(l.Tx, l.BrandID, KindDraw, key(lotteryID, ""), func(_, v []byte) (bool, error) {
		var d campaign.Draw
		if err := json.Unmarshal(v, &d); err != nil {
			return false, fmt.Errorf("decode draw: %w", err)
		}
		out = append(out, d)
		return true, nil
	})
	return out, err
}

// PutDraw implements campaign.Ledger.
func (l *Ledger) PutDraw(d campaign.Draw) error {
	return records.Put(l.Tx, l.BrandID, KindDraw, key(d.LotteryID, d.ID), d)
}

// DrawChances implements campaign.Reader.
func (l *Ledger) DrawChances(memberID string) ([]campaign.DrawChance, error) {
	var out []campaign.DrawChance
	err := records.ScanPrefix(l.Tx, l.BrandID, KindDrawChance, key(memberID, ""), func(_, v []byte) (bool, error) {
		var c campaign.DrawChance
		if err := json.Unmarshal(v, &c); err != nil {
			return false, fmt.Errorf("decode draw chance: %w", err)
		}
		out = append(out, c)
		return true, nil
	})
	return out, err
}

// PutDrawChance implements campaign.Ledger.
func (l *Ledger) PutDrawChance(c campaign.DrawChance) error {
	return records.Put(l.Tx, l.BrandID, KindDrawChance, key(c.MemberID, c.LotteryID, c.Key), c)
}

// DeleteDrawChance implements campaign.Ledger.
func (l *Ledger) DeleteDrawChance(c campaign.DrawChance) error {
	return l.Tx.Delete(l.BrandID, KindDrawChance, key(c.MemberID, c.LotteryID, c.Key))
}
