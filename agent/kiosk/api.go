package kiosk

import "github.com/memberpass/memberpass/agent/checkout"

// The kiosk's requests, as its pages and the OpenAPI document
// (openapi.json) name them: snake_case, and no staff id, which comes
// from the sign-in.

// Approval is a manager's sign-off on money for a member who was not
// scanned at this till: the manager types their id and PIN at the till.
type Approval struct {
	StaffID string `json:"staff_id"`
	PIN     string `json:"pin"`
}

// CheckoutRequest settles (or, at /api/quote, prices) a bill.
type CheckoutRequest struct {
	// TxnID identifies the counter transaction; settling it twice
	// records it once.
	TxnID          string    `json:"txn_id"`
	MemberID       string    `json:"member_id"`
	BillFen        int64     `json:"bill_fen"`
	CouponCode     string    `json:"coupon_code"`
	Points         int64     `json:"points"`
	StoredValueFen int64     `json:"stored_value_fen"`
	Approval       *Approval `json:"approval,omitempty"`
}

func (r CheckoutRequest) checkout(staffID, approvedBy string) checkout.Request {
	return checkout.Request{TxnID: r.TxnID, MemberID: r.MemberID, StaffID: staffID, ApprovedBy: approvedBy,
		BillFen: r.BillFen, CouponCode: r.CouponCode, Points: r.Points, StoredValueFen: r.StoredValueFen}
}

// TopUpRequest adds stored value to a member.
type TopUpRequest struct {
	TxnID     string    `json:"txn_id"`
	MemberID  string    `json:"member_id"`
	AmountFen int64     `json:"amount_fen"`
	Approval  *Approval `json:"approval,omitempty"`
}

// EnrolRequest makes a walk-in a member at the counter.
type EnrolRequest struct {
	TxnID       string `json:"txn_id"`
	Phone       string `json:"phone"`
	Name        string `json:"name"`
	Consent     bool   `json:"consent"`
	VoucherCode string `json:"voucher_code"`
}

// VoucherRequest redeems a group-buy voucher.
type VoucherRequest struct {
	TxnID    string `json:"txn_id"`
	Code     string `json:"code"`
	MemberID string `json:"member_id"`
}
