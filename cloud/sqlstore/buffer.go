package sqlstore

import (
	"fmt"
	"strings"

	"github.com/memberpass/memberpass/cloud"
)

// A transaction keeps the rows it writes to the hot tables (members,
// events, ledgers, activity, the change log...) in memory and sends them
// set-based: one multi-row INSERT ... ON CONFLICT per table, chunked under
// both engines' parameter limits. Reads the transaction can answer from
// what it read or wrote before (see cache.go) send nothing; any other
// statement first flushes the buffer, so the database sees the writes in
// an order that keeps every foreign key, and every query sees the
// transaction's own writes. A push of a thousand events thus costs a
// handful of statements instead of several per event.

// table is a buffered table: its columns, the leading ones its key.
type table struct {
	name string
	cols []string
	key  int
	// insertOnly tables take new rows only (ledgers, logs): no upsert.
	insertOnly bool
}

// Buffered tables, in the order a flush writes them (referenced first).
var (
	devicesT  = &table{name: "devices", cols: splitCols(deviceCols), key: 2}
	membersT  = &table{name: "members", cols: splitCols(memberCols), key: 2}
	pointsT   = &table{name: "points_ledger", cols: splitCols(`brand_id, seq, member_id, at, delta, reason, event_id, expires_at, note`), key: 2, insertOnly: true}
	lotsT     = &table{name: "points_lots", cols: splitCols(`brand_id, member_id, seq, expires_at, remaining`), key: 3}
	svT       = &table{name: "stored_value_ledger", cols: splitCols(`brand_id, seq, member_id, at, principal_delta_fen, bonus_delta_fen, reason, event_id, note`), key: 2, insertOnly: true}
	tiersT    = &table{name: "tier_changes", cols: splitCols(`brand_id, seq, member_id, at, from_tier, to_tier, reason`), key: 2, insertOnly: true}
	activityT = &table{name: "member_activity", cols: splitCols(`brand_id, member_id, day, visits, spend_fen`), key: 3}
	codeUsesT = &table{name: "member_code_uses", cols: splitCols(`brand_id, ref, event_id, store_id, device_id, member_id, expires_at`), key: 2}
	effectsT  = &table{name: "purchase_effects", cols: splitCols(`brand_id, event_id, member_id, points_earned, points_burned, principal_spent_fen, bonus_spent_fen, net_fen, refunded, refunded_event_id`), key: 2}
	eventsT   = &table{name: "events", cols: splitCols(eventCols), key: 2, insertOnly: true}
	changesT  = &table{name: "changes", cols: splitCols(`brand_id, seq, kind, key`), key: 2, insertOnly: true}
	conflictT = &table{name: "conflicts", cols: splitCols(`brand_id, seq, at, kind, event_id, device_id, store_id, member_id, detail, resolution, amount_fen`), key: 2, insertOnly: true}
	seqT      = &table{name: "sequences", cols: splitCols(`brand_id, name, value`), key: 2}
)

var flushOrder = []*table{devicesT, membersT, pointsT, lotsT, svT, tiersT, activityT, codeUsesT, effectsT, eventsT, changesT, conflictT, seqT}

func splitCols(s string) []string {
	var out []string
	for _, c := range strings.Split(s, ",") {
		out = append(out, strings.TrimSpace(c))
	}
	return out
}

// pending is a table's rows waiting to be written: by key, in the order
// first written; a nil row deletes.
type pending struct {
	order []string
	rows  map[string][]any
}

// writeBuffer is a transaction's unsent rows.
type writeBuffer struct {
	tables map[*table]*pending
	n      int
}

func newWriteBuffer() *writeBuffer { return &writeBuffer{tables: map[*table]*pending{}} }

func rowKey(vals []any, n int) string {
	var b strings.Builder
	for _, v := range vals[:n] {
		fmt.Fprint(&b, v, "\x00")
	}
	return b.String()
}

// put buffers a row (an upsert, or an insert for insert-only tables).
func (w *writeBuffer) put(t *table, vals ...any) {
	w.set(t, rowKey(vals, t.key), vals)
}

// del buffers the deletion of the row with the given key values.
func (w *writeBuffer) del(t *table, key ...any) {
	w.set(t, rowKey(key, t.key), []any{deleteMark{key}})
}

func (w *writeBuffer) set(t *table, k string, vals []any) {
	p := w.tables[t]
	if p == nil {
		p = &pending{rows: map[string][]any{}}
		w.tables[t] = p
	}
	if _, ok := p.rows[k]; !ok {
		p.order = append(p.order, k)
	}
	p.rows[k] = vals
	w.n++
}

// deleteMark stands for a deleted row in a buffer, with its key values.
type deleteMark struct{ key []any }

// maxParams keeps one statement under both engines' limits (SQLite 32,766
// variables, PostgreSQL 65,535 parameters).
const maxParams = 30000

// flushWrites sends the buffered rows and empties the buffer.
func (t *tx) flushWrites() error {
	w := t.w
	if w.n == 0 {
		return nil
	}
	t.w = newWriteBuffer() // statements below must not flush again
	for _, tb := range flushOrder {
		p := w.tables[tb]
		if p == nil {
			continue
		}
		var batch [][]any
		send := func() error {
			if len(batch) == 0 {
				return nil
			}
			err := t.upsert(tb, batch)
			batch = batch[:0]
			return err
		}
		for _, k := range p.order {
			row := p.rows[k]
			if d, ok := row[0].(deleteMark); ok && len(row) == 1 {
				if err := send(); err != nil {
					return err
				}
				if err := t.deleteRow(tb, d.key); err != nil {
					return err
				}
				continue
			}
			batch = append(batch, row)
			if (len(batch)+1)*len(tb.cols) > maxParams {
				if err := send(); err != nil {
					return err
				}
			}
		}
		if err := send(); err != nil {
			return err
		}
	}
	return nil
}

// upsert writes rows with one multi-row statement.
func (t *tx) upsert(tb *table, rows [][]any) error {
	var q strings.Builder
	q.WriteString("insert into " + tb.name + " (" + strings.Join(tb.cols, ", ") + ") values ")
	args := make([]any, 0, len(rows)*len(tb.cols))
	for i, r := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(" + t.e.placeholders(len(args)+1, len(r)) + ")")
		args = append(args, r...)
	}
	if !tb.insertOnly {
		q.WriteString(" on conflict (" + strings.Join(tb.cols[:tb.key], ", ") + ") do update set ")
		for i, c := range tb.cols[tb.key:] {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(c + " = excluded." + c)
		}
	}
	_, err := t.sql.ExecContext(t.ctx, q.String(), args...)
	if err != nil {
		if tb == eventsT && isUniqueViolation(err) {
			t.fail(err, "write events")
			return fmt.Errorf("sqlstore: write events: %w", cloud.Errorf(cloud.Conflict, "an event ID in this transaction is already held"))
		}
		return t.fail(err, "write "+tb.name)
	}
	return nil
}

// deleteRow sends one buffered deletion.
func (t *tx) deleteRow(tb *table, key []any) error {
	var where []string
	for i, c := range tb.cols[:tb.key] {
		where = append(where, fmt.Sprintf("%s = $%d", c, i+1))
	}
	_, err := t.sql.ExecContext(t.ctx, "delete from "+tb.name+" where "+strings.Join(where, " and "), key...)
	if err != nil {
		return t.fail(err, "delete from "+tb.name)
	}
	return nil
}
