package sqlstore

import (
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/memberpass/memberpass/cloud"
)

const brandCols = `brand_id, name, currency, time_zone, member_code_key, programme, created_at`

func (t *tx) PutBrand(b cloud.Brand) error {
	delete(t.c.brands, b.ID)
	prog, err := json.Marshal(b.Programme)
	if err != nil {
		return fmt.Errorf("sqlstore: encode programme of brand %s: %w", b.ID, err)
	}
	var old []byte
	var version int64
	found, err := t.one("read brand programme", `select programme, programme_version from brands where brand_id = $1`+t.e.forUpdate(), []any{b.ID}, blob{&old}, &version)
	if err != nil {
		return err
	}
	changed := !found
	if found {
		var was cloud.Programme
		if err := json.Unmarshal(old, &was); err != nil {
			return fmt.Errorf("sqlstore: decode programme of brand %s: %w", b.ID, err)
		}
		again, _ := json.Marshal(was)
		changed = string(again) != string(prog)
	}
	if changed {
		version++
	}
	tz := b.TimeZone
	if tz == "" {
		tz = cloud.DefaultTimeZone
	}
	if _, err := t.exec("write brand", `insert into brands (`+brandCols+`, programme_version) values ($1, $2, $3, $4, $5, $6, $7, $8)
		on conflict (brand_id) do update set name = excluded.name, currency = excluded.currency, time_zone = excluded.time_zone,
		member_code_key = excluded.member_code_key, programme = excluded.programme, programme_version = excluded.programme_version`,
		b.ID, b.Name, b.Currency, tz, []byte(b.MemberCodeKey), string(prog), ts(b.CreatedAt), version); err != nil {
		return err
	}
	if !changed {
		return nil
	}
	at := b.CreatedAt
	if found {
		at = now()
	}
	_, err = t.exec("write programme version", `insert into programme_versions (brand_id, version, programme, created_at) values ($1, $2, $3, $4)`,
		b.ID, version, string(prog), ts(at))
	return err
}

func (t *tx) BrandIDs() ([]string, error) {
	var out []string
	err := t.query("list brands", `select brand_id from brands order by brand_id`, nil, func(r *sql.Rows) error {
		var id string
		err := r.Scan(&id)
		out = append(out, id)
		return err
	})
	return out, err
}

func (t *tx) Store(brand, id string) (cloud.Store, error) {
	s := cloud.Store{BrandID: brand, ID: id}
	found, err := t.one("read store", `select name, created_at from stores where brand_id = $1 and store_id = $2`, []any{brand, id}, &s.Name, tm{&s.CreatedAt})
	if err == nil && !found {
		err = notFound("store %q", id)
	}
	return s, err
}

func (t *tx) PutStore(s cloud.Store) error {
	_, err := t.exec("write store", `insert into stores (brand_id, store_id, name, created_at) values ($1, $2, $3, $4)
		on conflict (brand_id, store_id) do update set name = excluded.name`, s.BrandID, s.ID, s.Name, ts(s.CreatedAt))
	return err
}

const deviceCols = `brand_id, device_id, store_id, name, secret_hash, acked_seq, paired_at, last_seen_at, revoked`

func scanDevice(r interface{ Scan(...any) error }) (cloud.Device, error) {
	var d cloud.Device
	err := r.Scan(&d.BrandID, &d.ID, &d.StoreID, &d.Name, blob{&d.SecretHash}, u64{&d.AckedSeq}, tm{&d.PairedAt}, tm{&d.LastSeenAt}, boolean{&d.Revoked})
	return d, err
}

func (t *tx) Devices(brand string) ([]cloud.Device, error) {
	var out []cloud.Device
	err := t.query("list devices", `select `+deviceCols+` from devices where brand_id = $1 order by device_id`, []any{brand}, func(r *sql.Rows) error {
		d, err := scanDevice(r)
		out = append(out, d)
		return err
	})
	return out, err
}

// Pairing codes are the one lookup without a brand: the code is typed at
// a new device before it knows its brand.
func (t *tx) Pairing(code string) (cloud.Pairing, error) {
	p := cloud.Pairing{Code: code}
	found, err := t.one("read pairing code", `select brand_id, store_id, expires_at from pairings where code = $1`, []any{code}, &p.BrandID, &p.StoreID, tm{&p.ExpiresAt})
	if err == nil && !found {
		err = notFound("pairing code")
	}
	return p, err
}

func (t *tx) PutPairing(p cloud.Pairing) error {
	_, err := t.exec("write pairing code", `insert into pairings (code, brand_id, store_id, expires_at) values ($1, $2, $3, $4)
		on conflict (code) do update set brand_id = excluded.brand_id, store_id = excluded.store_id, expires_at = excluded.expires_at`,
		p.Code, p.BrandID, p.StoreID, ts(p.ExpiresAt))
	return err
}

func (t *tx) DeletePairing(code string) error {
	_, err := t.exec("delete pairing code", `delete from pairings where code = $1`, code)
	return err
}
