-- The latest health report of each device (cloud/fleet): what HQ's fleet
-- view and the Prometheus gauges read. One row per device, overwritten.
create table device_health (
	brand_id         text not null,
	device_id        text not null,
	store_id         text not null,
	reported_at      timestamptz,
	version          text not null default '',
	outbox_pending   bigint not null default 0,
	last_seq         bigint not null default 0,
	acked_seq        bigint not null default 0,
	replica_synced_at timestamptz,
	disk_free_bytes  bigint not null default 0,
	agent_time       timestamptz,
	last_sync_error  text not null default '',
	-- The serial devices: [{"name","kind","connected","last_error","frames"}].
	peripherals      jsonb,
	-- When a push collided with held seqs (restored from an old backup).
	seq_behind_at    timestamptz,
	primary key (brand_id, device_id)
);
