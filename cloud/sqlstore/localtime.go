package sqlstore

import (
	"database/sql/driver"
	"fmt"
	"sync"
	"time"

	"modernc.org/sqlite"
)

// SQLite has no time zone database, and reports count calendar days in the
// brand's zone (a zone may change its offset: daylight saving). So the
// SQLite connections get one function from Go's zone database:
//
//	mp_local_day(t, zone) -> 'YYYY-MM-DD', the date of time t in zone
//
// PostgreSQL does the same with to_char(t at time zone zone, ...); both
// give the same answer for every time and zone (tested). Registering is
// process-wide in the driver, so it is done once, here.
func init() {
	if err := sqlite.RegisterDeterministicScalarFunction("mp_local_day", 2, localDayFunc); err != nil {
		panic(fmt.Sprintf("sqlstore: register mp_local_day: %v", err))
	}
}

// zones caches loaded time zones by name: loading one reads the zone
// database, and a report calls the function once per row.
var zones sync.Map

func zone(name string) (*time.Location, error) {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, l)
	return l, nil
}

func localDayFunc(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	var t time.Time
	switch x := args[0].(type) {
	case nil:
		return nil, nil
	case time.Time:
		t = x
	case string:
		var err error
		if t, err = parseTime(x); err != nil {
			return nil, err
		}
	case []byte:
		var err error
		if t, err = parseTime(string(x)); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("mp_local_day: a time is wanted, got %T", x)
	}
	name, ok := args[1].(string)
	if !ok {
		return nil, fmt.Errorf("mp_local_day: a zone name is wanted, got %T", args[1])
	}
	loc, err := zone(name)
	if err != nil {
		return nil, fmt.Errorf("mp_local_day: %w", err)
	}
	return t.In(loc).Format(time.DateOnly), nil
}
