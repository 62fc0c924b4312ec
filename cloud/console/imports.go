package console

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/memberpass/memberpass/cloud/hq"
	"github.com/memberpass/memberpass/cloud/loyalty"
)

type importsData struct {
	Kind string
	// Report is set after a check or an import.
	Report *loyalty.ImportReport
	// Checked is true for a check (nothing written); Content is the file
	// checked, so "Import" sends the very same bytes.
	Checked bool
	Content string
}

// maxImportFile bounds an uploaded file.
const maxImportFile = 5 << 20

func (c *Console) imports(w http.ResponseWriter, r *http.Request, rq *request) {
	c.render(w, r, rq, http.StatusOK, "imports", "imports", importsData{Kind: "members"})
}

// runImport checks a CSV file (mode check: nothing written, every bad
// line listed) or imports it (mode commit: every row or none).
func (c *Console) runImport(w http.ResponseWriter, r *http.Request, rq *request) {
	kind := r.PostFormValue("kind")
	if kind != "members" && kind != "vouchers" {
		c.fail(w, r, rq, http.StatusUnprocessableEntity, "err.invalid", "kind: members or vouchers")
		return
	}
	var raw []byte
	if f, _, err := r.FormFile("file"); err == nil {
		raw, err = io.ReadAll(io.LimitReader(f, maxImportFile+1))
		f.Close()
		if err != nil {
			c.fail(w, r, rq, http.StatusBadRequest, "err.invalid")
			return
		}
	} else {
		raw = []byte(r.PostFormValue("content"))
	}
	if len(raw) > maxImportFile {
		c.fail(w, r, rq, http.StatusRequestEntityTooLarge, "err.too_large")
		return
	}
	dry := r.PostFormValue("mode") != "commit"
	var (
		rep loyalty.ImportReport
		err error
	)
	if kind == "members" {
		rep, err = c.cfg.Service.ImportMembers(r.Context(), rq.P.BrandID, raw, dry)
	} else {
		rep, err = c.cfg.Service.ImportVouchers(r.Context(), rq.P.BrandID, raw, dry)
	}
	if err != nil && len(rep.Errors) == 0 {
		c.failErr(w, r, rq, "import", err)
		return
	}
	if rep.Written {
		err := c.cfg.Store.UpdateHQ(r.Context(), func(tx hq.Tx) error {
			after, _ := json.Marshal(map[string]int{"created": rep.Created, "unchanged": rep.Unchanged, "bytes": len(raw)})
			_, err := tx.Audit(hq.AuditEntry{BrandID: rq.P.BrandID, At: c.cfg.Now(), Account: rq.P.Account, Action: "import_" + kind, Target: kind, After: string(after)})
			return err
		})
		if err != nil {
			c.failErr(w, r, rq, "import audit", err)
			return
		}
		c.log.Info("console: import written", "brand", rq.P.BrandID, "account", rq.P.Account, "kind", kind, "created", rep.Created)
	}
	d := importsData{Kind: kind, Report: &rep, Checked: dry, Content: string(raw)}
	status := http.StatusOK
	if len(rep.Errors) > 0 {
		status = http.StatusUnprocessableEntity
		w.Header().Set("X-Memberpass-Import-Errors", strconv.Itoa(len(rep.Errors)))
	}
	c.render(w, r, rq, status, "imports", "imports", d)
}
