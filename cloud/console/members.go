package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/hq"
	"github.com/memberpass/memberpass/cloud/loyalty"
)

// membersData is the search page's data.
type membersData struct {
	Query   string
	Members []memberRow
}

type memberRow struct {
	cloud.Member
	TierName string
}

func tierName(p cloud.Programme, id, lang string) string {
	t, ok := p.Tier(id)
	if !ok {
		return id
	}
	if lang == "en" && t.NameEn != "" {
		return t.NameEn
	}
	return t.Name
}

func (c *Console) members(w http.ResponseWriter, r *http.Request, rq *request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if !boundedField(q, 64) {
		c.fail(w, r, rq, http.StatusUnprocessableEntity, "err.invalid", "search: at most 64 characters")
		return
	}
	if p, err := loyalty.NormalizePhone(q); err == nil && q != "" {
		q = p
	}
	d := membersData{Query: q}
	err := c.cfg.Store.ViewHQ(r.Context(), func(tx hq.Tx) error {
		b, err := tx.Brand(rq.P.BrandID)
		if err != nil {
			return err
		}
		found, err := tx.SearchMembers(rq.P.BrandID, hq.MemberQuery{Text: q, Stores: rq.P.StoreScope(), Limit: 50})
		for _, m := range found {
			d.Members = append(d.Members, memberRow{Member: m, TierName: tierName(b.Programme, m.TierID, rq.Lang)})
		}
		return err
	})
	if err != nil {
		c.failErr(w, r, rq, "search members", err)
		return
	}
	c.render(w, r, rq, http.StatusOK, "members", "members", d)
}

// memberData is a member's page.
type memberData struct {
	memberRow
	Coupons  []loyalty.CouponView
	Timeline []timelineItem
	Notes    []hq.Note
	// Adjust and Note are the forms' values after a refusal.
	AdjustKind, AdjustDelta, AdjustReason string
}

// timelineItem is one line of a member's timeline.
type timelineItem struct {
	At     time.Time
	Kind   string // catalogue code tl.*
	Store  string
	Detail string
	Tags   []string
	Bad    bool
}

// memberAllowed checks that the principal may see the member: a store
// manager only their stores' members. The refusal is the server's.
func memberAllowed(tx hq.Tx, p hq.Principal, memberID string) error {
	if p.AllStores() {
		return nil
	}
	ok, err := tx.MemberInStores(p.BrandID, memberID, p.StoreScope())
	if err != nil {
		return err
	}
	if !ok {
		return errOtherStore
	}
	return nil
}

var errOtherStore = cloud.Errorf(cloud.Forbidden, "member of another store")

func (c *Console) member(w http.ResponseWriter, r *http.Request, rq *request) {
	id := r.PathValue("id")
	if !boundedField(id, 64) {
		c.fail(w, r, rq, http.StatusNotFound, "err.not_found")
		return
	}
	d, err := c.memberPage(r, rq, id)
	if errors.Is(err, errOtherStore) {
		c.log.Warn("console: refused a member of another store", "brand", rq.P.BrandID, "account", rq.P.Account, "member", id)
		c.fail(w, r, rq, http.StatusForbidden, "err.other_store")
		return
	}
	if err != nil {
		c.failErr(w, r, rq, "member page", err)
		return
	}
	c.render(w, r, rq, http.StatusOK, "member", "members", d)
}

