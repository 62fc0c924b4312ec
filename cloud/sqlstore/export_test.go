package sqlstore

import (
	"context"
	"fmt"
	"sort"
)

// MigrateWith applies this binary's migrations plus extra ones (version to
// SQL), as a newer binary would on start.
func (d *DB) MigrateWith(ctx context.Context, extra map[int]string) error {
	steps, err := migrations(d.engine)
	if err != nil {
		return err
	}
	for v, sql := range extra {
		steps = append(steps, migration{version: v, name: fmt.Sprintf("%04d_test.sql", v), sql: schemaFor(d.engine, sql)})
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i].version < steps[j].version })
	return d.apply(ctx, steps)
}
