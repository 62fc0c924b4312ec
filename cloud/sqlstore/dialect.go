package sqlstore

import (
	"fmt"
	"regexp"
)

// Engine is a database the schema runs on.
type Engine string

// Engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// sqliteTypes are the PostgreSQL type names the migrations use that SQLite
// reads differently. timestamp (not timestamptz) is a type name the SQLite
// driver turns back into time.Time; every time is written in UTC.
var sqliteTypes = []struct {
	pg     *regexp.Regexp
	sqlite string
}{
	{regexp.MustCompile(`\bbytea\b`), "blob"},
	{regexp.MustCompile(`\btimestamptz\b`), "timestamp"},
	{regexp.MustCompile(`\bjsonb\b`), "text"},
}

// schemaFor rewrites a migration written in PostgreSQL's dialect for e.
func schemaFor(e Engine, ddl string) string {
	if e != SQLite {
		return ddl
	}
	for _, t := range sqliteTypes {
		ddl = t.pg.ReplaceAllString(ddl, t.sqlite)
	}
	return ddl
}

// forUpdate is the clause that locks the rows a query reads until the
// transaction ends; SQLite's single writer needs none.
func (e Engine) forUpdate() string {
	if e == Postgres {
		return " for update"
	}
	return ""
}

// placeholders returns n parameters numbered from `from` on, for IN lists
// and multi-row VALUES. The statement's earlier parameters must be $1 to
// $from-1. SQLite gets anonymous ? (numbered by position after the
// highest so far): its parser looks each $N up in a list, which made a
// statement of thousands of them quadratic.
func (e Engine) placeholders(from, n int) string {
	b := make([]byte, 0, n*5)
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		if e == SQLite {
			b = append(b, '?')
		} else {
			b = fmt.Appendf(b, "$%d", from+i)
		}
	}
	return string(b)
}
