package sqlstore

import (
	"fmt"
	"strings"
)

// params collects a query's arguments as it is written, so every value
// from HQ is a parameter ($n) and never part of the SQL text. The brand is
// always the first ($1).
type params struct {
	args []any
}

func newParams(brand string) *params { return &params{args: []any{brand}} }

// add appends v and returns its placeholder.
func (p *params) add(v any) string {
	p.args = append(p.args, v)
	return fmt.Sprintf("$%d", len(p.args))
}

// list appends each value and returns "$a, $b, ...".
func (p *params) list(vs []string) string {
	ph := make([]string, len(vs))
	for i, v := range vs {
		ph[i] = p.add(v)
	}
	return strings.Join(ph, ", ")
}

// jsonArrayHasAny is a condition: the JSON array column col holds one of
// the values in.
func (e Engine) jsonArrayHasAny(col, in string) string {
	if e == Postgres {
		return "exists (select 1 from jsonb_array_elements_text(" + col + ") j(v) where j.v in (" + in + "))"
	}
	return "exists (select 1 from json_each(" + col + ") j where j.value in (" + in + "))"
}

// daysBetween is the number of days from date a to date b (dates as
// 'YYYY-MM-DD' or date columns).
func (e Engine) daysBetween(a, b string) string {
	if e == Postgres {
		return "(cast(" + b + " as date) - cast(" + a + " as date))"
	}
	return "cast(julianday(" + b + ") - julianday(" + a + ") as integer)"
}

// localDay is the calendar date ('YYYY-MM-DD') of the time column col in
// the time zone named by the parameter tz.
func (e Engine) localDay(col, tz string) string {
	if e == Postgres {
		return "to_char(" + col + " at time zone " + tz + ", 'YYYY-MM-DD')"
	}
	return "mp_local_day(" + col + ", " + tz + ")"
}

// localMonth is the calendar month ('YYYY-MM') of col in zone tz.
func (e Engine) localMonth(col, tz string) string {
	return "substr(" + e.localDay(col, tz) + ", 1, 7)"
}

// asDate is a 'YYYY-MM-DD' text as a value comparable with a date column.
func (e Engine) asDate(expr string) string {
	if e == Postgres {
		return "cast(" + expr + " as date)"
	}
	return expr
}

// addDays is the date n (a parameter) days after the date expr, as text
// comparable with a date column.
func (e Engine) addDays(expr, n string) string {
	if e == Postgres {
		return "(cast(" + expr + " as date) + cast(" + n + " as integer))"
	}
	return "date(" + expr + ", '+' || " + n + " || ' days')"
}

// jsonInt is the integer at a path of object keys in a JSON column.
func (e Engine) jsonInt(col string, keys ...string) string {
	if e == Postgres {
		x := col
		for i, k := range keys {
			op := "->"
			if i == len(keys)-1 {
				op = "->>"
			}
			x += op + "'" + k + "'"
		}
		return "coalesce(cast(" + x + " as bigint), 0)"
	}
	path := "$"
	for _, k := range keys {
		path += "." + k
	}
	return "coalesce(json_extract(" + col + ", '" + path + "'), 0)"
}

// jsonStrings is a FROM item listing the strings of the JSON array at key
// of col (a table named before it), and the expression of each string.
func (e Engine) jsonStrings(col, key, alias string) (from, value string) {
	if e == Postgres {
		return "jsonb_array_elements_text(coalesce(" + col + "->'" + key + "', '[]'::jsonb)) as " + alias + "(v)", alias + ".v"
	}
	return "json_each(" + col + ", '$." + key + "') as " + alias, alias + ".value"
}

// float is expr as a floating-point number (sums of squares would
// overflow a bigint).
func (e Engine) float(expr string) string {
	return "cast(" + expr + " as double precision)"
}

// dayText is a date column as 'YYYY-MM-DD' text.
func (e Engine) dayText(col string) string {
	if e == Postgres {
		return "to_char(" + col + ", 'YYYY-MM-DD')"
	}
	return col
}
