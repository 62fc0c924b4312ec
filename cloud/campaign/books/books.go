// Package books runs the campaign engine's transactions on the cloud's
// storage: the campaign tables (campaign.Tables, kept by cloud/sqlstore in
// migration 0300) and the loyalty books (cloud.Tx) in one transaction, so
// a grant's once-only row and the coupons, points and stored value it
// gives commit together. Grants take loyalty's own paths, which write the
// change log: what a campaign gives reaches the counters' replicas.
//
// The once-only key is campaign_grants' primary key (brand, campaign,
// member, occurrence). On PostgreSQL transactions are serializable (the
// store retries conflicts), so two processes acting on the same key
// cannot both commit; on SQLite there is one writer.
package books

import (
	"context"
	"fmt"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign"
	"github.com/memberpass/memberpass/cloud/loyalty"
)

// Store implements campaign.Store on a cloud.Storage whose transactions
// also implement campaign.Tables.
type Store struct {
	DB cloud.Storage
}

// New makes a store.
func New(db cloud.Storage) *Store { return &Store{DB: db} }

func ledgerOf(tx cloud.Tx, brandID string) (*Ledger, error) {
	t, ok := tx.(campaign.Tables)
	if !ok {
		return nil, fmt.Errorf("campaigns: storage %T keeps no campaign tables", tx)
	}
	return &Ledger{Tx: tx, T: t, BrandID: brandID}, nil
}

// View implements campaign.Store.
func (s *Store) View(ctx context.Context, brandID string, fn func(campaign.Reader) error) error {
	return s.DB.View(ctx, func(tx cloud.Tx) error {
		l, err := ledgerOf(tx, brandID)
		if err != nil {
			return err
		}
		return fn(l)
	})
}

// Update implements campaign.Store.
func (s *Store) Update(ctx context.Context, brandID string, fn func(campaign.Ledger) error) error {
	return s.DB.Update(ctx, func(tx cloud.Tx) error {
		l, err := ledgerOf(tx, brandID)
		if err != nil {
			return err
		}
		return fn(l)
	})
}

// BrandIDs implements campaign.Store.
func (s *Store) BrandIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := s.DB.View(ctx, func(tx cloud.Tx) error {
		var err error
		ids, err = tx.BrandIDs()
		return err
	})
	return ids, err
}

// Ledger is campaign.Ledger on one transaction; the event hook builds one
// on the push's transaction.
type Ledger struct {
	Tx      cloud.Tx
	T       campaign.Tables
	BrandID string
}

var _ campaign.Ledger = (*Ledger)(nil)

// Brand implements campaign.Reader.
func (l *Ledger) Brand() (cloud.Brand, error) { return l.Tx.Brand(l.BrandID) }

// Campaign implements campaign.Reader.
func (l *Ledger) Campaign(id string) (campaign.Campaign, error) { return l.T.Campaign(l.BrandID, id) }

// Campaigns implements campaign.Reader.
func (l *Ledger) Campaigns() ([]campaign.Campaign, error) { return l.T.Campaigns(l.BrandID) }

// PutCampaign implements campaign.Ledger.
func (l *Ledger) PutCampaign(c campaign.Campaign) error { return l.T.PutCampaign(c) }

// Grant implements campaign.Reader.
func (l *Ledger) Grant(campaignID, memberID, occurrence string) (campaign.Grant, bool, error) {
	return l.T.Grant(l.BrandID, campaignID, memberID, occurrence)
}

// PutGrant implements campaign.Ledger.
func (l *Ledger) PutGrant(g campaign.Grant) error { return l.T.PutGrant(g) }

// Grants implements campaign.Reader.
func (l *Ledger) Grants(campaignID, afterMember, afterOccurrence string, limit int) ([]campaign.Grant, error) {
	return l.T.Grants(l.BrandID, campaignID, afterMember, afterOccurrence, limit)
}

// PendingMessages implements campaign.Reader.
func (l *Ledger) PendingMessages(limit int) ([]campaign.Grant, error) {
	return l.T.PendingMessages(l.BrandID, limit)
}

// Members implements campaign.Reader.
func (l *Ledger) Members(after string, limit int, need campaign.Needs) ([]campaign.MemberFacts, error) {
	ms, err := l.T.MembersAfter(l.BrandID, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]campaign.MemberFacts, len(ms))
	for i, m := range ms {
		out[i].Member = m
		if m.MergedInto != "" {
			continue
		}
		if need.Coupons {
			cs, err := l.Tx.MemberCoupons(l.BrandID, m.ID)
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
			if out[i].PointsLots, err = l.Tx.PointsLots(l.BrandID, m.ID); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Member implements campaign.Reader.
func (l *Ledger) Member(id string) (cloud.Member, error) { return l.Tx.Member(l.BrandID, id) }

// Run implements campaign.Reader.
func (l *Ledger) Run(id string) (campaign.Run, bool, error) { return l.T.Run(l.BrandID, id) }

// PutRun implements campaign.Ledger.
func (l *Ledger) PutRun(r campaign.Run) error { return l.T.PutRun(r) }

// Activity implements campaign.Reader (activity is kept per calendar day).
func (l *Ledger) Activity(memberID string, from, to time.Time) (int64, int64, error) {
	return l.T.ActivityBetween(l.BrandID, memberID, from, to)
}

// CouponTemplate implements campaign.Reader.
func (l *Ledger) CouponTemplate(id string) (cloud.CouponTemplate, error) {
	return l.Tx.CouponTemplate(l.BrandID, id)
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

// BoostPoints implements campaign.Ledger.
func (l *Ledger) BoostPoints(memberID string, multiplierBP int, until time.Time, reason string) error {
	return l.T.PutPointsBoost(campaign.PointsBoost{BrandID: l.BrandID, MemberID: memberID, MultiplierBP: multiplierBP, Until: until.UTC(), Reason: reason})
}

// Lottery implements campaign.Reader.
func (l *Ledger) Lottery(id string) (campaign.Lottery, error) { return l.T.Lottery(l.BrandID, id) }

// Lotteries implements campaign.Reader.
func (l *Ledger) Lotteries() ([]campaign.Lottery, error) { return l.T.Lotteries(l.BrandID) }

// PutLottery implements campaign.Ledger.
func (l *Ledger) PutLottery(lot campaign.Lottery) error { return l.T.PutLottery(lot) }

// Draws implements campaign.Reader.
func (l *Ledger) Draws(lotteryID string) ([]campaign.Draw, error) {
	return l.T.Draws(l.BrandID, lotteryID)
}

// PutDraw implements campaign.Ledger.
func (l *Ledger) PutDraw(d campaign.Draw) error { return l.T.PutDraw(d) }

// DrawChances implements campaign.Reader.
func (l *Ledger) DrawChances(memberID string) ([]campaign.DrawChance, error) {
	return l.T.DrawChances(l.BrandID, memberID)
}

// PutDrawChance implements campaign.Ledger.
func (l *Ledger) PutDrawChance(c campaign.DrawChance) error { return l.T.PutDrawChance(c) }

// DeleteDrawChance implements campaign.Ledger.
func (l *Ledger) DeleteDrawChance(c campaign.DrawChance) error { return l.T.DeleteDrawChance(c) }
