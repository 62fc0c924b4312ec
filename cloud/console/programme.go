package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/hq"
	"github.com/memberpass/memberpass/cloud/loyalty"
)

type programmeData struct {
	Version   uint64
	Programme cloud.Programme
	// Form is the programme as the form shows it (current, or as typed).
	Form     programmeForm
	Versions []hq.ProgrammeVersion
	// Moves is the preview's result; Previewed is true after a preview.
	Previewed bool
	Moves     []moveView
	// Problem is what was wrong with the form.
	Problem string
}

type moveView struct {
	loyalty.TierMove
	FromName, ToName string
}

// programmeForm is the programme in the form's units: yuan, percent,
// hours, as text so a wrong entry is shown back as typed.
type programmeForm struct {
	Tiers                                  []tierForm
	TopUps                                 []topUpForm
	WindowDays, PerYuan, PointValue, Years string
	OffSV, OffPoints, OffHours             string
}

type tierForm struct{ ID, Name, NameEn, Rank, Discount, Mult, Spend, Visits string }
type topUpForm struct{ Min, Bonus string }

// blankRows are the empty rows the form offers for new tiers and rules.
const blankRows = 2

func formOf(p cloud.Programme) programmeForm {
	f := programmeForm{
		WindowDays: strconv.Itoa(p.TierWindowDays), PerYuan: strconv.Itoa(p.PointsPerYuan),
		PointValue: strconv.FormatInt(p.PointValueFen, 10), Years: strconv.Itoa(p.PointsExpireYears),
		OffSV: formatYuan(p.Offline.MaxStoredValuePerMemberDayFen), OffPoints: strconv.FormatInt(p.Offline.MaxPointsBurnPerMemberDay, 10),
		OffHours: strconv.FormatFloat(p.Offline.MaxReplicaAge.Hours(), 'f', -1, 64),
	}
	for _, t := range p.Tiers {
		f.Tiers = append(f.Tiers, tierForm{ID: t.ID, Name: t.Name, NameEn: t.NameEn, Rank: strconv.Itoa(t.Rank),
			Discount: strconv.FormatFloat(float64(t.DiscountBP)/100, 'f', -1, 64), Mult: strconv.Itoa(t.PointsMultiplierPct),
			Spend: formatYuan(t.UpgradeSpendFen), Visits: strconv.Itoa(t.UpgradeVisits)})
	}
	for _, r := range p.TopUpRules {
		f.TopUps = append(f.TopUps, topUpForm{Min: formatYuan(r.MinAmountFen), Bonus: formatYuan(r.BonusFen)})
	}
	return f
}

func (f *programmeForm) pad() {
	for range blankRows {
		f.Tiers = append(f.Tiers, tierForm{})
		f.TopUps = append(f.TopUps, topUpForm{})
	}
}

func (c *Console) programmeData(r *http.Request, rq *request) (programmeData, error) {
	var d programmeData
	err := c.cfg.Store.ViewHQ(r.Context(), func(tx hq.Tx) error {
		b, err := tx.Brand(rq.P.BrandID)
		if err != nil {
			return err
		}
		d.Programme = b.Programme
		d.Versions, err = tx.ProgrammeVersions(rq.P.BrandID, 20)
		if len(d.Versions) > 0 {
			d.Version = d.Versions[0].Version
		}
		return err
	})
	d.Form = formOf(d.Programme)
	d.Form.pad()
	return d, err
}

func (c *Console) programme(w http.ResponseWriter, r *http.Request, rq *request) {
	d, err := c.programmeData(r, rq)
	if err != nil {
		c.failErr(w, r, rq, "programme", err)
		return
	}
	c.render(w, r, rq, http.StatusOK, "programme", "programme", d)
}

// saveProgramme previews (op=preview) or saves (op=save) the programme
// typed in the form; a save is a new version, audited with the before
// and after.
func (c *Console) saveProgramme(w http.ResponseWriter, r *http.Request, rq *request) {
	d, err := c.programmeData(r, rq)
	if err != nil {
		c.failErr(w, r, rq, "programme", err)
		return
	}
	d.Form = readProgrammeForm(r)
	p, perr := parseProgramme(d.Form, d.Programme)
	if perr == nil {
		perr = loyalty.ValidateProgramme(p)
	}
	if perr != nil {
		d.Problem = cloud.ErrorMessage(perr)
		d.Form.pad()
		c.render(w, r, rq, http.StatusUnprocessableEntity, "programme", "programme", d)
		return
	}
	if r.PostFormValue("op") != "save" {
		moves, err := c.cfg.Service.PreviewProgramme(r.Context(), rq.P.BrandID, p)
		if err != nil {
			c.failErr(w, r, rq, "preview programme", err)
			return
		}
		d.Previewed = true
		for _, m := range moves {
			d.Moves = append(d.Moves, moveView{TierMove: m, FromName: tierName(d.Programme, m.From, rq.Lang), ToName: tierName(p, m.To, rq.Lang)})
		}
		d.Form.pad()
		c.render(w, r, rq, http.StatusOK, "programme", "programme", d)
		return
	}
	err = c.cfg.Store.UpdateHQ(r.Context(), func(tx hq.Tx) error {
		b, err := tx.Brand(rq.P.BrandID)
		if err != nil {
			return err
		}
		saved, err := c.cfg.Service.SetProgrammeInTx(tx, rq.P.BrandID, p)
		if err != nil {
			return err
		}
		before, _ := json.Marshal(b.Programme)
		after, _ := json.Marshal(saved)
		_, err = tx.Audit(hq.AuditEntry{BrandID: rq.P.BrandID, At: c.cfg.Now(), Account: rq.P.Account, Action: "set_programme", Target: "programme", Before: string(before), After: string(after)})
		return err
	})
	if err != nil {
		c.failErr(w, r, rq, "save programme", err)
		return
	}
	c.flash(r, "prog.saved")
	http.Redirect(w, r, "/programme", http.StatusSeeOther)
}

