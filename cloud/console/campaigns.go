package console

import "net/http"

// campaigns lists the brand's campaigns once the campaigns module
// (cloud/campaign) is on main; until then the page says so.
func (c *Console) campaigns(w http.ResponseWriter, r *http.Request, rq *request) {
	c.render(w, r, rq, http.StatusOK, "campaigns", "campaigns", nil)
}
