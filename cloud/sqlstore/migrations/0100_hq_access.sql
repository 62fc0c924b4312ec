-- HQ access (issue 11): API tokens with a role, per brand (brand_id '' for
-- platform operators, who span brands), kept as SHA-256 hashes; and the
-- append-only audit log of every change HQ makes.
create table hq_tokens (
	brand_id    text not null,
	token_id    text not null,
	account     text not null,
	role        text not null check (role in ('platform', 'owner', 'marketing', 'finance', 'store_manager', 'auditor')),
	store_ids   jsonb,
	token_hash  bytea not null,
	created_at  timestamptz not null,
	created_by  text not null,
	expires_at  timestamptz,
	revoked_at  timestamptz,
	primary key (brand_id, token_id)
);
create unique index hq_tokens_hash on hq_tokens (token_hash);

create table hq_audit_log (
	brand_id    text not null,
	seq         bigint not null,
	at          timestamptz not null,
	account     text not null,
	token_id    text not null,
	action      text not null,
	target      text,
	request     text,
	before      text,
	after       text,
	primary key (brand_id, seq)
);
