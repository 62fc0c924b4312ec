package grpcapi

import (
	"fmt"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/loyalty"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// maxIDLen bounds the identifiers an event may carry.
const maxIDLen = 64

// validateEvent checks what the bounds cannot: identity, time, and the
// lengths the event's identifiers must keep.
func validateEvent(e *pb.Event) error {
	if e.GetId() == "" || len(e.GetId()) > maxIDLen {
		return fmt.Errorf("event id must be 1 to %d characters", maxIDLen)
	}
	if e.GetSeq() == 0 {
		return fmt.Errorf("seq must start at 1")
	}
	if !e.GetOccurredAt().IsValid() {
		return fmt.Errorf("occurred_at is missing or invalid")
	}
	for name, v := range map[string]string{"store_id": e.GetStoreId(), "member_id": e.GetMemberId(), "staff_id": e.GetStaffId(), "approved_by": e.GetApprovedBy()} {
		if len(v) > maxIDLen {
			return fmt.Errorf("%s is longer than %d characters", name, maxIDLen)
		}
	}
	if v := e.GetVisit(); v != nil && len(v.GetIdentifierHint()) > maxIDLen {
		return fmt.Errorf("visit identifier_hint is longer than %d characters", maxIDLen)
	}
	return nil
}

// eventFromProto converts a pushed event; it checks nothing (see
// checkBounds and validateEvent).
func eventFromProto(e *pb.Event) cloud.Event {
	ev := cloud.Event{
		ID: e.GetId(), Seq: e.GetSeq(), StoreID: e.GetStoreId(), MemberID: e.GetMemberId(), StaffID: e.GetStaffId(), ApprovedBy: e.GetApprovedBy(),
	}
	if e.GetOccurredAt().IsValid() {
		ev.OccurredAt = e.GetOccurredAt().AsTime()
	}
	switch b := e.GetBody().(type) {
	case *pb.Event_Visit:
		ev.Kind = cloud.EventVisit
		ev.Visit = &cloud.Visit{IdentifiedBy: identificationFromProto(b.Visit.GetIdentifiedBy()), IdentifierHint: b.Visit.GetIdentifierHint(), CodeRef: b.Visit.GetCodeRef()}
	case *pb.Event_Purchase:
		p := b.Purchase
		ev.Kind = cloud.EventPurchase
		ev.Purchase = &cloud.Purchase{
			BillFen: p.GetBillFen(), TierDiscountFen: p.GetTierDiscountFen(), CouponCodes: p.GetCouponCodes(), CouponDiscountFen: p.GetCouponDiscountFen(),
			PointsBurned: p.GetPointsBurned(), PointsDiscountFen: p.GetPointsDiscountFen(), StoredValueFen: p.GetStoredValueFen(), PaidOtherFen: p.GetPaidOtherFen(),
			TierID: p.GetTierId(),
		}
		for _, it := range p.GetItems() {
			ev.Purchase.Items = append(ev.Purchase.Items, cloud.Item{SKU: it.GetSku(), Name: it.GetName(), Quantity: it.GetQuantity(), UnitPriceFen: it.GetUnitPriceFen()})
		}
	case *pb.Event_TopUp:
		ev.Kind = cloud.EventTopUp
		ev.TopUp = &cloud.TopUp{AmountFen: b.TopUp.GetAmountFen(), BonusFen: b.TopUp.GetBonusFen()}
	case *pb.Event_Refund:
		ev.Kind = cloud.EventRefund
		ev.Refund = &cloud.Refund{PurchaseEventID: b.Refund.GetPurchaseEventId(), AmountFen: b.Refund.GetAmountFen()}
	case *pb.Event_VoucherRedemption:
		ev.Kind = cloud.EventVoucher
		v := b.VoucherRedemption
		ev.Voucher = &cloud.VoucherRedemption{Code: v.GetCode(), Platform: v.GetPlatform(), Count: int(v.GetCount()), DealID: v.GetDealId(),
			Title: v.GetTitle(), PriceFen: v.GetPriceFen(), Provisional: v.GetProvisional(), ConsumptionKey: v.GetConsumptionKey()}
	case *pb.Event_Enrolment:
		e := b.Enrolment
		ev.Kind = cloud.EventEnrolment
		ev.Enrolment = &cloud.Enrolment{Phone: e.GetPhone(), Name: e.GetName(), VoucherCode: e.GetVoucherCode(), LocalRef: e.GetLocalRef(), ReferrerID: e.GetReferrerMemberId(), Consent: e.GetConsent()}
	default:
		// Kept and rejected by the service with a reason, so an agent
		// newer than the cloud never blocks its own outbox.
		ev.Kind = "unknown"
	}
	return ev
}

func eventToProto(e cloud.Event) *pb.Event {
	out := &pb.Event{
		Id: e.ID, Seq: e.Seq, OccurredAt: timestamppb.New(e.OccurredAt),
		StoreId: e.StoreID, MemberId: e.MemberID, StaffId: e.StaffID, ApprovedBy: e.ApprovedBy,
	}
	switch {
	case e.Visit != nil:
		out.Body = &pb.Event_Visit{Visit: &pb.Visit{IdentifiedBy: identificationToProto(e.Visit.IdentifiedBy), IdentifierHint: e.Visit.IdentifierHint, CodeRef: e.Visit.CodeRef}}
	case e.Purchase != nil:
		p := e.Purchase
		pp := &pb.Purchase{
			BillFen: p.BillFen, TierDiscountFen: p.TierDiscountFen, CouponCodes: p.CouponCodes, CouponDiscountFen: p.CouponDiscountFen,
			PointsBurned: p.PointsBurned, PointsDiscountFen: p.PointsDiscountFen, StoredValueFen: p.StoredValueFen, PaidOtherFen: p.PaidOtherFen, TierId: p.TierID,
		}
		for _, it := range p.Items {
			pp.Items = append(pp.Items, &pb.Item{Sku: it.SKU, Name: it.Name, Quantity: it.Quantity, UnitPriceFen: it.UnitPriceFen})
		}
		out.Body = &pb.Event_Purchase{Purchase: pp}
	case e.TopUp != nil:
		out.Body = &pb.Event_TopUp{TopUp: &pb.TopUp{AmountFen: e.TopUp.AmountFen, BonusFen: e.TopUp.BonusFen}}
	case e.Refund != nil:
		out.Body = &pb.Event_Refund{Refund: &pb.Refund{PurchaseEventId: e.Refund.PurchaseEventID, AmountFen: e.Refund.AmountFen}}
	case e.Voucher != nil:
		v := e.Voucher
		out.Body = &pb.Event_VoucherRedemption{VoucherRedemption: &pb.VoucherRedemption{Code: v.Code, Platform: v.Platform, Count: int32(v.Count),
			DealId: v.DealID, Title: v.Title, PriceFen: v.PriceFen, Provisional: v.Provisional, ConsumptionKey: v.ConsumptionKey}}
	case e.Enrolment != nil:
		en := e.Enrolment
		out.Body = &pb.Event_Enrolment{Enrolment: &pb.Enrolment{Phone: en.Phone, Name: en.Name, VoucherCode: en.VoucherCode, LocalRef: en.LocalRef, ReferrerMemberId: en.ReferrerID, Consent: en.Consent}}
	}
	return out
}

var identifications = map[cloud.Identification]pb.Identification{
	cloud.ByMemberCode: pb.Identification_IDENTIFICATION_MEMBER_CODE,
	cloud.ByCard:       pb.Identification_IDENTIFICATION_CARD,
	cloud.ByPhone:      pb.Identification_IDENTIFICATION_PHONE,
}

func identificationToProto(i cloud.Identification) pb.Identification { return identifications[i] }

func identificationFromProto(p pb.Identification) cloud.Identification {
	for k, v := range identifications {
		if v == p {
			return k
		}
	}
	return ""
}

func outcomeToProto(o cloud.Outcome) pb.Outcome {
	switch o {
	case cloud.Applied:
		return pb.Outcome_OUTCOME_APPLIED
	case cloud.Duplicate:
		return pb.Outcome_OUTCOME_DUPLICATE
	case cloud.Rejected:
		return pb.Outcome_OUTCOME_REJECTED
	}
	return pb.Outcome_OUTCOME_UNSPECIFIED
}

func tsOrNil(t interface{ IsZero() bool }, ts *timestamppb.Timestamp) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return ts
}

