package console

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign"
	"github.com/memberpass/memberpass/cloud/hq"
)

// The triggers the console's form offers; the rest are the command line's
// until their forms are built.
var formTriggers = []campaign.TriggerKind{campaign.TriggerBirthday, campaign.TriggerLapsed, campaign.TriggerOneOff,
	campaign.TriggerVisit, campaign.TriggerPurchase, campaign.TriggerTopUp}

type campaignsData struct {
	Campaigns []campaign.Campaign
	Templates []cloud.CouponTemplate
	Tiers     []cloud.Tier
	Stores    []cloud.Store
	Triggers  []campaign.TriggerKind
}

func (c *Console) campaigns(w http.ResponseWriter, r *http.Request, rq *request) {
	if c.cfg.Campaigns == nil {
		c.render(w, r, rq, http.StatusOK, "campaigns", "campaigns", campaignsData{})
		return
	}
	d := campaignsData{Triggers: formTriggers}
	var err error
	if d.Campaigns, err = c.cfg.Campaigns.List(r.Context(), rq.P.BrandID); err != nil {
		c.failErr(w, r, rq, "list campaigns", err)
		return
	}
	if d.Templates, err = c.cfg.Service.CouponTemplates(r.Context(), rq.P.BrandID); err != nil {
		c.failErr(w, r, rq, "coupon templates", err)
		return
	}
	err = c.cfg.Store.ViewHQ(r.Context(), func(tx hq.Tx) error {
		b, err := tx.Brand(rq.P.BrandID)
		d.Tiers = b.Programme.Tiers
		if err == nil {
			d.Stores, err = tx.Stores(rq.P.BrandID)
		}
		return err
	})
	if err != nil {
		c.failErr(w, r, rq, "campaign form", err)
		return
	}
	c.render(w, r, rq, http.StatusOK, "campaigns", "campaigns", d)
}

// createCampaign makes a draft from the form: trigger, one action,
// audience (the segment), holdout, budget and window.
func (c *Console) createCampaign(w http.ResponseWriter, r *http.Request, rq *request) {
	if c.cfg.Campaigns == nil {
		c.fail(w, r, rq, http.StatusNotFound, "err.not_found")
		return
	}
	f := r.PostForm
	cp, err := campaignFromForm(f, rq.loc)
	if err != nil {
		c.failErr(w, r, rq, "campaign form", err)
		return
	}
	cp.BrandID = rq.P.BrandID
	cp, err = c.cfg.Campaigns.Create(r.Context(), cp)
	if err == nil {
		err = c.auditAlone(r, rq, "create_campaign", "campaign/"+cp.ID, "", cp)
	}
	if err != nil {
		c.failErr(w, r, rq, "create campaign", err)
		return
	}
	c.flash(r, "camp.created")
	http.Redirect(w, r, "/campaigns/"+cp.ID, http.StatusSeeOther)
}

