package sqlstore

import (
	"database/sql"

	"github.com/memberpass/memberpass/cloud"
)

// HQ tokens and the audit log (migration 0100).

const hqTokenCols = `brand_id, token_id, account, role, store_ids, token_hash, created_at, created_by, expires_at, revoked_at`

func scanHQToken(r interface{ Scan(...any) error }) (cloud.HQToken, error) {
	var t cloud.HQToken
	var role string
	err := r.Scan(&t.BrandID, &t.ID, &t.Account, &role, jsonCol{&t.StoreIDs}, blob{&t.Hash}, tm{&t.CreatedAt}, &t.CreatedBy, tm{&t.ExpiresAt}, tm{&t.RevokedAt})
	t.Role = cloud.Role(role)
	return t, err
}

func (t *tx) PutHQToken(h cloud.HQToken) error {
	var stores any
	if len(h.StoreIDs) > 0 {
		stores = js(h.StoreIDs)
	}
	_, err := t.exec("write HQ token", `insert into hq_tokens (`+hqTokenCols+`) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		on conflict (brand_id, token_id) do update set account = excluded.account, role = excluded.role, store_ids = excluded.store_ids,
		token_hash = excluded.token_hash, expires_at = excluded.expires_at, revoked_at = excluded.revoked_at`,
		h.BrandID, h.ID, h.Account, string(h.Role), stores, h.Hash, ts(h.CreatedAt), h.CreatedBy, nts(h.ExpiresAt), nts(h.RevokedAt))
	if err != nil && isUniqueViolation(err) {
		return cloud.Errorf(cloud.Conflict, "an HQ token with the same secret exists")
	}
	return err
}

func (t *tx) hqToken(what, where string, args ...any) (cloud.HQToken, error) {
	var out cloud.HQToken
	found := false
	err := t.query(what, `select `+hqTokenCols+` from hq_tokens where `+where, args, func(r *sql.Rows) error {
		var err error
		out, err = scanHQToken(r)
		found = true
		return err
	})
	if err == nil && !found {
		err = notFound("HQ token")
	}
	return out, err
}

// HQTokenByHash is looked up by the hash alone (unique across brands):
// a bearer token is presented before its brand is known.
func (t *tx) HQTokenByHash(hash []byte) (cloud.HQToken, error) {
	return t.hqToken("find HQ token", `token_hash = $1`, hash)
}

func (t *tx) HQToken(brand, id string) (cloud.HQToken, error) {
	return t.hqToken("read HQ token", `brand_id = $1 and token_id = $2`, brand, id)
}

func (t *tx) HQTokens(brand string) ([]cloud.HQToken, error) {
	var out []cloud.HQToken
	err := t.query("list HQ tokens", `select `+hqTokenCols+` from hq_tokens where brand_id = $1 order by account, created_at, token_id`, []any{brand}, func(r *sql.Rows) error {
		h, err := scanHQToken(r)
		out = append(out, h)
		return err
	})
	return out, err
}

func (t *tx) AppendAudit(e cloud.AuditEntry) (cloud.AuditEntry, error) {
	seq, err := t.NextSeq(e.BrandID, "audit")
	if err != nil {
		return e, err
	}
	e.Seq = seq
	_, err = t.exec("append audit entry", `insert into hq_audit_log (brand_id, seq, at, account, token_id, action, target, request, before, after)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.BrandID, int64(seq), ts(e.At), e.Account, e.TokenID, e.Action, ns(e.Target), ns(e.Request), ns(e.Before), ns(e.After))
	return e, err
}

func (t *tx) AuditLog(brand string, after uint64, limit int) ([]cloud.AuditEntry, error) {
	var out []cloud.AuditEntry
	err := t.query("read audit log", `select brand_id, seq, at, account, token_id, action, target, request, before, after
		from hq_audit_log where brand_id = $1 and seq > $2 order by seq limit $3`, []any{brand, int64(after), limit}, func(r *sql.Rows) error {
		var e cloud.AuditEntry
		err := r.Scan(&e.BrandID, u64{&e.Seq}, tm{&e.At}, &e.Account, &e.TokenID, &e.Action, str{&e.Target}, str{&e.Request}, str{&e.Before}, str{&e.After})
		out = append(out, e)
		return err
	})
	return out, err
}

func (t *tx) CardLinkGeneration(brand, memberID string) (uint64, error) {
	var g uint64
	_, err := t.one("read card link generation", `select generation from card_link_generations where brand_id = $1 and member_id = $2`,
		[]any{brand, memberID}, u64{&g})
	return g, err
}

func (t *tx) BumpCardLinkGeneration(brand, memberID string) (uint64, error) {
	var g uint64
	_, err := t.one("revoke card links", `insert into card_link_generations (brand_id, member_id, generation) values ($1, $2, 1)
		on conflict (brand_id, member_id) do update set generation = card_link_generations.generation + 1 returning generation`,
		[]any{brand, memberID}, u64{&g})
	return g, err
}
