package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/messaging"
)

const msgCols = `brand_id, message_id, msg_key, campaign_id, member_id, occurrence, channel, category, template_id, lang,
	vars_json, to_addr, not_before_ms, expires_at_ms, status, reason, attempts, provider_id, reserved, reserved_at_ms,
	created_at_ms, updated_at_ms, sent_at_ms, lease_owner, lease_until_ms`

func scanMsgMessage(r msgScanner) (messaging.Message, error) {
	var m messaging.Message
	var ch, cat, lang, vars, st string
	var notBefore, expires, reservedAt, created, updated, sent, leaseUntil int64
	var reserved int
	err := r.Scan(&m.BrandID, &m.ID, &m.Key, &m.CampaignID, &m.MemberID, &m.Occurrence, &ch, &cat, &m.TemplateID, &lang,
		&vars, &m.To, &notBefore, &expires, &st, &m.Reason, &m.Attempts, &m.ProviderID, &reserved, &reservedAt,
		&created, &updated, &sent, &m.LeaseOwner, &leaseUntil)
	if err != nil {
		return m, err
	}
	m.Channel, m.Category, m.Lang, m.Status = messaging.Channel(ch), messaging.Category(cat), messaging.Lang(lang), messaging.Status(st)
	m.NotBefore, m.ExpiresAt, m.ReservedAt = msgFromMS(notBefore), msgFromMS(expires), msgFromMS(reservedAt)
	m.CreatedAt, m.UpdatedAt, m.SentAt, m.LeaseUntil = msgFromMS(created), msgFromMS(updated), msgFromMS(sent), msgFromMS(leaseUntil)
	m.Reserved = reserved == 1
	if vars != "" && vars != "null" {
		if err := json.Unmarshal([]byte(vars), &m.Vars); err != nil {
			return m, fmt.Errorf("message %s vars: %w", m.ID, err)
		}
	}
	return m, nil
}

const msgHistoryInsert = `INSERT INTO msg_history (brand_id, message_id, at_ms, seq, status, reason)
	SELECT ?, ?, ?, COALESCE(MAX(seq), 0) + 1, ?, ? FROM msg_history WHERE brand_id = ? AND message_id = ?`

// msgBatchTx is a transaction with its statements prepared once: parsing SQL
// costs SQLite more than running it.
type msgBatchTx struct {
	*sql.Tx
	s     *MessagingStore
	stmts map[string]*sql.Stmt
}

func (s *MessagingStore) begin(ctx context.Context) (*msgBatchTx, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &msgBatchTx{Tx: tx, s: s, stmts: map[string]*sql.Stmt{}}, nil
}

func (b *msgBatchTx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := b.stmts[q]; ok {
		return st, nil
	}
	st, err := b.PrepareContext(ctx, b.s.rebind(q))
	if err != nil {
		return nil, err
	}
	b.stmts[q] = st
	return st, nil
}

func (b *msgBatchTx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := b.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (b *msgBatchTx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := b.stmt(ctx, q)
	if err != nil {
		// Scan reports it: a Row made from a failed query.
		return b.QueryRowContext(ctx, b.s.rebind(q), args...)
	}
	return st.QueryRowContext(ctx, args...)
}

func (s *MessagingStore) addHistory(ctx context.Context, tx *msgBatchTx, brand, id string, at time.Time, st messaging.Status, reason string) error {
	if _, err := tx.exec(ctx, msgHistoryInsert, brand, id, msgMS(at), string(st), reason, brand, id); err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return nil
}

// Enqueue inserts a message unless its key exists.
func (s *MessagingStore) Enqueue(ctx context.Context, m messaging.Message) (messaging.Message, bool, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return m, false, fmt.Errorf("enqueue: %w", err)
	}
	defer tx.Rollback()
	stored, created, err := s.enqueue(ctx, tx, m)
	if err != nil {
		return m, false, err
	}
	if err := tx.Commit(); err != nil {
		return m, false, fmt.Errorf("enqueue: commit: %w", err)
	}
	return stored, created, nil
}

