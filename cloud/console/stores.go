package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/hq"
)

type storeRow struct {
	cloud.Store
	Devices []deviceRow
}

type deviceRow struct {
	cloud.Device
	// Health is a catalogue code: stores.ok, stores.stale, stores.never,
	// stores.revoked.
	Health string
}

type storesData struct {
	Stores []storeRow
	// Pairing is set right after a store was created.
	Pairing *pairingView
}

type pairingView struct {
	StoreID, Code, URI string
	ExpiresAt          time.Time
	QRPath             string
}

// staleAfter is how long a device may go unheard before it is shown as
// stale.
const staleAfter = time.Hour

func (c *Console) stores(w http.ResponseWriter, r *http.Request, rq *request) {
	var d storesData
	err := c.cfg.Store.ViewHQ(r.Context(), func(tx hq.Tx) error {
		stores, err := brandStores(tx, rq.P)
		if err != nil {
			return err
		}
		devices, err := tx.Devices(rq.P.BrandID)
		if err != nil {
			return err
		}
		now := c.cfg.Now()
		for _, s := range stores {
			row := storeRow{Store: s}
			for _, dv := range devices {
				if dv.StoreID != s.ID {
					continue
				}
				h := "stores.ok"
				switch {
				case dv.Revoked:
					h = "stores.revoked"
				case dv.LastSeenAt.IsZero():
					h = "stores.never"
				case now.Sub(dv.LastSeenAt) > staleAfter:
					h = "stores.stale"
				}
				row.Devices = append(row.Devices, deviceRow{Device: dv, Health: h})
			}
			d.Stores = append(d.Stores, row)
		}
		return nil
	})
	if err != nil {
		c.failErr(w, r, rq, "stores", err)
		return
	}
	if code := c.sm.PopString(r.Context(), "pairing_code"); code != "" && c.cfg.Ticket != nil {
		t := c.cfg.Ticket(code)
		d.Pairing = &pairingView{StoreID: c.sm.PopString(r.Context(), "pairing_store"), Code: code, URI: t.String(),
			QRPath: "/stores/pairing.png?code=" + url.QueryEscape(code)}
		if exp, err := time.Parse(time.RFC3339, c.sm.PopString(r.Context(), "pairing_expires")); err == nil {
			d.Pairing.ExpiresAt = exp
		}
		// The QR image is asked for once, right after this page.
		c.sm.Put(r.Context(), "pairing_qr", code)
	}
	c.render(w, r, rq, http.StatusOK, "stores", "stores", d)
}

func (c *Console) createStore(w http.ResponseWriter, r *http.Request, rq *request) {
	id := strings.TrimSpace(r.PostFormValue("id"))
	name := strings.TrimSpace(r.PostFormValue("name"))
	if !boundedField(name, 64) {
		c.fail(w, r, rq, http.StatusUnprocessableEntity, "err.invalid", "name: at most 64 characters")
		return
	}
	st, p, err := c.cfg.Service.CreateStore(r.Context(), rq.P.BrandID, id, name)
	if err == nil {
		err = c.cfg.Store.UpdateHQ(r.Context(), func(tx hq.Tx) error {
			after, _ := json.Marshal(st)
			_, err := tx.Audit(hq.AuditEntry{BrandID: rq.P.BrandID, At: c.cfg.Now(), Account: rq.P.Account, Action: "create_store", Target: "store/" + st.ID, After: string(after)})
			return err
		})
	}
	if err != nil {
		c.failErr(w, r, rq, "create store", err)
		return
	}
	c.sm.Put(r.Context(), "pairing_code", p.Code)
	c.sm.Put(r.Context(), "pairing_store", st.ID)
	c.sm.Put(r.Context(), "pairing_expires", p.ExpiresAt.Format(time.RFC3339))
	c.flash(r, "stores.created")
	http.Redirect(w, r, "/stores", http.StatusSeeOther)
}

// pairingQR serves the QR code of the pairing code just made, to the
// session that made it only.
func (c *Console) pairingQR(w http.ResponseWriter, r *http.Request, rq *request) {
	code := r.URL.Query().Get("code")
	if code == "" || c.sm.GetString(r.Context(), "pairing_qr") != code || c.cfg.Ticket == nil {
		c.fail(w, r, rq, http.StatusNotFound, "err.not_found")
		return
	}
	png, err := c.cfg.Ticket(code).QRPNG(320)
	if err != nil {
		c.failErr(w, r, rq, "pairing QR", err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Write(png)
}

func (c *Console) revokeDevice(w http.ResponseWriter, r *http.Request, rq *request) {
	id := r.PathValue("id")
	err := c.cfg.Store.ViewHQ(r.Context(), func(tx hq.Tx) error {
		d, err := tx.Device(rq.P.BrandID, id)
		if err != nil {
			return err
		}
		if !rq.P.SeesStore(d.StoreID) {
			return cloud.Errorf(cloud.NotFound, "device %s", id)
		}
		return nil
	})
	var dev cloud.Device
	if err == nil {
		dev, err = c.cfg.Service.RevokeDevice(r.Context(), rq.P.BrandID, id)
	}
	if err == nil {
		err = c.cfg.Store.UpdateHQ(r.Context(), func(tx hq.Tx) error {
			_, err := tx.Audit(hq.AuditEntry{BrandID: rq.P.BrandID, At: c.cfg.Now(), Account: rq.P.Account, Action: "revoke_device", Target: "device/" + dev.ID})
			return err
		})
	}
	if err != nil {
		c.failErr(w, r, rq, "revoke device", err)
		return
	}
	c.flash(r, "stores.revoke_done")
	http.Redirect(w, r, "/stores", http.StatusSeeOther)
}

// encodeQuery is url.Values.Encode for a plain map, keys sorted.
func encodeQuery(v map[string][]string) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	vals := url.Values{}
	for _, k := range keys {
		vals[k] = v[k]
	}
	return vals.Encode()
}
