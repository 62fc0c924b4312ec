package sqlstore

import (
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/memberpass/memberpass/cloud/messaging"
)

// MessagingStore is messaging.Store on the cloud's database: SQLite or
// PostgreSQL, tables msg_* (migrations/0200_messaging.sql). Queries are
// written with ? placeholders and rebound for PostgreSQL.
//
// Leases make the dispatcher safe to run in several processes and to kill
// at any moment: a message is claimed with an owner and a deadline, every
// later write checks the owner, and a message whose deadline passed while
// it was sending is handed to the next dispatcher as in doubt.
type MessagingStore struct {
	// db takes writes (SQLite's one writer connection); read takes reads.
	db, read *sql.DB
	engine   Engine
}

var _ messaging.Store = (*MessagingStore)(nil)

// Messaging returns the messaging tables of the database.
func (d *DB) Messaging() *MessagingStore {
	return &MessagingStore{db: d.write, read: d.read, engine: d.engine}
}

// rebind turns ? placeholders into $1, $2 ... for PostgreSQL.
func (s *MessagingStore) rebind(q string) string {
	if s.engine != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func msgMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func msgFromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func msgB2I(b bool) int {
	if b {
		return 1
	}
	return 0
}