func memberToProto(m cloud.Member) *pb.Member {
	return &pb.Member{
		BrandId: m.BrandID, Id: m.ID, Phone: m.Phone, Name: m.Name, CardNumbers: m.Cards, Visits: m.Visits,
		CreatedAt: timestamppb.New(m.CreatedAt), LastVisitAt: tsOrNil(m.LastVisitAt, timestamppb.New(m.LastVisitAt)),
		Birthday: m.Birthday, Consent: m.Consent, Tags: m.Tags, TierId: m.TierID, Points: m.Points,
		StoredValuePrincipalFen: m.SVPrincipal, StoredValueBonusFen: m.SVBonus, TotalSpendFen: m.TotalSpendFen, MergedInto: m.MergedInto,
		Source: &pb.MemberSource{Channel: m.Source.Channel, StoreId: m.Source.StoreID, StaffId: m.Source.StaffID, CampaignId: m.Source.CampaignID, ReferrerMemberId: m.Source.ReferrerID,
			Platform: m.Source.Platform, DealId: m.Source.DealID},
	}
}

// snapshotToProto is what a store's replica may know of a member: the
// phone masked, the birthday without its year.
func snapshotToProto(m cloud.Member) *pb.MemberSnapshot {
	birthday := m.Birthday
	if len(birthday) == len("2006-01-02") {
		birthday = birthday[5:]
	}
	return &pb.MemberSnapshot{
		Id: m.ID, PhoneMasked: loyalty.MaskPhone(m.Phone), Name: m.Name, Visits: m.Visits, Deleted: m.MergedInto != "",
		TierId: m.TierID, Points: m.Points, StoredValueFen: m.StoredValue(), Birthday: birthday, MergedInto: m.MergedInto, Tags: m.Tags,
	}
}
