package sqlstore

import (
	"database/sql"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

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
