package sqlstore

import (
	"database/sql"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

const eventCols = `brand_id, event_id, log_seq, device_id, seq, store_id, member_id, staff_id, kind, outcome, reason,
	occurred_at, received_at, content_hash, bill_fen, net_fen, stored_value_fen, points_burned, amount_fen, bonus_fen, detail`

// eventDetail is the kind-specific part of an event, kept whole as JSON.
type eventDetail struct {
	Visit     *cloud.Visit             `json:",omitempty"`
	Purchase  *cloud.Purchase          `json:",omitempty"`
	TopUp     *cloud.TopUp             `json:",omitempty"`
	Refund    *cloud.Refund            `json:",omitempty"`
	Voucher   *cloud.VoucherRedemption `json:",omitempty"`
	Enrolment *cloud.Enrolment         `json:",omitempty"`
	// ApprovedBy is the manager who approved money at the counter for a
	// member not scanned there (purchases and top-ups only).
	ApprovedBy string `json:",omitempty"`
}

func scanEvent(r interface{ Scan(...any) error }) (cloud.StoredEvent, uint64, error) {
	var e cloud.StoredEvent
	var pos uint64
	var d eventDetail
	var money [6]int64
	err := r.Scan(&e.BrandID, &e.ID, u64{&pos}, &e.DeviceID, u64{&e.Seq}, &e.StoreID, str{&e.MemberID}, str{&e.StaffID}, &e.Kind, &e.Outcome, str{&e.Reason},
		tm{&e.OccurredAt}, tm{&e.ReceivedAt}, blob{&e.ContentHash},
		i64{&money[0]}, i64{&money[1]}, i64{&money[2]}, i64{&money[3]}, i64{&money[4]}, i64{&money[5]}, jsonCol{&d})
	e.Visit, e.Purchase, e.TopUp, e.Refund, e.Voucher, e.Enrolment = d.Visit, d.Purchase, d.TopUp, d.Refund, d.Voucher, d.Enrolment
	e.ApprovedBy = d.ApprovedBy
	return e, pos, err
}

// eventMoney is the money columns of an event: bill, net, stored value,
// points burned, amount (top-up or refund) and bonus; NULL where the kind
// has none.
func eventMoney(e cloud.Event) [6]any {
	var m [6]any
	switch {
	case e.Purchase != nil:
		m[0], m[1], m[2], m[3] = e.Purchase.BillFen, e.Purchase.NetFen(), e.Purchase.StoredValueFen, e.Purchase.PointsBurned
	case e.TopUp != nil:
		m[4], m[5] = e.TopUp.AmountFen, e.TopUp.BonusFen
	case e.Refund != nil:
		m[4] = e.Refund.AmountFen
	}
	return m
}

func (t *tx) Event(brand, id string) (cloud.StoredEvent, error) {
	got, err := t.EventsByIDs(brand, []string{id})
	if err != nil {
		return cloud.StoredEvent{}, err
	}
	e, ok := got[id]
	if !ok {
		return e, notFound("event %q", id)
	}
	return e, nil
}

func (t *tx) EventsByIDs(brand string, list []string) (map[string]cloud.StoredEvent, error) {
	out := make(map[string]cloud.StoredEvent, len(list))
	for _, part := range chunks(list, maxInList) {
		err := t.query("read events", `select `+eventCols+` from events where brand_id = $1 and event_id in (`+placeholders(2, len(part))+`)`,
			ids([]any{brand}, part), func(r *sql.Rows) error {
				e, _, err := scanEvent(r)
				out[e.ID] = e
				return err
			})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t *tx) PutEvent(e cloud.StoredEvent) error {
	pos, err := t.NextSeq(e.BrandID, "eventlog")
	if err != nil {
		return err
	}
	m := eventMoney(e.Event)
	_, err = t.exec("write event", `insert into events (`+eventCols+`)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
		e.BrandID, e.ID, int64(pos), e.DeviceID, int64(e.Seq), e.StoreID, ns(e.MemberID), ns(e.StaffID), string(e.Kind), string(e.Outcome), ns(e.Reason),
		ts(e.OccurredAt), ts(e.ReceivedAt), e.ContentHash, m[0], m[1], m[2], m[3], m[4], m[5],
		js(eventDetail{e.Visit, e.Purchase, e.TopUp, e.Refund, e.Voucher, e.Enrolment, e.ApprovedBy}))
	if err != nil && isUniqueViolation(err) {
		return cloud.Errorf(cloud.Conflict, "event %s is already held", e.ID)
	}
	return err
}

func (t *tx) Events(brand string, after uint64, limit int) ([]cloud.StoredEvent, uint64, error) {
	var out []cloud.StoredEvent
	last := after
	err := t.query("list events", `select `+eventCols+` from events where brand_id = $1 and log_seq > $2 order by log_seq limit $3`,
		[]any{brand, int64(after), limit}, func(r *sql.Rows) error {
			e, pos, err := scanEvent(r)
			out = append(out, e)
			last = pos
			return err
		})
	return out, last, err
}

func (t *tx) EventCounts(brand string) (total uint64, byKind map[cloud.EventKind]uint64, rejected uint64, err error) {
	byKind = map[cloud.EventKind]uint64{}
	err = t.query("count events", `select kind, outcome, count(*) from events where brand_id = $1 group by kind, outcome`, []any{brand}, func(r *sql.Rows) error {
		var kind, outcome string
		var n uint64
		if err := r.Scan(&kind, &outcome, u64{&n}); err != nil {
			return err
		}
		total += n
		if cloud.Outcome(outcome) == cloud.Rejected {
			rejected += n
		} else {
			byKind[cloud.EventKind(kind)] += n
		}
		return nil
	})
	return total, byKind, rejected, err
}

func (t *tx) AppendChange(brand string, kind cloud.ChangeKind, key string) (uint64, error) {
	seq, err := t.NextSeq(brand, "change")
	if err != nil {
		return 0, err
	}
	_, err = t.exec("append change", `insert into changes (brand_id, seq, kind, key) values ($1, $2, $3, $4)`, brand, int64(seq), string(kind), key)
	return seq, err
}

func (t *tx) Changes(brand string, after uint64, limit int) ([]cloud.Change, error) {
	var out []cloud.Change
	err := t.query("list changes", `select seq, kind, key from changes where brand_id = $1 and seq > $2 order by seq limit $3`,
		[]any{brand, int64(after), limit}, func(r *sql.Rows) error {
			var c cloud.Change
			err := r.Scan(u64{&c.Seq}, &c.Kind, &c.Key)
			out = append(out, c)
			return err
		})
	return out, err
}

func (t *tx) CodeUse(brand, ref string) (cloud.CodeUse, error) {
	u := cloud.CodeUse{Ref: ref}
	found, err := t.one("read member code use", `select event_id, store_id, device_id, member_id, expires_at from member_code_uses where brand_id = $1 and ref = $2`,
		[]any{brand, ref}, &u.EventID, &u.StoreID, &u.DeviceID, &u.MemberID, tm{&u.ExpiresAt})
	if err == nil && !found {
		err = notFound("member code use %q", ref)
	}
	return u, err
}

func (t *tx) PutCodeUse(brand string, u cloud.CodeUse) error {
	_, err := t.exec("write member code use", `insert into member_code_uses (brand_id, ref, event_id, store_id, device_id, member_id, expires_at)
		values ($1, $2, $3, $4, $5, $6, $7) on conflict (brand_id, ref) do update set event_id = excluded.event_id, store_id = excluded.store_id,
		device_id = excluded.device_id, member_id = excluded.member_id, expires_at = excluded.expires_at`,
		brand, u.Ref, u.EventID, u.StoreID, u.DeviceID, u.MemberID, ts(u.ExpiresAt))
	return err
}

func (t *tx) PruneCodeUses(brand string, at time.Time, limit int) (int, error) {
	res, err := t.exec("forget old member code uses", `delete from member_code_uses where brand_id = $1 and ref in
		(select ref from member_code_uses where brand_id = $1 and expires_at < $2 order by expires_at limit $3)`, brand, ts(at), limit)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (t *tx) Effect(brand, eventID string) (cloud.PurchaseEffect, error) {
	e := cloud.PurchaseEffect{EventID: eventID}
	found, err := t.one("read purchase effect", `select member_id, points_earned, points_burned, principal_spent_fen, bonus_spent_fen, net_fen, refunded, refunded_event_id
		from purchase_effects where brand_id = $1 and event_id = $2`, []any{brand, eventID},
		&e.MemberID, &e.PointsEarned, &e.PointsBurned, &e.PrincipalSpent, &e.BonusSpent, &e.NetFen, boolean{&e.Refunded}, str{&e.RefundedEventID})
	if err == nil && !found {
		err = notFound("purchase %q", eventID)
	}
	return e, err
}

func (t *tx) PutEffect(brand string, e cloud.PurchaseEffect) error {
	_, err := t.exec("write purchase effect", `insert into purchase_effects (brand_id, event_id, member_id, points_earned, points_burned,
		principal_spent_fen, bonus_spent_fen, net_fen, refunded, refunded_event_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		on conflict (brand_id, event_id) do update set member_id = excluded.member_id, points_earned = excluded.points_earned,
		points_burned = excluded.points_burned, principal_spent_fen = excluded.principal_spent_fen, bonus_spent_fen = excluded.bonus_spent_fen,
		net_fen = excluded.net_fen, refunded = excluded.refunded, refunded_event_id = excluded.refunded_event_id`,
		brand, e.EventID, e.MemberID, e.PointsEarned, e.PointsBurned, e.PrincipalSpent, e.BonusSpent, e.NetFen, e.Refunded, ns(e.RefundedEventID))
	return err
}

func (t *tx) AppendConflict(brand string, c cloud.ConflictRecord) (cloud.ConflictRecord, error) {
	seq, err := t.NextSeq(brand, "conflict")
	if err != nil {
		return c, err
	}
	c.Seq = seq
	_, err = t.exec("record conflict", `insert into conflicts (brand_id, seq, at, kind, event_id, device_id, store_id, member_id, detail, resolution, amount_fen)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		brand, int64(seq), ts(c.At), c.Kind, ns(c.EventID), ns(c.DeviceID), ns(c.StoreID), ns(c.MemberID), c.Detail, c.Resolution, c.AmountFen)
	return c, err
}

func (t *tx) Conflicts(brand string, after uint64, limit int) ([]cloud.ConflictRecord, error) {
	var out []cloud.ConflictRecord
	err := t.query("list conflicts", `select seq, at, kind, event_id, device_id, store_id, member_id, detail, resolution, amount_fen
		from conflicts where brand_id = $1 and seq > $2 order by seq limit $3`, []any{brand, int64(after), limit}, func(r *sql.Rows) error {
		var c cloud.ConflictRecord
		err := r.Scan(u64{&c.Seq}, tm{&c.At}, &c.Kind, str{&c.EventID}, str{&c.DeviceID}, str{&c.StoreID}, str{&c.MemberID}, &c.Detail, &c.Resolution, &c.AmountFen)
		out = append(out, c)
		return err
	})
	return out, err
}
