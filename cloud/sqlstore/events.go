package sqlstore

import (
	"database/sql"

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
