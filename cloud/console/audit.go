package console

import (
	"net/http"
	"strconv"
	"time"

	"github.com/memberpass/memberpass/cloud/hq"
)

type auditData struct {
	Account, Action, Target, Since, Until string
	Entries                               []hq.AuditEntry
	// Older pages back: the seq to list before, 0 when this is the end.
	Older uint64
}

// auditPage is how many entries one page shows.
const auditPage = 100

func (c *Console) audit(w http.ResponseWriter, r *http.Request, rq *request) {
	q := r.URL.Query()
	d := auditData{Account: q.Get("account"), Action: q.Get("action"), Target: q.Get("target"), Since: q.Get("since"), Until: q.Get("until")}
	f := hq.AuditFilter{Account: d.Account, Action: d.Action, Target: d.Target, Limit: auditPage}
	for _, s := range []string{d.Account, d.Action, d.Target} {
		if !boundedField(s, 100) {
			c.fail(w, r, rq, http.StatusUnprocessableEntity, "err.invalid", "filters: at most 100 characters each")
			return
		}
	}
	if d.Since != "" {
		t, err := time.ParseInLocation(time.DateOnly, d.Since, rq.loc)
		if err != nil {
			c.fail(w, r, rq, http.StatusUnprocessableEntity, "err.invalid", "from: want YYYY-MM-DD")
			return
		}
		f.Since = t
	}
	if d.Until != "" {
		t, err := time.ParseInLocation(time.DateOnly, d.Until, rq.loc)
		if err != nil {
			c.fail(w, r, rq, http.StatusUnprocessableEntity, "err.invalid", "to: want YYYY-MM-DD")
			return
		}
		f.Until = t.AddDate(0, 0, 1)
	}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseUint(b, 10, 64)
		if err != nil {
			c.fail(w, r, rq, http.StatusUnprocessableEntity, "err.invalid", "before: a number")
			return
		}
		f.Before = n
	}
	err := c.cfg.Store.ViewHQ(r.Context(), func(tx hq.Tx) error {
		var err error
		d.Entries, err = tx.AuditEntries(rq.P.BrandID, f)
		return err
	})
	if err != nil {
		c.failErr(w, r, rq, "audit log", err)
		return
	}
	if len(d.Entries) == auditPage {
		d.Older = d.Entries[len(d.Entries)-1].Seq
	}
	c.render(w, r, rq, http.StatusOK, "audit", "audit", d)
}

// OlderQuery is the query string of the next page back.
func (d auditData) OlderQuery() string {
	v := make(map[string][]string)
	for k, s := range map[string]string{"account": d.Account, "action": d.Action, "target": d.Target, "since": d.Since, "until": d.Until} {
		if s != "" {
			v[k] = []string{s}
		}
	}
	v["before"] = []string{strconv.FormatUint(d.Older, 10)}
	return encodeQuery(v)
}
