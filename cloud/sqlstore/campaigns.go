package sqlstore

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign"
)

// The campaign tables (migration 0300): key columns HQ's analysts query,
// and the rest of each record as JSON.

var _ campaign.Tables = (*tx)(nil)

func decode[T any](raw string, what string) (T, error) {
	var v T
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return v, fmt.Errorf("sqlstore: decode %s: %w", what, err)
	}
	return v, nil
}

// body scans a JSON column into a string.
type body struct{ p *string }

func (b body) Scan(v any) error { return str(b).Scan(v) }

func (t *tx) Campaign(brand, id string) (campaign.Campaign, error) {
	var raw string
	found, err := t.one("read campaign", `select body from campaigns where brand_id = $1 and campaign_id = $2`, []any{brand, id}, body{&raw})
	if err != nil {
		return campaign.Campaign{}, err
	}
	if !found {
		return campaign.Campaign{}, notFound("campaign %q", id)
	}
	return decode[campaign.Campaign](raw, "campaign")
}

func (t *tx) Campaigns(brand string) ([]campaign.Campaign, error) {
	var raws []string
	err := t.query("list campaigns", `select body from campaigns where brand_id = $1 order by campaign_id`, []any{brand}, func(r *sql.Rows) error {
		var raw string
		raws = append(raws, "")
		err := r.Scan(body{&raw})
		raws[len(raws)-1] = raw
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]campaign.Campaign, 0, len(raws))
	for _, raw := range raws {
		c, err := decode[campaign.Campaign](raw, "campaign")
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (t *tx) PutCampaign(c campaign.Campaign) error {
	_, err := t.exec("write campaign", `insert into campaigns (brand_id, campaign_id, name, trigger_kind, status, start_at, end_at, holdout_bp, body)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		on conflict (brand_id, campaign_id) do update set name = excluded.name, trigger_kind = excluded.trigger_kind, status = excluded.status,
		start_at = excluded.start_at, end_at = excluded.end_at, holdout_bp = excluded.holdout_bp, body = excluded.body`,
		c.BrandID, c.ID, c.Name, string(c.Trigger.Kind), string(c.Status), nts(c.StartAt), nts(c.EndAt), c.HoldoutBP, js(c))
	return err
}

func (t *tx) Grant(brand, campaignID, memberID, occurrence string) (campaign.Grant, bool, error) {
	var raw string
	found, err := t.one("read grant", `select body from campaign_grants where brand_id = $1 and campaign_id = $2 and member_id = $3 and occurrence = $4`,
		[]any{brand, campaignID, memberID, occurrence}, body{&raw})
	if err != nil || !found {
		return campaign.Grant{}, false, err
	}
	g, err := decode[campaign.Grant](raw, "grant")
	return g, err == nil, err
}

// PutGrant writes a grant. A new key is inserted; campaign.Act writes a
// key once, and only the message flag changes afterwards.
func (t *tx) PutGrant(g campaign.Grant) error {
	pending := len(g.Messages) > 0 && !g.MessagesQueued
	_, err := t.exec("write grant", `insert into campaign_grants (brand_id, campaign_id, member_id, occurrence, granted_at, holdout, skipped, messages_pending, body)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		on conflict (brand_id, campaign_id, member_id, occurrence) do update set messages_pending = excluded.messages_pending, body = excluded.body`,
		g.BrandID, g.CampaignID, g.MemberID, g.Occurrence, ts(g.At), g.Holdout, ns(g.Skipped), pending, js(g))
	return err
}

func (t *tx) grants(what, q string, args []any) ([]campaign.Grant, error) {
	var raws []string
	err := t.query(what, q, args, func(r *sql.Rows) error {
		var raw string
		err := r.Scan(body{&raw})
		raws = append(raws, raw)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]campaign.Grant, 0, len(raws))
	for _, raw := range raws {
		g, err := decode[campaign.Grant](raw, "grant")
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

func (t *tx) Grants(brand, campaignID, afterMember, afterOccurrence string, limit int) ([]campaign.Grant, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	return t.grants("list grants", `select body from campaign_grants where brand_id = $1 and campaign_id = $2
		and (member_id > $3 or (member_id = $3 and occurrence > $4)) order by member_id, occurrence limit $5`,
		[]any{brand, campaignID, afterMember, afterOccurrence, limit})
}

func (t *tx) PendingMessages(brand string, limit int) ([]campaign.Grant, error) {
	return t.grants("list pending messages", `select body from campaign_grants where brand_id = $1 and messages_pending
		order by campaign_id, member_id, occurrence limit $2`, []any{brand, limit})
}

func (t *tx) Run(brand, id string) (campaign.Run, bool, error) {
	var raw string
	found, err := t.one("read run", `select body from campaign_runs where brand_id = $1 and run_id = $2`, []any{brand, id}, body{&raw})
	if err != nil || !found {
		return campaign.Run{}, false, err
	}
	r, err := decode[campaign.Run](raw, "run")
	return r, err == nil, err
}

func (t *tx) PutRun(r campaign.Run) error {
	_, err := t.exec("write run", `insert into campaign_runs (brand_id, run_id, done, body) values ($1, $2, $3, $4)
		on conflict (brand_id, run_id) do update set done = excluded.done, body = excluded.body`, r.BrandID, r.ID, r.Done, js(r))
	return err
}

func (t *tx) MembersAfter(brand, after string, limit int) ([]cloud.Member, error) {
	var out []cloud.Member
	err := t.query("list members", `select `+memberCols+` from members where brand_id = $1 and member_id > $2 order by member_id limit $3`,
		[]any{brand, after, limit}, func(r *sql.Rows) error {
			m, err := scanMember(r)
			out = append(out, m)
			return err
		})
	return out, err
}

func (t *tx) ActivityBetween(brand, memberID string, from, to time.Time) (visits, spendFen int64, err error) {
	_, err = t.one("sum activity", `select cast(coalesce(sum(visits), 0) as bigint), cast(coalesce(sum(spend_fen), 0) as bigint)
		from member_activity where brand_id = $1 and member_id = $2 and day >= $3 and day < $4`,
		[]any{brand, memberID, dayOf(from), dayOf(to)}, &visits, &spendFen)
	return visits, spendFen, err
}

func (t *tx) Lottery(brand, id string) (campaign.Lottery, error) {
	var raw string
	found, err := t.one("read lottery", `select body from lotteries where brand_id = $1 and lottery_id = $2`, []any{brand, id}, body{&raw})
	if err != nil {
		return campaign.Lottery{}, err
	}
	if !found {
		return campaign.Lottery{}, notFound("lottery %q", id)
	}
	return decode[campaign.Lottery](raw, "lottery")
}

func (t *tx) Lotteries(brand string) ([]campaign.Lottery, error) {
	var raws []string
	err := t.query("list lotteries", `select body from lotteries where brand_id = $1 order by lottery_id`, []any{brand}, func(r *sql.Rows) error {
		var raw string
		err := r.Scan(body{&raw})
		raws = append(raws, raw)
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []campaign.Lottery
	for _, raw := range raws {
		l, err := decode[campaign.Lottery](raw, "lottery")
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

func (t *tx) PutLottery(l campaign.Lottery) error {
	_, err := t.exec("write lottery", `insert into lotteries (brand_id, lottery_id, body) values ($1, $2, $3)
		on conflict (brand_id, lottery_id) do update set body = excluded.body`, l.BrandID, l.ID, js(l))
	return err
}

func (t *tx) Draws(brand, lotteryID string) ([]campaign.Draw, error) {
	var raws []string
	err := t.query("list draws", `select body from lottery_draws where brand_id = $1 and lottery_id = $2 order by drawn_at, draw_id`, []any{brand, lotteryID}, func(r *sql.Rows) error {
		var raw string
		err := r.Scan(body{&raw})
		raws = append(raws, raw)
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []campaign.Draw
	for _, raw := range raws {
		d, err := decode[campaign.Draw](raw, "draw")
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (t *tx) PutDraw(d campaign.Draw) error {
	_, err := t.exec("write draw", `insert into lottery_draws (brand_id, lottery_id, draw_id, member_id, drawn_at, won, given, body)
		values ($1, $2, $3, $4, $5, $6, $7, $8)`, d.BrandID, d.LotteryID, d.ID, d.MemberID, ts(d.At), ns(d.Won), d.Given, js(d))
	return err
}

func (t *tx) DrawChances(brand, memberID string) ([]campaign.DrawChance, error) {
	var out []campaign.DrawChance
	err := t.query("list draw chances", `select member_id, lottery_id, chance_key, campaign_id, granted_at from lottery_chances
		where brand_id = $1 and member_id = $2 order by granted_at, chance_key`, []any{brand, memberID}, func(r *sql.Rows) error {
		c := campaign.DrawChance{BrandID: brand}
		err := r.Scan(&c.MemberID, &c.LotteryID, &c.Key, &c.CampaignID, tm{&c.GrantedAt})
		out = append(out, c)
		return err
	})
	return out, err
}

func (t *tx) PutDrawChance(c campaign.DrawChance) error {
	_, err := t.exec("write draw chance", `insert into lottery_chances (brand_id, member_id, lottery_id, chance_key, campaign_id, granted_at)
		values ($1, $2, $3, $4, $5, $6) on conflict (brand_id, member_id, lottery_id, chance_key) do nothing`,
		c.BrandID, c.MemberID, c.LotteryID, c.Key, c.CampaignID, ts(c.GrantedAt))
	return err
}

func (t *tx) DeleteDrawChance(c campaign.DrawChance) error {
	_, err := t.exec("use draw chance", `delete from lottery_chances where brand_id = $1 and member_id = $2 and lottery_id = $3 and chance_key = $4`,
		c.BrandID, c.MemberID, c.LotteryID, c.Key)
	return err
}

func (t *tx) PointsBoost(brand, memberID string) (campaign.PointsBoost, bool, error) {
	b := campaign.PointsBoost{BrandID: brand, MemberID: memberID}
	found, err := t.one("read points boost", `select multiplier_bp, until_at, reason from points_boosts where brand_id = $1 and member_id = $2`,
		[]any{brand, memberID}, &b.MultiplierBP, tm{&b.Until}, &b.Reason)
	return b, found && err == nil, err
}

func (t *tx) PutPointsBoost(b campaign.PointsBoost) error {
	_, err := t.exec("write points boost", `insert into points_boosts (brand_id, member_id, multiplier_bp, until_at, reason) values ($1, $2, $3, $4, $5)
		on conflict (brand_id, member_id) do update set multiplier_bp = excluded.multiplier_bp, until_at = excluded.until_at, reason = excluded.reason`,
		b.BrandID, b.MemberID, b.MultiplierBP, ts(b.Until), b.Reason)
	return err
}
