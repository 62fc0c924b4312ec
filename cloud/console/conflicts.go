package console

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/hq"
)

type conflictRow struct {
	cloud.ConflictRecord
	// HQ is HQ's resolution; nil while the conflict is open. (The
	// record's own Resolution is the rule the books applied.)
	HQ *hq.Resolution
}

type conflictsData struct {
	OpenOnly bool
	Rows     []conflictRow
}

// maxConflictsShown bounds the queue page.
const maxConflictsShown = 500

func (c *Console) conflicts(w http.ResponseWriter, r *http.Request, rq *request) {
	d := conflictsData{OpenOnly: r.URL.Query().Get("open") == "1"}
	err := c.cfg.Store.ViewHQ(r.Context(), func(tx hq.Tx) error {
		var all []cloud.ConflictRecord
		var after uint64
		for len(all) < 100_000 {
			page, err := tx.Conflicts(rq.P.BrandID, after, 1000)
			if err != nil {
				return err
			}
			all = append(all, page...)
			if len(page) < 1000 {
				break
			}
			after = page[len(page)-1].Seq
		}
		var seqs []uint64
		for i := len(all) - 1; i >= 0; i-- { // newest first
			if !rq.P.SeesStore(all[i].StoreID) {
				continue
			}
			seqs = append(seqs, all[i].Seq)
			d.Rows = append(d.Rows, conflictRow{ConflictRecord: all[i]})
		}
		res, err := resolutionsOf(tx, rq.P.BrandID, seqs)
		if err != nil {
			return err
		}
		kept := d.Rows[:0]
		for _, row := range d.Rows {
			if rs, ok := res[row.Seq]; ok {
				row.HQ = &rs
			}
			if d.OpenOnly && row.HQ != nil {
				continue
			}
			kept = append(kept, row)
			if len(kept) == maxConflictsShown {
				break
			}
		}
		d.Rows = kept
		return nil
	})
	if err != nil {
		c.failErr(w, r, rq, "conflicts", err)
		return
	}
	c.render(w, r, rq, http.StatusOK, "conflicts", "conflicts", d)
}

func resolutionsOf(tx hq.Tx, brand string, seqs []uint64) (map[uint64]hq.Resolution, error) {
	out := map[uint64]hq.Resolution{}
	for len(seqs) > 0 {
		n := min(len(seqs), 500)
		part, err := tx.Resolutions(brand, seqs[:n])
		if err != nil {
			return nil, err
		}
		for k, v := range part {
			out[k] = v
		}
		seqs = seqs[n:]
	}
	return out, nil
}

// resolveConflict records HQ's decision on a conflict (write off,
// recover from the member, or a note), once, with its audit entry.
func (c *Console) resolveConflict(w http.ResponseWriter, r *http.Request, rq *request) {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		c.fail(w, r, rq, http.StatusNotFound, "err.not_found")
		return
	}
	action := r.PostFormValue("action")
	note := strings.TrimSpace(r.PostFormValue("note"))
	switch {
	case action != hq.ResolveWriteOff && action != hq.ResolveRecover && action != hq.ResolveNote:
		c.fail(w, r, rq, http.StatusUnprocessableEntity, "err.invalid", "action: write_off, recover or note")
		return
	case note == "" || utf8.RuneCountInString(note) > maxNote || !utf8.ValidString(note):
		c.fail(w, r, rq, http.StatusUnprocessableEntity, "err.invalid", "note: 1 to 1000 characters")
		return
	}
	err = c.cfg.Store.UpdateHQ(r.Context(), func(tx hq.Tx) error {
		list, err := tx.Conflicts(rq.P.BrandID, seq-1, 1)
		if err != nil {
			return err
		}
		if len(list) == 0 || list[0].Seq != seq || !rq.P.SeesStore(list[0].StoreID) {
			return cloud.Errorf(cloud.NotFound, "conflict %d", seq)
		}
		now := c.cfg.Now()
		res := hq.Resolution{BrandID: rq.P.BrandID, ConflictSeq: seq, Action: action, Note: note, Account: rq.P.Account, At: now}
		if err := tx.PutResolution(res); err != nil {
			return err
		}
		before, _ := json.Marshal(list[0])
		after, _ := json.Marshal(res)
		_, err = tx.Audit(hq.AuditEntry{BrandID: rq.P.BrandID, At: now, Account: rq.P.Account, Action: "resolve_conflict",
			Target: "conflict/" + strconv.FormatUint(seq, 10), Before: string(before), After: string(after)})
		return err
	})
	if err != nil {
		c.failErr(w, r, rq, "resolve conflict", err)
		return
	}
	c.flash(r, "conf.done")
	http.Redirect(w, r, "/conflicts", http.StatusSeeOther)
}
