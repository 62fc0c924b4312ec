-- Messaging (issue 14): policies, templates, consents, messages and their
-- history. One schema for SQLite and PostgreSQL: times are Unix
-- milliseconds (0 = none), flags are SMALLINT 0/1. Keys begin with the
-- brand; the dispatcher's due index and the receipt index do not, as they
-- serve every brand at once.

CREATE TABLE msg_policies (
    brand_id              TEXT     NOT NULL PRIMARY KEY,
    time_zone             TEXT     NOT NULL,
    marketing_per_day     INTEGER  NOT NULL,
    marketing_per_week    INTEGER  NOT NULL,
    transactional_per_day INTEGER  NOT NULL,
    quiet_start           INTEGER  NOT NULL,
    quiet_end             INTEGER  NOT NULL,
    sms_sign_name         TEXT     NOT NULL,
    opt_out_text          TEXT     NOT NULL,
    webhook_url           TEXT     NOT NULL,
    webhook_secret        TEXT     NOT NULL,
    updated_at_ms         BIGINT   NOT NULL
);

CREATE TABLE msg_templates (
    brand_id             TEXT   NOT NULL,
    template_id          TEXT   NOT NULL,
    name                 TEXT   NOT NULL,
    channel              TEXT   NOT NULL,
    category             TEXT   NOT NULL,
    text_zh              TEXT   NOT NULL,
    text_en              TEXT   NOT NULL,
    provider_template    TEXT   NOT NULL,
    provider_template_en TEXT   NOT NULL,
    fields_json          TEXT   NOT NULL,
    wechat_kind          TEXT   NOT NULL,
    url                  TEXT   NOT NULL,
    updated_at_ms        BIGINT NOT NULL,
    PRIMARY KEY (brand_id, template_id)
);

CREATE TABLE msg_consents (
    brand_id  TEXT     NOT NULL,
    member_id TEXT     NOT NULL,
    channel   TEXT     NOT NULL,
    granted   SMALLINT NOT NULL,
    address   TEXT     NOT NULL,
    source    TEXT     NOT NULL,
    at_ms     BIGINT   NOT NULL,
    PRIMARY KEY (brand_id, member_id, channel)
);
-- An inbound SMS names a phone, not a brand.
CREATE INDEX msg_consents_address ON msg_consents (channel, address);

CREATE TABLE msg_messages (
    brand_id       TEXT     NOT NULL,
    message_id     TEXT     NOT NULL,
    msg_key        TEXT     NOT NULL,
    campaign_id    TEXT     NOT NULL,
    member_id      TEXT     NOT NULL,
    occurrence     TEXT     NOT NULL,
    channel        TEXT     NOT NULL,
    category       TEXT     NOT NULL,
    template_id    TEXT     NOT NULL,
    lang           TEXT     NOT NULL,
    vars_json      TEXT     NOT NULL,
    to_addr        TEXT     NOT NULL,
    not_before_ms  BIGINT   NOT NULL,
    expires_at_ms  BIGINT   NOT NULL,
    status         TEXT     NOT NULL,
    reason         TEXT     NOT NULL,
    attempts       INTEGER  NOT NULL,
    provider_id    TEXT     NOT NULL,
    reserved       SMALLINT NOT NULL,
    reserved_at_ms BIGINT   NOT NULL,
    created_at_ms  BIGINT   NOT NULL,
    updated_at_ms  BIGINT   NOT NULL,
    sent_at_ms     BIGINT   NOT NULL,
    lease_owner    TEXT     NOT NULL,
    lease_until_ms BIGINT   NOT NULL,
    PRIMARY KEY (brand_id, message_id),
    UNIQUE (brand_id, msg_key)
);
-- What the dispatcher may claim: waiting messages by when they are due.
CREATE INDEX msg_messages_due ON msg_messages (not_before_ms)
    WHERE status IN ('queued', 'held_quiet_hours', 'sending');
-- Caps: a member's reserved messages on a channel by time.
CREATE INDEX msg_messages_caps ON msg_messages (brand_id, member_id, channel, category, reserved_at_ms)
    WHERE reserved = 1;
-- Reports that echo our message id (SMS OutId) name no brand.
CREATE INDEX msg_messages_id ON msg_messages (message_id);
CREATE INDEX msg_messages_member ON msg_messages (brand_id, member_id, created_at_ms);
-- Receipts name the provider's id only.
CREATE INDEX msg_messages_provider ON msg_messages (channel, provider_id)
    WHERE provider_id <> '';

CREATE TABLE msg_history (
    brand_id   TEXT   NOT NULL,
    message_id TEXT   NOT NULL,
    at_ms      BIGINT NOT NULL,
    seq        INTEGER NOT NULL,
    status     TEXT   NOT NULL,
    reason     TEXT   NOT NULL,
    PRIMARY KEY (brand_id, message_id, seq)
);
