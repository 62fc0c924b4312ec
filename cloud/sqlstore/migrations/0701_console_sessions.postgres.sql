-- Console sessions, kept by scs's postgresstore (its schema). The token is
-- looked up before the brand is known, like a pairing code; the brand is
-- inside the session's data.
create table console_sessions (
	token  text primary key,
	data   bytea not null,
	expiry timestamptz not null
);
create index console_sessions_expiry on console_sessions (expiry);
