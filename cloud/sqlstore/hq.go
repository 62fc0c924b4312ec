package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/sqlite3store"
	"github.com/alexedwards/scs/v2"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/hq"
)

// UpdateHQ implements hq.Store: fn sees the books and HQ's records in one
// read-write transaction, so a change and its audit entry commit together.
func (d *DB) UpdateHQ(ctx context.Context, fn func(hq.Tx) error) error {
	return d.Update(ctx, func(t cloud.Tx) error { return fn(t.(*tx)) })
}

// ViewHQ implements hq.Store.
func (d *DB) ViewHQ(ctx context.Context, fn func(hq.Tx) error) error {
	return d.View(ctx, func(t cloud.Tx) error { return fn(t.(*tx)) })
}

// SessionStore is where the console's sessions live (table
// console_sessions), through scs's own store for the engine; both speak
// plain database/sql, so no other driver comes in. cleanup is how often
// expired sessions are deleted (0: never); stop ends that.
func (d *DB) SessionStore(cleanup time.Duration) (store scs.Store, stop func()) {
	if d.engine == Postgres {
		s := postgresstore.NewWithConfig(d.write, postgresstore.Config{TableName: "console_sessions", CleanUpInterval: cleanup})
		return s, func() {
			if cleanup > 0 {
				s.StopCleanup()
			}
		}
	}
	s := sqlite3store.NewWithConfig(d.write, sqlite3store.Config{TableName: "console_sessions", CleanUpInterval: cleanup})
	return s, func() {
		if cleanup > 0 {
			s.StopCleanup()
		}
	}
}

var _ hq.Store = (*DB)(nil)
var _ hq.Tx = (*tx)(nil)

const accountCols = `brand_id, login, name, role, store_ids, password_hash, failures, locked_until, session_gen, disabled, created_at`

func (t *tx) Account(brand, login string) (hq.Account, error) {
	var a hq.Account
	var role string
	found, err := t.one("read account", `select `+accountCols+` from console_accounts where brand_id = $1 and login = $2`, []any{brand, login},
		&a.BrandID, &a.Login, &a.Name, &role, jsonCol{&a.StoreIDs}, &a.PasswordHash, &a.Failures, tm{&a.LockedUntil}, u64{&a.SessionGen}, boolean{&a.Disabled}, tm{&a.CreatedAt})
	if err != nil {
		return a, err
	}
	if !found {
		return a, notFound("account %q", login)
	}
	a.Role = hq.Role(role)
	return a, nil
}

func (t *tx) PutAccount(a hq.Account) error {
	_, err := t.exec("write account", `insert into console_accounts (`+accountCols+`) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		on conflict (brand_id, login) do update set name = excluded.name, role = excluded.role, store_ids = excluded.store_ids,
			password_hash = excluded.password_hash, failures = excluded.failures, locked_until = excluded.locked_until,
			session_gen = excluded.session_gen, disabled = excluded.disabled`,
		a.BrandID, a.Login, a.Name, string(a.Role), js(a.StoreIDs), a.PasswordHash, a.Failures, nts(a.LockedUntil), int64(a.SessionGen), a.Disabled, ts(a.CreatedAt))
	return err
}

func (t *tx) Accounts(brand string) ([]hq.Account, error) {
	var out []hq.Account
	err := t.query("list accounts", `select `+accountCols+` from console_accounts where brand_id = $1 order by login`, []any{brand}, func(r *sql.Rows) error {
		var a hq.Account
		var role string
		err := r.Scan(&a.BrandID, &a.Login, &a.Name, &role, jsonCol{&a.StoreIDs}, &a.PasswordHash, &a.Failures, tm{&a.LockedUntil}, u64{&a.SessionGen}, boolean{&a.Disabled}, tm{&a.CreatedAt})
		a.Role = hq.Role(role)
		out = append(out, a)
		return err
	})
	return out, err
}

// Audit writes to the trust work's audit log (hq_audit_log); a console
// entry's token is "console" (a person signed in, not an API token).
func (t *tx) Audit(e hq.AuditEntry) (hq.AuditEntry, error) {
	if e.TokenID == "" {
		e.TokenID = "console"
	}
	return t.AppendAudit(e)
}