func (c *Console) memberPage(r *http.Request, rq *request, id string) (memberData, error) {
	var d memberData
	err := c.cfg.Store.ViewHQ(r.Context(), func(tx hq.Tx) error {
		if err := memberAllowed(tx, rq.P, id); err != nil {
			return err
		}
		b, err := tx.Brand(rq.P.BrandID)
		if err != nil {
			return err
		}
		m, err := tx.Member(rq.P.BrandID, id)
		if err != nil {
			return err
		}
		d.memberRow = memberRow{Member: m, TierName: tierName(b.Programme, m.TierID, rq.Lang)}
		events, err := tx.MemberEvents(rq.P.BrandID, id, 100)
		if err != nil {
			return err
		}
		for _, e := range events {
			d.Timeline = append(d.Timeline, eventItem(e, rq.Lang))
		}
		tiers, err := tx.TierChanges(rq.P.BrandID, id)
		if err != nil {
			return err
		}
		for _, t := range tiers {
			d.Timeline = append(d.Timeline, timelineItem{At: t.At, Kind: "tl.tier",
				Detail: fmt.Sprintf("%s → %s (%s)", tierName(b.Programme, t.From, rq.Lang), tierName(b.Programme, t.To, rq.Lang), t.Reason)})
		}
		points, err := tx.PointsEntries(rq.P.BrandID, id)
		if err != nil {
			return err
		}
		for _, p := range points {
			if p.EventID != "" {
				continue // shown with its event
			}
			d.Timeline = append(d.Timeline, timelineItem{At: p.At, Kind: "tl.points", Detail: strings.TrimSpace(fmt.Sprintf("%+d %s %s", p.Delta, p.Reason, p.Note))})
		}
		sv, err := tx.StoredValueEntries(rq.P.BrandID, id)
		if err != nil {
			return err
		}
		for _, e := range sv {
			if e.EventID != "" {
				continue
			}
			sign := ""
			if e.PrincipalDelta+e.BonusDelta > 0 {
				sign = "+"
			}
			d.Timeline = append(d.Timeline, timelineItem{At: e.At, Kind: "tl.stored_value", Detail: strings.TrimSpace(sign + formatMoney(e.PrincipalDelta+e.BonusDelta) + " " + e.Reason + " " + e.Note)})
		}
		notes, err := tx.Notes(rq.P.BrandID, id)
		if err != nil {
			return err
		}
		for _, n := range notes {
			d.Timeline = append(d.Timeline, timelineItem{At: n.At, Kind: "tl." + n.Kind, Detail: n.Text + " — " + n.Account, Tags: n.Tags})
		}
		return nil
	})
	if err != nil {
		return d, err
	}
	h, err := c.cfg.Service.History(r.Context(), rq.P.BrandID, id)
	if err != nil {
		return d, err
	}
	d.Coupons = h.Coupons
	slices.SortStableFunc(d.Timeline, func(a, b timelineItem) int { return b.At.Compare(a.At) })
	return d, nil
}

// eventItem is an event as a timeline line.
func eventItem(e cloud.StoredEvent, lang string) timelineItem {
	it := timelineItem{At: e.OccurredAt, Kind: "tl." + string(e.Kind), Store: e.StoreID, Bad: e.Outcome == cloud.Rejected}
	switch {
	case e.Purchase != nil:
		it.Detail = formatMoney(e.Purchase.NetFen())
		if e.Purchase.StoredValueFen > 0 {
			it.Detail += fmt.Sprintf(" (%s %s)", text(lang, "members.sv"), formatMoney(e.Purchase.StoredValueFen))
		}
	case e.TopUp != nil:
		it.Detail = formatMoney(e.TopUp.AmountFen)
		if e.TopUp.BonusFen > 0 {
			it.Detail += " + " + formatMoney(e.TopUp.BonusFen)
		}
	case e.Refund != nil:
		it.Detail = formatMoney(e.Refund.AmountFen)
	case e.Voucher != nil:
		it.Detail = e.Voucher.Code
	case e.Visit != nil:
		it.Detail = string(e.Visit.IdentifiedBy)
	}
	if it.Bad {
		it.Detail = strings.TrimSpace(it.Detail + " " + text(lang, "tl.rejected") + ": " + e.Reason)
	}
	return it
}

