package kiosk

import (
	"net/http"

	"github.com/memberpass/memberpass/agent/checkout"
)

// Group-buy platform vouchers at the counter: check a code with its
// platform (through the cloud), consume the uses the cashier confirms,
// or, with the cloud out of reach, accept it provisionally within the
// brand's offline policy.
// Each needs a signed-in cashier (need).
func (s *Server) routeVouchers(need func(http.HandlerFunc) http.HandlerFunc) {
	s.mux.HandleFunc("POST /api/vouchers/check", need(s.checkVoucher))
	s.mux.HandleFunc("POST /api/vouchers/consume", need(s.consumeVoucher))
	s.mux.HandleFunc("POST /api/vouchers/provisional", need(s.provisionalVoucher))
}

func (s *Server) checkVoucher(w http.ResponseWriter, r *http.Request) {
	var req checkout.VoucherCheckRequest
	if !decode(w, r, &req) {
		return
	}
	v, ref, err := s.src.Checkout.CheckVoucher(r.Context(), req)
	switch {
	case err != nil:
		s.fail(w, "check voucher", err)
	case ref != nil:
		writeJSON(w, refusalStatus, problem{ref})
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

// PlatformVoucherRequest consumes a platform voucher (online), or
// accepts one provisionally (offline, deal_id from the brand's policy);
// the signed-in cashier is the staff member on the event.
type PlatformVoucherRequest struct {
	TxnID    string `json:"txn_id"`
	Code     string `json:"code"`
	Platform string `json:"platform"`
	Count    int    `json:"count"`
	MemberID string `json:"member_id"`
	DealID   string `json:"deal_id"`
}

func (req PlatformVoucherRequest) checkout(staffID string) checkout.PlatformVoucherRequest {
	return checkout.PlatformVoucherRequest{TxnID: req.TxnID, StaffID: staffID, Code: req.Code, Platform: req.Platform,
		Count: req.Count, MemberID: req.MemberID, DealID: req.DealID}
}

func (s *Server) consumeVoucher(w http.ResponseWriter, r *http.Request) {
	var req PlatformVoucherRequest
	if !decode(w, r, &req) {
		return
	}
	rec, ref, err := s.src.Checkout.ConsumeVoucher(r.Context(), req.checkout(signedIn(r.Context()).ID))
	s.settle(w, "consume voucher", rec, ref, err)
}

func (s *Server) provisionalVoucher(w http.ResponseWriter, r *http.Request) {
	var req PlatformVoucherRequest
	if !decode(w, r, &req) {
		return
	}
	rec, ref, err := s.src.Checkout.AcceptProvisional(r.Context(), req.checkout(signedIn(r.Context()).ID))
	s.settle(w, "accept provisional voucher", rec, ref, err)
}