func campaignFromForm(f map[string][]string, loc *time.Location) (campaign.Campaign, error) {
	get := func(k string) string {
		if v := f[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	var err error
	intOf := func(field, s string) int64 {
		if s == "" {
			return 0
		}
		n, e := strconv.ParseInt(s, 10, 64)
		if e != nil && err == nil {
			err = cloud.Errorf(cloud.Invalid, "%s: %q is not a whole number", field, s)
		}
		return n
	}
	yuanOf := func(field, s string) int64 {
		if s == "" {
			return 0
		}
		n, e := parseYuan(s)
		if e != nil && err == nil {
			err = cloud.Errorf(cloud.Invalid, "%s: %s", field, cloud.ErrorMessage(e))
		}
		return n
	}
	cp := campaign.Campaign{ID: get("id"), Name: get("name")}
	cp.Trigger = campaign.Trigger{Kind: campaign.TriggerKind(get("trigger")), Days: int(intOf("days", get("trigger_days"))),
		BirthdayMonth: get("birthday_month") == "1", MinFen: yuanOf("minimum", get("trigger_min"))}
	a := campaign.Action{Kind: campaign.ActionKind(get("action"))}
	switch a.Kind {
	case campaign.ActionCoupon:
		a.TemplateID = get("template")
		a.ValidDays = int(intOf("coupon validity", get("valid_days")))
	case campaign.ActionPoints:
		a.Points = intOf("points", get("points"))
	case campaign.ActionStoredValueBonus:
		a.BonusFen = yuanOf("bonus", get("bonus"))
	}
	cp.Actions = []campaign.Action{a}
	cp.Audience = campaign.Audience{Tiers: f["tiers"], Stores: f["stores"], ConsentOnly: get("consent_only") == "1",
		MinVisits: uint64(max(intOf("minimum visits", get("min_visits")), 0)), MinSpendFen: yuanOf("minimum spend", get("min_spend"))}
	for t := range strings.SplitSeq(get("tags"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			cp.Audience.Tags = append(cp.Audience.Tags, t)
		}
	}
	holdout, e := strconv.ParseFloat(get("holdout"), 64)
	if (e != nil || holdout < 0 || holdout > 50) && err == nil {
		err = cloud.Errorf(cloud.Invalid, "holdout: %q is not a percentage from 0 to 50", get("holdout"))
	}
	cp.HoldoutBP, cp.HoldoutSet = int(holdout*100+0.5), true
	cp.Budget = campaign.Budget{MaxCoupons: intOf("coupon budget", get("max_coupons")), MaxPoints: intOf("points budget", get("max_points")), MaxMoneyFen: yuanOf("money budget", get("max_money"))}
	for field, dst := range map[string]*time.Time{"start": &cp.StartAt, "end": &cp.EndAt} {
		if s := get(field); s != "" {
			t, e := time.ParseInLocation(time.DateOnly, s, loc)
			if e != nil && err == nil {
				err = cloud.Errorf(cloud.Invalid, "%s: want YYYY-MM-DD", field)
			}
			*dst = t.UTC()
		}
	}
	return cp, err
}

// campaignData is one campaign's page.
type campaignData struct {
	Campaign campaign.Campaign
	Preview  *campaign.Preview
	Results  *campaign.Results
	Chart    *liftChart
}

// liftChart is what the page's script draws: treated against holdout, and
// each lift with its 95% interval.
type liftChart struct {
	Groups   []string    `json:"groups"`
	Return   []float64   `json:"return_pct"`
	Metrics  []string    `json:"metrics"`
	Estimate []float64   `json:"estimate"`
	Interval [][]float64 `json:"interval"`
	Labels   map[string]string
}

func (c *Console) campaignPage(w http.ResponseWriter, r *http.Request, rq *request) {
	if c.cfg.Campaigns == nil {
		c.fail(w, r, rq, http.StatusNotFound, "err.not_found")
		return
	}
	id := r.PathValue("id")
	cp, err := c.cfg.Campaigns.Get(r.Context(), rq.P.BrandID, id)
	if err != nil {
		c.failErr(w, r, rq, "campaign", err)
		return
	}
	d := campaignData{Campaign: cp}
	if cp.Status == campaign.Draft || cp.Status == campaign.Paused || r.URL.Query().Get("preview") == "1" {
		p, err := c.cfg.Campaigns.Preview(r.Context(), rq.P.BrandID, id)
		if err != nil {
			c.failErr(w, r, rq, "campaign preview", err)
			return
		}
		d.Preview = &p
	}
	if cp.Status != campaign.Draft {
		res, err := c.cfg.Campaigns.Results(r.Context(), rq.P.BrandID, id, 30)
		if err != nil {
			c.failErr(w, r, rq, "campaign results", err)
			return
		}
		d.Results = &res
		lang := rq.Lang
		ch := &liftChart{Groups: []string{text(lang, "camp.treated"), text(lang, "camp.holdout_n")},
			Return: []float64{rate(res.Treated), rate(res.Holdout)}, Labels: map[string]string{"return": text(lang, "camp.return_rate"), "lift": text(lang, "camp.lift")}}
		if res.ReturnLift.Status == "ok" {
			iv := res.ReturnLift.Interval
			ch.Metrics = []string{text(lang, "camp.return_lift")}
			ch.Estimate = []float64{round2(iv.Estimate * 100)}
			ch.Interval = [][]float64{{round2(iv.Low * 100), round2(iv.High * 100)}}
		}
		d.Chart = ch
	}
	c.render(w, r, rq, http.StatusOK, "campaign", "campaigns", d)
}

func rate(g campaign.GroupOutcome) float64 {
	if g.Members == 0 {
		return 0
	}
	return round2(float64(g.Returned) * 100 / float64(g.Members))
}

func round2(x float64) float64 { return float64(int64(x*100+copysign(0.5, x))) / 100 }

func copysign(v, sign float64) float64 {
	if sign < 0 {
		return -v
	}
	return v
}

// moveCampaign starts, pauses, resumes or ends a campaign.
func (c *Console) moveCampaign(w http.ResponseWriter, r *http.Request, rq *request) {
	if c.cfg.Campaigns == nil {
		c.fail(w, r, rq, http.StatusNotFound, "err.not_found")
		return
	}
	id, verb := r.PathValue("id"), r.PathValue("verb")
	var (
		cp  campaign.Campaign
		err error
	)
	ctx := r.Context()
	switch verb {
	case "start":
		cp, err = c.cfg.Campaigns.Start(ctx, rq.P.BrandID, id)
	case "pause":
		cp, err = c.cfg.Campaigns.Pause(ctx, rq.P.BrandID, id)
	case "resume":
		cp, err = c.cfg.Campaigns.Resume(ctx, rq.P.BrandID, id)
	case "end":
		cp, err = c.cfg.Campaigns.End(ctx, rq.P.BrandID, id)
	default:
		c.fail(w, r, rq, http.StatusNotFound, "err.not_found")
		return
	}
	if err == nil {
		err = c.auditAlone(r, rq, verb+"_campaign", "campaign/"+id, "", map[string]any{"status": cp.Status})
	}
	if err != nil {
		c.failErr(w, r, rq, verb+" campaign", err)
		return
	}
	c.flash(r, "camp."+verb+"ed")
	http.Redirect(w, r, "/campaigns/"+id, http.StatusSeeOther)
}

// auditAlone writes an audit entry on its own, for changes made through a
// service that keeps its own transaction (campaigns, stores).
func (c *Console) auditAlone(r *http.Request, rq *request, action, target, request string, after any) error {
	raw, _ := json.Marshal(after)
	return c.cfg.Store.UpdateHQ(r.Context(), func(tx hq.Tx) error {
		_, err := tx.Audit(hq.AuditEntry{BrandID: rq.P.BrandID, At: c.cfg.Now(), Account: rq.P.Account, Action: action, Target: target, Request: request, After: string(raw)})
		return err
	})
}