// adjust changes a member's points or stored value by hand, with a
// reason, and writes the audit entry in the same transaction.
func (c *Console) adjust(w http.ResponseWriter, r *http.Request, rq *request) {
	id := r.PathValue("id")
	kind := r.PostFormValue("kind")
	raw := strings.TrimSpace(r.PostFormValue("delta"))
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	var delta int64
	var err error
	switch kind {
	case loyalty.AdjustStoredValue:
		delta, err = parseYuan(raw)
	case loyalty.AdjustPoints:
		delta, err = strconv.ParseInt(raw, 10, 64)
		if err != nil {
			err = cloud.Errorf(cloud.Invalid, "points %q: want a whole number", raw)
		}
	default:
		err = cloud.Errorf(cloud.Invalid, "kind %q: want points or stored_value", kind)
	}
	adj := loyalty.Adjustment{Kind: kind, Delta: delta, Reason: reason}
	if err == nil {
		err = loyalty.CheckAdjustment(adj)
	}
	if err == nil {
		err = c.cfg.Store.UpdateHQ(r.Context(), func(tx hq.Tx) error {
			if err := memberAllowed(tx, rq.P, id); err != nil {
				return err
			}
			now := c.cfg.Now()
			before, after, err := loyalty.AdjustInTx(tx, rq.P.BrandID, id, adj, now)
			if err != nil {
				return err
			}
			req, _ := json.Marshal(adj)
			_, err = tx.Audit(hq.AuditEntry{BrandID: rq.P.BrandID, At: now, Account: rq.P.Account, Action: "adjust_" + kind, Target: "member/" + id,
				Request: string(req), Before: balances(before), After: balances(after)})
			return err
		})
	}
	if err != nil {
		if errors.Is(err, errOtherStore) {
			c.fail(w, r, rq, http.StatusForbidden, "err.other_store")
			return
		}
		c.failErr(w, r, rq, "adjust balance", err)
		return
	}
	c.log.Info("console: balance adjusted", "brand", rq.P.BrandID, "account", rq.P.Account, "member", id, "kind", kind, "delta", delta)
	c.flash(r, "adjust.done")
	http.Redirect(w, r, "/members/"+id, http.StatusSeeOther)
}

// balances is a member's balances as audit JSON.
func balances(m cloud.Member) string {
	raw, _ := json.Marshal(map[string]int64{"points": m.Points, "sv_principal_fen": m.SVPrincipal, "sv_bonus_fen": m.SVBonus})
	return string(raw)
}

// maxNote bounds a note's text; maxTags its tags.
const (
	maxNote = 1000
	maxTags = 10
)

func (c *Console) addNote(w http.ResponseWriter, r *http.Request, rq *request) {
	id := r.PathValue("id")
	kind := r.PostFormValue("kind")
	body := strings.TrimSpace(r.PostFormValue("text"))
	var tags []string
	for t := range strings.SplitSeq(r.PostFormValue("tags"), ",") {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	switch {
	case kind != hq.NoteService && kind != hq.NoteComplaint:
		c.fail(w, r, rq, http.StatusUnprocessableEntity, "err.invalid", "kind: note or complaint")
		return
	case body == "" || utf8.RuneCountInString(body) > maxNote || !utf8.ValidString(body):
		c.fail(w, r, rq, http.StatusUnprocessableEntity, "err.invalid", fmt.Sprintf("text: 1 to %d characters", maxNote))
		return
	case len(tags) > maxTags || slices.ContainsFunc(tags, func(t string) bool { return !boundedField(t, 20) }):
		c.fail(w, r, rq, http.StatusUnprocessableEntity, "err.invalid", fmt.Sprintf("tags: at most %d, each at most 20 characters", maxTags))
		return
	}
	err := c.cfg.Store.UpdateHQ(r.Context(), func(tx hq.Tx) error {
		if err := memberAllowed(tx, rq.P, id); err != nil {
			return err
		}
		if _, err := tx.Member(rq.P.BrandID, id); err != nil {
			return err
		}
		now := c.cfg.Now()
		n, err := tx.AddNote(hq.Note{BrandID: rq.P.BrandID, MemberID: id, At: now, Account: rq.P.Account, Kind: kind, Text: body, Tags: tags})
		if err != nil {
			return err
		}
		after, _ := json.Marshal(n)
		_, err = tx.Audit(hq.AuditEntry{BrandID: rq.P.BrandID, At: now, Account: rq.P.Account, Action: "add_" + kind, Target: "member/" + id, After: string(after)})
		return err
	})
	if errors.Is(err, errOtherStore) {
		c.fail(w, r, rq, http.StatusForbidden, "err.other_store")
		return
	}
	if err != nil {
		c.failErr(w, r, rq, "add note", err)
		return
	}
	c.flash(r, "note.done")
	http.Redirect(w, r, "/members/"+id, http.StatusSeeOther)
}
