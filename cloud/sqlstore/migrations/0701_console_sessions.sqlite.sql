-- Console sessions, kept by scs's sqlite3store (its schema: expiry is a
-- julian day). The token is looked up before the brand is known, like a
-- pairing code; the brand is inside the session's data.
create table console_sessions (
	token  text primary key,
	data   blob not null,
	expiry real not null
);
create index console_sessions_expiry on console_sessions (expiry);