// EnqueueBatch inserts many messages in one transaction; those whose key
// exists are left as they are.
func (s *MessagingStore) EnqueueBatch(ctx context.Context, ms []messaging.Message) (created int, err error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("enqueue batch: %w", err)
	}
	defer tx.Rollback()
	for _, m := range ms {
		_, ok, err := s.enqueue(ctx, tx, m)
		if err != nil {
			return 0, err
		}
		if ok {
			created++
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("enqueue batch: commit: %w", err)
	}
	return created, nil
}

func (s *MessagingStore) enqueue(ctx context.Context, tx *msgBatchTx, m messaging.Message) (messaging.Message, bool, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return m, false, err
	}
	m.ID = id.String()
	vars, err := json.Marshal(m.Vars)
	if err != nil {
		return m, false, err
	}
	var got string
	err = tx.queryRow(ctx, (`INSERT INTO msg_messages (` + msgCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (brand_id, msg_key) DO NOTHING RETURNING message_id`),
		m.BrandID, m.ID, m.Key, m.CampaignID, m.MemberID, m.Occurrence, string(m.Channel), string(m.Category), m.TemplateID, string(m.Lang),
		string(vars), m.To, msgMS(m.NotBefore), msgMS(m.ExpiresAt), string(m.Status), m.Reason, m.Attempts, m.ProviderID, msgB2I(m.Reserved), msgMS(m.ReservedAt),
		msgMS(m.CreatedAt), msgMS(m.UpdatedAt), msgMS(m.SentAt), "", 0).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		old, err := scanMsgMessage(tx.queryRow(ctx, `SELECT `+msgCols+` FROM msg_messages WHERE brand_id = ? AND msg_key = ?`, m.BrandID, m.Key))
		if err != nil {
			return m, false, fmt.Errorf("enqueue: read existing: %w", err)
		}
		return old, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("enqueue: insert: %w", err)
	}
	if err := s.addHistory(ctx, tx, m.BrandID, m.ID, m.CreatedAt, m.Status, ""); err != nil {
		return m, false, err
	}
	return m, true, nil
}

// Claim leases due messages.
func (s *MessagingStore) Claim(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]messaging.Message, error) {
	lock := ""
	if s.engine == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(`UPDATE msg_messages SET lease_owner = ?, lease_until_ms = ?
		WHERE (brand_id, message_id) IN (
			SELECT brand_id, message_id FROM msg_messages
			WHERE status IN ('queued', 'held_quiet_hours', 'sending') AND not_before_ms <= ? AND lease_until_ms <= ?
			ORDER BY not_before_ms LIMIT ?`+lock+`)
		RETURNING `+msgCols), owner, msgMS(now.Add(lease)), msgMS(now), msgMS(now), limit)
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	defer rows.Close()
	var out []messaging.Message
	for rows.Next() {
		m, err := scanMsgMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("claim: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Reserve counts messages against their members' caps and marks them
// sending, one transaction for the batch.
func (s *MessagingStore) Reserve(ctx context.Context, owner string, now time.Time, rs []messaging.Reservation) ([]messaging.ReserveResult, error) {
	out := make([]messaging.ReserveResult, len(rs))
	if len(rs) == 0 {
		return out, nil
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("reserve: %w", err)
	}
	defer tx.Rollback()
	// Take the members' locks in one order in every transaction, so two
	// dispatchers reserving for the same members cannot deadlock.
	order := make([]int, len(rs))
	for i := range order {
		order[i] = i
	}
	key := func(i int) string {
		m := rs[i].Message
		return m.BrandID + "|" + m.MemberID + "|" + string(m.Channel)
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(key(a), key(b)) })
	for _, i := range order {
		if out[i], err = s.reserve(ctx, tx, owner, now, rs[i]); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("reserve: commit: %w", err)
	}
	return out, nil
}

func (s *MessagingStore) reserve(ctx context.Context, tx *msgBatchTx, owner string, now time.Time, r messaging.Reservation) (messaging.ReserveResult, error) {
	m := r.Message
	if s.engine == Postgres {
		// One member's channel at a time: two dispatchers must not both
		// see room for one more message. Held to the commit.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 14))`,
			m.BrandID+"|"+m.MemberID+"|"+string(m.Channel)); err != nil {
			return messaging.ReserveResult{}, fmt.Errorf("reserve: lock: %w", err)
		}
	}
	var leaseOwner string
	var reserved int
	err := tx.queryRow(ctx, `SELECT lease_owner, reserved FROM msg_messages WHERE brand_id = ? AND message_id = ?`,
		m.BrandID, m.ID).Scan(&leaseOwner, &reserved)
	if err != nil {
		return messaging.ReserveResult{}, fmt.Errorf("reserve: read message: %w", err)
	}
	if leaseOwner != owner {
		return messaging.ReserveResult{LeaseLost: true}, nil
	}
	day := 0
	if reserved == 0 {
		since := r.DayStart
		if r.PerWeek > 0 && r.WeekStart.Before(r.DayStart) {
			since = r.WeekStart
		}
		var week int
		err := tx.queryRow(ctx, `SELECT COALESCE(SUM(CASE WHEN reserved_at_ms >= ? THEN 1 ELSE 0 END), 0), COUNT(*)
			FROM msg_messages WHERE brand_id = ? AND member_id = ? AND channel = ? AND category = ? AND reserved = 1 AND reserved_at_ms >= ?`,
			msgMS(r.DayStart), m.BrandID, m.MemberID, string(m.Channel), string(m.Category), msgMS(since)).Scan(&day, &week)
		if err != nil {
			return messaging.ReserveResult{}, fmt.Errorf("reserve: count: %w", err)
		}
		if day >= r.PerDay || (r.PerWeek > 0 && week >= r.PerWeek) {
			return messaging.ReserveResult{DayCount: day}, nil
		}
	}
	_, err = tx.exec(ctx, `UPDATE msg_messages SET status = 'sending', reserved = 1,
		reserved_at_ms = CASE WHEN reserved = 1 THEN reserved_at_ms ELSE ? END, to_addr = ?, updated_at_ms = ?
		WHERE brand_id = ? AND message_id = ?`, msgMS(now), m.To, msgMS(now), m.BrandID, m.ID)
	if err != nil {
		return messaging.ReserveResult{}, fmt.Errorf("reserve: update: %w", err)
	}
	if err := s.addHistory(ctx, tx, m.BrandID, m.ID, now, messaging.StatusSending, ""); err != nil {
		return messaging.ReserveResult{}, err
	}
	return messaging.ReserveResult{OK: true, DayCount: day}, nil
}

