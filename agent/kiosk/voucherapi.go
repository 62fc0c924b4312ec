package kiosk

import (
	"net/http"

	"github.com/memberpass/memberpass/agent/checkout"
)

// Group-buy platform vouchers at the counter: check a code with its
// platform (through the cloud), consume the uses the cashier confirms,
// or, with the cloud out of reach, accept it provisionally within the
// brand's offline policy.
func (s *Server) routeVouchers() {
	s.mux.HandleFunc("POST /api/vouchers/check", s.checkVoucher)
	s.mux.HandleFunc("POST /api/vouchers/consume", s.consumeVoucher)
	s.mux.HandleFunc("POST /api/vouchers/provisional", s.provisionalVoucher)
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

func (s *Server) consumeVoucher(w http.ResponseWriter, r *http.Request) {
	var req checkout.PlatformVoucherRequest
	if !decode(w, r, &req) {
		return
	}
	rec, ref, err := s.src.Checkout.ConsumeVoucher(r.Context(), req)
	s.settle(w, "consume voucher", rec, ref, err)
}

func (s *Server) provisionalVoucher(w http.ResponseWriter, r *http.Request) {
	var req checkout.PlatformVoucherRequest
	if !decode(w, r, &req) {
		return
	}
	rec, ref, err := s.src.Checkout.AcceptProvisional(r.Context(), req)
	s.settle(w, "accept provisional voucher", rec, ref, err)
}