func (t *tx) AuditEntries(brand string, f hq.AuditFilter) ([]hq.AuditEntry, error) {
	where := []string{"brand_id = $1"}
	args := []any{brand}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.Account != "" {
		add("account = ?", f.Account)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Target != "" {
		add("target like ? escape '\\'", likePrefix(f.Target))
	}
	if !f.Since.IsZero() {
		add("at >= ?", ts(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", ts(f.Until))
	}
	if f.Before > 0 {
		add("seq < ?", int64(f.Before))
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	args = append(args, limit)
	var out []hq.AuditEntry
	err := t.query("read audit log", `select seq, at, account, token_id, action, target, request, before, after from hq_audit_log
		where `+strings.Join(where, " and ")+fmt.Sprintf(` order by seq desc limit $%d`, len(args)), args, func(r *sql.Rows) error {
		e := hq.AuditEntry{BrandID: brand}
		err := r.Scan(u64{&e.Seq}, tm{&e.At}, &e.Account, str{&e.TokenID}, &e.Action, str{&e.Target}, str{&e.Request}, str{&e.Before}, str{&e.After})
		out = append(out, e)
		return err
	})
	return out, err
}

// likePrefix is a LIKE pattern matching strings that start with s.
func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}

// likeContains is a LIKE pattern matching strings that contain s.
func likeContains(s string) string {
	return "%" + likePrefix(s)
}

func (t *tx) AddNote(n hq.Note) (hq.Note, error) {
	seq, err := t.NextSeq(n.BrandID, "member_note")
	if err != nil {
		return n, err
	}
	n.Seq = seq
	_, err = t.exec("add note", `insert into member_notes (brand_id, member_id, seq, at, account, kind, body, tags) values ($1, $2, $3, $4, $5, $6, $7, $8)`,
		n.BrandID, n.MemberID, int64(seq), ts(n.At), n.Account, n.Kind, n.Text, js(n.Tags))
	return n, err
}

func (t *tx) Notes(brand, memberID string) ([]hq.Note, error) {
	var out []hq.Note
	err := t.query("read notes", `select seq, at, account, kind, body, tags from member_notes where brand_id = $1 and member_id = $2 order by seq desc`,
		[]any{brand, memberID}, func(r *sql.Rows) error {
			n := hq.Note{BrandID: brand, MemberID: memberID}
			err := r.Scan(u64{&n.Seq}, tm{&n.At}, &n.Account, &n.Kind, &n.Text, jsonCol{&n.Tags})
			out = append(out, n)
			return err
		})
	return out, err
}

func (t *tx) PutResolution(r hq.Resolution) error {
	res, err := t.exec("resolve conflict", `insert into conflict_resolutions (brand_id, conflict_seq, action, note, account, at) values ($1, $2, $3, $4, $5, $6)
		on conflict (brand_id, conflict_seq) do nothing`,
		r.BrandID, int64(r.ConflictSeq), r.Action, r.Note, r.Account, ts(r.At))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return cloud.Errorf(cloud.Conflict, "conflict %d is already resolved", r.ConflictSeq)
	}
	return nil
}

func (t *tx) Resolutions(brand string, seqs []uint64) (map[uint64]hq.Resolution, error) {
	out := map[uint64]hq.Resolution{}
	if len(seqs) == 0 {
		return out, nil
	}
	args := []any{brand}
	for _, s := range seqs {
		args = append(args, int64(s))
	}
	err := t.query("read resolutions", `select conflict_seq, action, note, account, at from conflict_resolutions
		where brand_id = $1 and conflict_seq in (`+numbered(2, len(seqs))+`)`, args, func(r *sql.Rows) error {
		res := hq.Resolution{BrandID: brand}
		err := r.Scan(u64{&res.ConflictSeq}, &res.Action, &res.Note, &res.Account, tm{&res.At})
		out[res.ConflictSeq] = res
		return err
	})
	return out, err
}

// inStores is the condition "member m joined at or was seen at one of the
// stores", with the stores' placeholders from $from.
func inStores(from int, stores []string) string {
	if len(stores) == 0 {
		return "false"
	}
	list := numbered(from, len(stores))
	return `(m.source_store_id in (` + list + `) or exists (select 1 from events e
		where e.brand_id = m.brand_id and e.member_id = m.member_id and e.store_id in (` + list + `)))`
}

func (t *tx) SearchMembers(brand string, q hq.MemberQuery) ([]cloud.Member, error) {
	text := strings.TrimSpace(q.Text)
	limit := q.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	args := []any{brand}
	cond := "true"
	if text != "" {
		args = append(args, text, likeContains(strings.ToLower(text)))
		cond = `(m.phone = $2 or m.member_id = $2 or lower(m.name) like $3 escape '\'
			or exists (select 1 from cards c where c.brand_id = m.brand_id and c.number = $2 and c.member_id = m.member_id))`
	}
	if q.Stores != nil {
		cond += " and " + inStores(len(args)+1, q.Stores)
		args = ids(args, q.Stores)
	}
	args = append(args, limit)
	var found []string
	err := t.query("search members", `select m.member_id from members m where m.brand_id = $1 and m.merged_into is null and `+cond+
		fmt.Sprintf(` order by m.created_at desc, m.member_id limit $%d`, len(args)), args, func(r *sql.Rows) error {
		var id string
		err := r.Scan(&id)
		found = append(found, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	byID, err := t.MembersByIDs(brand, found)
	if err != nil {
		return nil, err
	}
	out := make([]cloud.Member, 0, len(found))
	for _, id := range found {
		out = append(out, byID[id])
	}
	return out, nil
}

func (t *tx) MemberInStores(brand, memberID string, stores []string) (bool, error) {
	var n int64
	_, err := t.one("check member's stores", `select count(*) from members m where m.brand_id = $1 and m.member_id = $2 and `+inStores(3, stores),
		ids([]any{brand, memberID}, stores), &n)
	return n > 0, err
}

func (t *tx) MemberEvents(brand, memberID string, limit int) ([]cloud.StoredEvent, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var out []cloud.StoredEvent
	err := t.query("read member's events", `select `+eventCols+` from events where brand_id = $1 and member_id = $2 order by occurred_at desc limit $3`,
		[]any{brand, memberID, limit}, func(r *sql.Rows) error {
			e, _, err := scanEvent(r)
			out = append(out, e)
			return err
		})
	return out, err
}

// hourOf is the SQL for a time column's UTC hour as 'YYYY-MM-DD HH'.
func (t *tx) hourOf(col string) string {
	if t.e == Postgres {
		return `to_char(` + col + ` at time zone 'UTC', 'YYYY-MM-DD HH24')`
	}
	return `substr(` + col + `, 1, 13)`
}

// Figures groups by UTC hour in SQL and folds hours into the brand's days
// here, so one query serves both engines and any whole-hour zone.
func (t *tx) Figures(brand string, from, to time.Time, loc *time.Location, stores []string) ([]hq.DayFigures, error) {
	type key struct{ day, store string }
	acc := map[key]*hq.DayFigures{}
	get := func(hour, store string) (*hq.DayFigures, error) {
		h, err := time.Parse("2006-01-02 15", hour)
		if err != nil {
			return nil, fmt.Errorf("hour %q: %w", hour, err)
		}
		k := key{h.In(loc).Format(time.DateOnly), store}
		if acc[k] == nil {
			acc[k] = &hq.DayFigures{Day: k.day, StoreID: store}
		}
		return acc[k], nil
	}
	args := []any{brand, ts(from), ts(to)}
	storeCond := ""
	if stores != nil {
		if len(stores) == 0 {
			return nil, nil
		}
		storeCond = " and store_id in (" + numbered(4, len(stores)) + ")"
		args = ids(args, stores)
	}
	err := t.query("sum events by hour", `select `+t.hourOf("occurred_at")+` as h, store_id, kind, count(*), coalesce(sum(net_fen), 0), coalesce(sum(amount_fen), 0)
		from events where brand_id = $1 and occurred_at >= $2 and occurred_at < $3 and outcome = 'applied'`+storeCond+`
		group by h, store_id, kind`, args, func(r *sql.Rows) error {
		var hour, store, kind string
		var n, net, amount int64
		if err := r.Scan(&hour, &store, &kind, &n, &net, &amount); err != nil {
			return err
		}
		f, err := get(hour, store)
		if err != nil {
			return err
		}
		switch cloud.EventKind(kind) {
		case cloud.EventVisit:
			f.Visits += n
		case cloud.EventPurchase:
			f.Purchases += n
			f.NetFen += net
		case cloud.EventTopUp:
			f.TopUps += n
			f.TopUpFen += amount
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	memberStoreCond := strings.ReplaceAll(storeCond, "store_id", "source_store_id")
	err = t.query("count new members by hour", `select `+t.hourOf("created_at")+` as h, coalesce(source_store_id, ''), count(*)
		from members where brand_id = $1 and created_at >= $2 and created_at < $3`+memberStoreCond+`
		group by h, source_store_id`, args, func(r *sql.Rows) error {
		var hour, store string
		var n int64
		if err := r.Scan(&hour, &store, &n); err != nil {
			return err
		}
		f, err := get(hour, store)
		if err != nil {
			return err
		}
		f.NewMembers += n
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]hq.DayFigures, 0, len(acc))
	for _, f := range acc {
		out = append(out, *f)
	}
	return out, nil
}

func (t *tx) Stores(brand string) ([]cloud.Store, error) {
	var out []cloud.Store
	err := t.query("list stores", `select store_id, name, created_at from stores where brand_id = $1 order by store_id`, []any{brand}, func(r *sql.Rows) error {
		s := cloud.Store{BrandID: brand}
		err := r.Scan(&s.ID, &s.Name, tm{&s.CreatedAt})
		out = append(out, s)
		return err
	})
	return out, err
}

func (t *tx) ProgrammeVersions(brand string, limit int) ([]hq.ProgrammeVersion, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var out []hq.ProgrammeVersion
	err := t.query("list programme versions", `select version, programme, created_at from programme_versions where brand_id = $1 order by version desc limit $2`,
		[]any{brand, limit}, func(r *sql.Rows) error {
			var v hq.ProgrammeVersion
			err := r.Scan(u64{&v.Version}, jsonCol{&v.Programme}, tm{&v.CreatedAt})
			out = append(out, v)
			return err
		})
	return out, err
}

// numbered returns "$from, ..., $from+n-1". HQ's lists are short (a
// principal's stores, a page of conflicts), and a list used twice in one
// statement must name the same parameters, which anonymous ? cannot.
func numbered(from, n int) string {
	b := make([]byte, 0, n*5)
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = fmt.Appendf(b, "$%d", from+i)
	}
	return string(b)
}
