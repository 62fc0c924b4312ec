package sqlstore

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/memberpass/memberpass/cloud/fleet"
)

// The cloud's fleet view keeps each device's latest health report in
// device_health (migration 0500); DB implements fleet.Store.
var _ fleet.Store = (*DB)(nil)

// PutHealth implements fleet.Store.
func (d *DB) PutHealth(ctx context.Context, r fleet.Record) error {
	rep := r.Report
	peripherals := js(rep.Devices)
	_, err := d.write.ExecContext(ctx, `insert into device_health
		(brand_id, device_id, store_id, reported_at, version, outbox_pending, last_seq, acked_seq, replica_synced_at, disk_free_bytes, agent_time, last_sync_error, peripherals)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		on conflict (brand_id, device_id) do update set
			store_id = excluded.store_id, reported_at = excluded.reported_at, version = excluded.version,
			outbox_pending = excluded.outbox_pending, last_seq = excluded.last_seq, acked_seq = excluded.acked_seq,
			replica_synced_at = excluded.replica_synced_at, disk_free_bytes = excluded.disk_free_bytes,
			agent_time = excluded.agent_time, last_sync_error = excluded.last_sync_error, peripherals = excluded.peripherals`,
		r.BrandID, r.DeviceID, r.StoreID, nts(r.ReportedAt), rep.Version, i63(rep.OutboxPending), i63(rep.LastSeq), i63(rep.AckedSeq),
		nts(rep.ReplicaSyncedAt), i63(rep.DiskFreeBytes), nts(rep.AgentTime), rep.LastSyncError, peripherals)
	if err != nil {
		return fmt.Errorf("sqlstore: put health of device %s/%s: %w", r.BrandID, r.DeviceID, err)
	}
	return nil
}

// NoteSeqBehind implements fleet.Store.
func (d *DB) NoteSeqBehind(ctx context.Context, brand, store, device string, at time.Time) error {
	_, err := d.write.ExecContext(ctx, `insert into device_health (brand_id, device_id, store_id, seq_behind_at)
		values ($1, $2, $3, $4)
		on conflict (brand_id, device_id) do update set seq_behind_at = excluded.seq_behind_at`,
		brand, device, store, ts(at))
	if err != nil {
		return fmt.Errorf("sqlstore: note seq regression of device %s/%s: %w", brand, device, err)
	}
	return nil
}

// Health implements fleet.Store.
func (d *DB) Health(ctx context.Context, brand string) ([]fleet.Record, error) {
	rows, err := d.read.QueryContext(ctx, `select device_id, store_id, reported_at, version, outbox_pending, last_seq, acked_seq,
		replica_synced_at, disk_free_bytes, agent_time, last_sync_error, peripherals, seq_behind_at
		from device_health where brand_id = $1 order by device_id`, brand)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read health of brand %s: %w", brand, err)
	}
	defer rows.Close()
	var out []fleet.Record
	for rows.Next() {
		r := fleet.Record{BrandID: brand}
		var pending, last, acked, disk int64
		if err := rows.Scan(&r.DeviceID, &r.StoreID, tm{&r.ReportedAt}, &r.Report.Version, &pending, &last, &acked,
			tm{&r.Report.ReplicaSyncedAt}, &disk, tm{&r.Report.AgentTime}, &r.Report.LastSyncError, jsonCol{&r.Report.Devices}, tm{&r.SeqBehindAt}); err != nil {
			return nil, fmt.Errorf("sqlstore: read health of brand %s: %w", brand, err)
		}
		r.Report.OutboxPending, r.Report.LastSeq, r.Report.AckedSeq, r.Report.DiskFreeBytes = uint64(pending), uint64(last), uint64(acked), uint64(disk)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: read health of brand %s: %w", brand, err)
	}
	return out, nil
}

// i63 stores a count in a bigint column, capped rather than wrapped.
func i63(n uint64) int64 { return int64(min(n, math.MaxInt64)) }
