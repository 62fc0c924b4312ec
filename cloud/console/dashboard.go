package console

import (
	"net/http"
	"slices"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/hq"
)

// dashData is the dashboard's data: today's and the last 30 days'
// figures, in total and per store, and a series per day for the charts.
type dashData struct {
	Today, Month hq.DayFigures
	Members      uint64
	Stores       []storeFigures
	// Chart is what the page's script draws.
	Chart chartData
}

type storeFigures struct {
	ID, Name     string
	Today, Month hq.DayFigures
}

type chartData struct {
	Days      []string          `json:"days"`
	Visits    []int64           `json:"visits"`
	NetYuan   []string          `json:"net_yuan"`
	NewMember []int64           `json:"new_members"`
	Stores    []string          `json:"stores"`
	StoreNet  []string          `json:"store_net_yuan"`
	Labels    map[string]string `json:"labels"`
}

func add(a *hq.DayFigures, b hq.DayFigures) {
	a.Visits += b.Visits
	a.Purchases += b.Purchases
	a.NetFen += b.NetFen
	a.TopUps += b.TopUps
	a.TopUpFen += b.TopUpFen
	a.NewMembers += b.NewMembers
}

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request, rq *request) {
	now := c.cfg.Now().In(rq.loc)
	dayStart := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, rq.loc)
	from := dayStart.AddDate(0, 0, -29)
	to := dayStart.AddDate(0, 0, 1)
	today := dayStart.Format(time.DateOnly)
	var (
		figs   []hq.DayFigures
		stores []cloud.Store
		d      dashData
	)
	err := c.cfg.Store.ViewHQ(r.Context(), func(tx hq.Tx) error {
		var err error
		if figs, err = tx.Figures(rq.P.BrandID, from, to, rq.loc, rq.P.StoreScope()); err != nil {
			return err
		}
		if stores, err = brandStores(tx, rq.P); err != nil {
			return err
		}
		if rq.P.AllStores() {
			d.Members, err = tx.CountMembers(rq.P.BrandID)
		}
		return err
	})
	if err != nil {
		c.failErr(w, r, rq, "dashboard", err)
		return
	}
	byStore := map[string]*storeFigures{}
	for _, s := range stores {
		byStore[s.ID] = &storeFigures{ID: s.ID, Name: s.Name}
	}
	perDay := map[string]*hq.DayFigures{}
	storeNet := map[string]int64{}
	for _, f := range figs {
		sf := byStore[f.StoreID]
		if sf == nil && rq.P.AllStores() {
			// Members who joined online (no store) and stores since removed.
			sf = &storeFigures{ID: f.StoreID, Name: f.StoreID}
			byStore[f.StoreID] = sf
		}
		if sf == nil {
			continue
		}
		add(&sf.Month, f)
		add(&d.Month, f)
		if f.Day == today {
			add(&sf.Today, f)
			add(&d.Today, f)
		}
		if perDay[f.Day] == nil {
			perDay[f.Day] = &hq.DayFigures{Day: f.Day}
		}
		add(perDay[f.Day], f)
		storeNet[f.StoreID] += f.NetFen
	}
	for _, sf := range byStore {
		d.Stores = append(d.Stores, *sf)
	}
	slices.SortFunc(d.Stores, func(a, b storeFigures) int { return int(b.Month.NetFen - a.Month.NetFen) })
	lang := langOf(r)
	d.Chart.Labels = map[string]string{"visits": text(lang, "dash.visits"), "net": text(lang, "dash.net"), "new_members": text(lang, "dash.new_members")}
	for day := from; day.Before(to); day = day.AddDate(0, 0, 1) {
		key := day.Format(time.DateOnly)
		f := perDay[key]
		if f == nil {
			f = &hq.DayFigures{}
		}
		d.Chart.Days = append(d.Chart.Days, key[5:])
		d.Chart.Visits = append(d.Chart.Visits, f.Visits)
		d.Chart.NetYuan = append(d.Chart.NetYuan, formatYuan(f.NetFen))
		d.Chart.NewMember = append(d.Chart.NewMember, f.NewMembers)
	}
	for _, s := range d.Stores {
		if s.ID == "" {
			continue
		}
		d.Chart.Stores = append(d.Chart.Stores, s.Name)
		d.Chart.StoreNet = append(d.Chart.StoreNet, formatYuan(storeNet[s.ID]))
	}
	c.render(w, r, rq, http.StatusOK, "dashboard", "dashboard", d)
}

// brandStores lists the stores the principal may see.
func brandStores(tx hq.Tx, p hq.Principal) ([]cloud.Store, error) {
	var out []cloud.Store
	all, err := tx.Stores(p.BrandID)
	if err != nil {
		return nil, err
	}
	for _, s := range all {
		if p.SeesStore(s.ID) {
			out = append(out, s)
		}
	}
	return out, nil
}