// Finish records leased messages' outcomes, one transaction for the batch.
func (s *MessagingStore) Finish(ctx context.Context, owner string, now time.Time, msgs []messaging.Message) ([]string, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("finish: %w", err)
	}
	defer tx.Rollback()
	var lost []string
	for _, m := range msgs {
		res, err := tx.exec(ctx, `UPDATE msg_messages SET status = ?, reason = ?, not_before_ms = ?, attempts = ?,
			provider_id = ?, sent_at_ms = ?, reserved = ?, reserved_at_ms = ?, to_addr = ?, lease_owner = '', lease_until_ms = 0,
			updated_at_ms = ? WHERE brand_id = ? AND message_id = ? AND lease_owner = ?`,
			string(m.Status), m.Reason, msgMS(m.NotBefore), m.Attempts, m.ProviderID, msgMS(m.SentAt), msgB2I(m.Reserved), msgMS(m.ReservedAt), m.To,
			msgMS(now), m.BrandID, m.ID, owner)
		if err != nil {
			return nil, fmt.Errorf("finish: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("finish: %w", err)
		} else if n == 0 {
			lost = append(lost, m.ID)
			continue
		}
		if err := s.addHistory(ctx, tx, m.BrandID, m.ID, now, m.Status, m.Reason); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("finish: commit: %w", err)
	}
	return lost, nil
}