// maxTierRows bounds the rows a form may send.
const maxTierRows = 20

func readProgrammeForm(r *http.Request) programmeForm {
	v := r.PostForm
	f := programmeForm{WindowDays: v.Get("window_days"), PerYuan: v.Get("per_yuan"), PointValue: v.Get("point_value"), Years: v.Get("expire_years"),
		OffSV: v.Get("off_sv"), OffPoints: v.Get("off_points"), OffHours: v.Get("off_hours")}
	at := func(name string, i int) string {
		if list := v[name]; i < len(list) {
			return strings.TrimSpace(list[i])
		}
		return ""
	}
	for i := range min(len(v["tier_id"]), maxTierRows) {
		t := tierForm{ID: at("tier_id", i), Name: at("tier_name", i), NameEn: at("tier_name_en", i), Rank: at("tier_rank", i),
			Discount: at("tier_discount", i), Mult: at("tier_mult", i), Spend: at("tier_spend", i), Visits: at("tier_visits", i)}
		if t != (tierForm{}) {
			f.Tiers = append(f.Tiers, t)
		}
	}
	for i := range min(len(v["topup_min"]), maxTierRows) {
		t := topUpForm{Min: at("topup_min", i), Bonus: at("topup_bonus", i)}
		if t != (topUpForm{}) {
			f.TopUps = append(f.TopUps, t)
		}
	}
	return f
}

// parseProgramme turns the form into a programme; what the form does not
// show (bonus days) is kept from the current one.
func parseProgramme(f programmeForm, cur cloud.Programme) (cloud.Programme, error) {
	p := cloud.Programme{BonusDays: cur.BonusDays}
	var err error
	num := func(field, s string) int {
		n, e := strconv.Atoi(strings.TrimSpace(s))
		if e != nil && err == nil {
			err = cloud.Errorf(cloud.Invalid, "%s: %q is not a whole number", field, s)
		}
		return n
	}
	yuan := func(field, s string) int64 {
		if strings.TrimSpace(s) == "" {
			return 0
		}
		n, e := parseYuan(s)
		if e != nil && err == nil {
			err = cloud.Errorf(cloud.Invalid, "%s: %s", field, cloud.ErrorMessage(e))
		}
		return n
	}
	for i, t := range f.Tiers {
		row := fmt.Sprintf("tier %d", i+1)
		disc, e := strconv.ParseFloat(strings.TrimSpace(t.Discount), 64)
		if t.Discount == "" {
			disc, e = 0, nil
		}
		if (e != nil || disc < 0 || disc > 100) && err == nil {
			err = cloud.Errorf(cloud.Invalid, "%s discount: %q is not a percentage", row, t.Discount)
		}
		tier := cloud.Tier{ID: t.ID, Name: t.Name, NameEn: t.NameEn, Rank: num(row+" rank", t.Rank), DiscountBP: int(disc*100 + 0.5),
			PointsMultiplierPct: 100, UpgradeSpendFen: yuan(row+" upgrade spend", t.Spend)}
		if t.Mult != "" {
			tier.PointsMultiplierPct = num(row+" multiplier", t.Mult)
		}
		if t.Visits != "" {
			tier.UpgradeVisits = num(row+" upgrade visits", t.Visits)
		}
		p.Tiers = append(p.Tiers, tier)
	}
	for i, t := range f.TopUps {
		p.TopUpRules = append(p.TopUpRules, cloud.TopUpRule{MinAmountFen: yuan(fmt.Sprintf("top-up rule %d minimum", i+1), t.Min), BonusFen: yuan(fmt.Sprintf("top-up rule %d bonus", i+1), t.Bonus)})
	}
	p.TierWindowDays = num("tier window", f.WindowDays)
	p.PointsPerYuan = num("points per yuan", f.PerYuan)
	p.PointValueFen = int64(num("point value", f.PointValue))
	p.PointsExpireYears = num("points expiry", f.Years)
	p.Offline.MaxStoredValuePerMemberDayFen = yuan("offline stored value", f.OffSV)
	p.Offline.MaxPointsBurnPerMemberDay = int64(num("offline points", f.OffPoints))
	hours, e := strconv.ParseFloat(strings.TrimSpace(f.OffHours), 64)
	if (e != nil || hours < 0 || hours > 24*30) && err == nil {
		err = cloud.Errorf(cloud.Invalid, "replica age: %q is not a number of hours up to 720", f.OffHours)
	}
	p.Offline.MaxReplicaAge = time.Duration(hours * float64(time.Hour))
	return p, err
}
