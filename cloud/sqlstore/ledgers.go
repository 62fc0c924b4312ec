package sqlstore

import (
	"database/sql"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

func (t *tx) AppendPoints(brand string, e cloud.PointsEntry) (cloud.PointsEntry, error) {
	seq, err := t.NextSeq(brand, "points")
	if err != nil {
		return e, err
	}
	e.Seq = seq
	_, err = t.exec("append points", `insert into points_ledger (brand_id, seq, member_id, at, delta, reason, event_id, expires_at, note)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		brand, int64(seq), e.MemberID, ts(e.At), e.Delta, e.Reason, ns(e.EventID), nts(e.ExpiresAt), ns(e.Note))
	return e, err
}

func (t *tx) PointsEntries(brand, memberID string) ([]cloud.PointsEntry, error) {
	var out []cloud.PointsEntry
	err := t.query("list points ledger", `select seq, member_id, at, delta, reason, event_id, expires_at, note from points_ledger
		where brand_id = $1 and member_id = $2 order by seq`, []any{brand, memberID}, func(r *sql.Rows) error {
		var e cloud.PointsEntry
		err := r.Scan(u64{&e.Seq}, &e.MemberID, tm{&e.At}, &e.Delta, &e.Reason, str{&e.EventID}, tm{&e.ExpiresAt}, str{&e.Note})
		out = append(out, e)
		return err
	})
	return out, err
}

func (t *tx) PutPointsLot(brand string, l cloud.PointsLot) error {
	if l.Remaining <= 0 {
		_, err := t.exec("delete points lot", `delete from points_lots where brand_id = $1 and member_id = $2 and seq = $3`, brand, l.MemberID, int64(l.Seq))
		return err
	}
	_, err := t.exec("write points lot", `insert into points_lots (brand_id, member_id, seq, expires_at, remaining) values ($1, $2, $3, $4, $5)
		on conflict (brand_id, member_id, seq) do update set expires_at = excluded.expires_at, remaining = excluded.remaining`,
		brand, l.MemberID, int64(l.Seq), nts(l.ExpiresAt), l.Remaining)
	return err
}

func (t *tx) PointsLots(brand, memberID string) ([]cloud.PointsLot, error) {
	var out []cloud.PointsLot
	err := t.query("list points lots", `select seq, expires_at, remaining from points_lots where brand_id = $1 and member_id = $2
		order by expires_at is null, expires_at, seq`, []any{brand, memberID}, func(r *sql.Rows) error {
		l := cloud.PointsLot{MemberID: memberID}
		err := r.Scan(u64{&l.Seq}, tm{&l.ExpiresAt}, &l.Remaining)
		out = append(out, l)
		return err
	})
	return out, err
}

func (t *tx) AppendStoredValue(brand string, e cloud.StoredValueEntry) (cloud.StoredValueEntry, error) {
	seq, err := t.NextSeq(brand, "storedvalue")
	if err != nil {
		return e, err
	}
	e.Seq = seq
	_, err = t.exec("append stored value", `insert into stored_value_ledger (brand_id, seq, member_id, at, principal_delta_fen, bonus_delta_fen, reason, event_id, note)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		brand, int64(seq), e.MemberID, ts(e.At), e.PrincipalDelta, e.BonusDelta, e.Reason, ns(e.EventID), ns(e.Note))
	return e, err
}

func (t *tx) StoredValueEntries(brand, memberID string) ([]cloud.StoredValueEntry, error) {
	var out []cloud.StoredValueEntry
	err := t.query("list stored-value ledger", `select seq, member_id, at, principal_delta_fen, bonus_delta_fen, reason, event_id, note
		from stored_value_ledger where brand_id = $1 and member_id = $2 order by seq`, []any{brand, memberID}, func(r *sql.Rows) error {
		var e cloud.StoredValueEntry
		err := r.Scan(u64{&e.Seq}, &e.MemberID, tm{&e.At}, &e.PrincipalDelta, &e.BonusDelta, &e.Reason, str{&e.EventID}, str{&e.Note})
		out = append(out, e)
		return err
	})
	return out, err
}

func (t *tx) AppendTierChange(brand string, c cloud.TierChange) error {
	seq, err := t.NextSeq(brand, "tierlog")
	if err != nil {
		return err
	}
	_, err = t.exec("append tier change", `insert into tier_changes (brand_id, seq, member_id, at, from_tier, to_tier, reason) values ($1, $2, $3, $4, $5, $6, $7)`,
		brand, int64(seq), c.MemberID, ts(c.At), ns(c.From), c.To, c.Reason)
	return err
}

func (t *tx) TierChanges(brand, memberID string) ([]cloud.TierChange, error) {
	var out []cloud.TierChange
	err := t.query("list tier changes", `select member_id, at, from_tier, to_tier, reason from tier_changes where brand_id = $1 and member_id = $2 order by seq`,
		[]any{brand, memberID}, func(r *sql.Rows) error {
			var c cloud.TierChange
			err := r.Scan(&c.MemberID, tm{&c.At}, str{&c.From}, &c.To, &c.Reason)
			out = append(out, c)
			return err
		})
	return out, err
}

// dayOf is the calendar date of t in t's own location, as a date column
// value: the caller decides the time zone.
func dayOf(t time.Time) string { return t.Format(time.DateOnly) }

func (t *tx) AddActivity(brand, memberID string, day time.Time, visits int, spendFen int64) error {
	_, err := t.exec("add activity", `insert into member_activity (brand_id, member_id, day, visits, spend_fen) values ($1, $2, $3, $4, $5)
		on conflict (brand_id, member_id, day) do update set visits = member_activity.visits + excluded.visits,
		spend_fen = member_activity.spend_fen + excluded.spend_fen`, brand, memberID, dayOf(day), visits, spendFen)
	return err
}

func (t *tx) ActivitySince(brand, memberID string, day time.Time) (visits int, spendFen int64, err error) {
	_, err = t.one("sum activity", `select cast(coalesce(sum(visits), 0) as bigint), cast(coalesce(sum(spend_fen), 0) as bigint)
		from member_activity where brand_id = $1 and member_id = $2 and day >= $3`, []any{brand, memberID, dayOf(day)}, &visits, &spendFen)
	return visits, spendFen, err
}

func (t *tx) PrefetchActivity(brand string, memberIDs []string, day time.Time) error { return nil }