// Message reads one message.
func (s *MessagingStore) Message(ctx context.Context, brand, id string) (messaging.Message, error) {
	m, err := scanMsgMessage(s.read.QueryRowContext(ctx, s.rebind(`SELECT `+msgCols+` FROM msg_messages WHERE brand_id = ? AND message_id = ?`), brand, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, cloud.Errorf(cloud.NotFound, "no message %s", id)
	}
	if err != nil {
		return m, fmt.Errorf("read message: %w", err)
	}
	return m, nil
}

// MemberMessages lists a member's messages, newest first.
func (s *MessagingStore) MemberMessages(ctx context.Context, brand, member string, limit int) ([]messaging.Message, error) {
	rows, err := s.read.QueryContext(ctx, s.rebind(`SELECT `+msgCols+` FROM msg_messages WHERE brand_id = ? AND member_id = ?
		ORDER BY created_at_ms DESC, message_id DESC LIMIT ?`), brand, member, limit)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	defer rows.Close()
	var out []messaging.Message
	for rows.Next() {
		m, err := scanMsgMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("list messages: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// History lists a message's status changes.
func (s *MessagingStore) History(ctx context.Context, brand, id string) ([]messaging.StatusChange, error) {
	rows, err := s.read.QueryContext(ctx, s.rebind(`SELECT at_ms, status, reason FROM msg_history WHERE brand_id = ? AND message_id = ? ORDER BY seq`), brand, id)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	defer rows.Close()
	var out []messaging.StatusChange
	for rows.Next() {
		var at int64
		var st string
		c := messaging.StatusChange{BrandID: brand, MessageID: id}
		if err := rows.Scan(&at, &st, &c.Reason); err != nil {
			return nil, fmt.Errorf("read history: %w", err)
		}
		c.At, c.Status = msgFromMS(at), messaging.Status(st)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Receipt applies a delivery report.
func (s *MessagingStore) Receipt(ctx context.Context, ch messaging.Channel, providerID, messageID string, delivered bool, reason string, at time.Time) (messaging.Message, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return messaging.Message{}, fmt.Errorf("receipt: %w", err)
	}
	defer tx.Rollback()
	st := messaging.StatusDelivered
	if !delivered {
		st = messaging.StatusFailed
	}
	err = sql.ErrNoRows
	var m messaging.Message
	if providerID != "" {
		m, err = scanMsgMessage(tx.QueryRowContext(ctx, s.rebind(`UPDATE msg_messages SET status = ?, reason = ?, updated_at_ms = ?
			WHERE channel = ? AND provider_id = ? AND status IN ('sent', 'delivered', 'failed') RETURNING `+msgCols),
			string(st), reason, msgMS(at), string(ch), providerID))
	}
	if errors.Is(err, sql.ErrNoRows) && messageID != "" {
		m, err = scanMsgMessage(tx.QueryRowContext(ctx, s.rebind(`UPDATE msg_messages SET status = ?, reason = ?, updated_at_ms = ?,
			provider_id = CASE WHEN provider_id = '' THEN ? ELSE provider_id END
			WHERE message_id = ? AND channel = ? AND status IN ('sent', 'delivered', 'failed') RETURNING `+msgCols),
			string(st), reason, msgMS(at), providerID, messageID, string(ch)))
	}
	if errors.Is(err, sql.ErrNoRows) {
		return m, cloud.Errorf(cloud.NotFound, "no message sent as %s on %s", providerID, ch)
	}
	if err != nil {
		return m, fmt.Errorf("receipt: %w", err)
	}
	if err := s.addHistory(ctx, tx, m.BrandID, m.ID, at, st, reason); err != nil {
		return m, err
	}
	return m, tx.Commit()
}

// Counts counts a brand's messages by status.
func (s *MessagingStore) Counts(ctx context.Context, brand string) (map[messaging.Status]int, error) {
	rows, err := s.read.QueryContext(ctx, s.rebind(`SELECT status, COUNT(*) FROM msg_messages WHERE brand_id = ? GROUP BY status`), brand)
	if err != nil {
		return nil, fmt.Errorf("count messages: %w", err)
	}
	defer rows.Close()
	out := map[messaging.Status]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count messages: %w", err)
		}
		out[messaging.Status(st)] = n
	}
	return out, rows.Err()
}
