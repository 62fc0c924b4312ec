package cloudsync

import (
	"fmt"
	"time"

	"github.com/memberpass/memberpass/agent"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// offerEventToProto sets the body of the counter's money events.
func offerEventToProto(e agent.Event, out *pb.Event) {
	switch {
	case e.Purchase != nil:
		p := e.Purchase
		out.Body = &pb.Event_Purchase{Purchase: &pb.Purchase{
			BillFen: p.BillFen, TierId: p.TierID, TierDiscountFen: p.TierDiscountFen,
			CouponCodes: p.CouponCodes, CouponDiscountFen: p.CouponDiscountFen,
			PointsBurned: p.PointsBurned, PointsDiscountFen: p.PointsDiscountFen,
			StoredValueFen: p.StoredValueFen, PaidOtherFen: p.PaidOtherFen,
		}}
	case e.TopUp != nil:
		out.Body = &pb.Event_TopUp{TopUp: &pb.TopUp{AmountFen: e.TopUp.AmountFen, BonusFen: e.TopUp.BonusFen}}
	case e.Voucher != nil:
		v := e.Voucher
		out.Body = &pb.Event_VoucherRedemption{VoucherRedemption: &pb.VoucherRedemption{Code: v.Code, Platform: v.Platform, Count: int32(v.Count),
			DealId: v.DealID, Title: v.Title, PriceFen: v.PriceFen, Provisional: v.Provisional, ConsumptionKey: v.ConsumptionKey}}
	case e.Enrolment != nil:
		en := e.Enrolment
		out.Body = &pb.Event_Enrolment{Enrolment: &pb.Enrolment{
			Phone: en.Phone, Name: en.Name, VoucherCode: en.VoucherCode, LocalRef: en.LocalRef, Consent: en.Consent,
		}}
	}
}

// offerChangeFromProto reads coupon, voucher and programme changes; a
// malformed one is an error (a broken cloud, not an offer).
func offerChangeFromProto(c *pb.Change, out *agent.Change) error {
	switch b := c.GetBody().(type) {
	case *pb.Change_Coupon:
		cp := b.Coupon
		if cp.GetCode() == "" || len(cp.GetCode()) > maxIDLen || len(cp.GetMemberId()) > maxIDLen || len(cp.GetName()) > maxTextLen {
			return fmt.Errorf("coupon %.20q is malformed", cp.GetCode())
		}
		out.Coupon = &agent.Coupon{
			Code: cp.GetCode(), MemberID: cp.GetMemberId(), TemplateID: cp.GetTemplateId(), Name: cp.GetName(),
			Kind: couponKind(cp.GetKind()), AmountOffFen: cp.GetAmountOffFen(), PercentOffBP: cp.GetPercentOffBp(),
			FreeItem: cp.GetFreeItem(), MinSpendFen: cp.GetMinSpendFen(),
			ValidFrom: timeOf(cp.GetValidFrom()),
			ExpiresAt: timeOf(cp.GetExpiresAt()),
			StoreIDs:  cp.GetStoreIds(), State: couponState(cp.GetState()),
		}
	case *pb.Change_Voucher:
		v := b.Voucher
		if v.GetCode() == "" || len(v.GetCode()) > maxIDLen || len(v.GetTitle()) > maxTextLen {
			return fmt.Errorf("voucher %.20q is malformed", v.GetCode())
		}
		out.Voucher = &agent.Voucher{
			Code: v.GetCode(), Platform: v.GetPlatform(), CampaignID: v.GetCampaignId(), Title: v.GetTitle(),
			FaceValueFen: v.GetFaceValueFen(), Redeemed: v.GetRedeemed(),
			ExpiresAt: timeOf(v.GetExpiresAt()),
		}
	case *pb.Change_Programme:
		p := b.Programme
		prog := &agent.Programme{PointsPerYuan: p.GetPointsPerYuan(), PointValueFen: p.GetPointValueFen()}
		for _, t := range p.GetTiers() {
			prog.Tiers = append(prog.Tiers, agent.Tier{
				ID: t.GetId(), Name: t.GetName(), NameEn: t.GetNameEn(), Rank: t.GetRank(),
				DiscountBP: t.GetDiscountBp(), PointsMultiplierPct: t.GetPointsMultiplierPct(),
			})
		}
		for _, r := range p.GetTopUpRules() {
			prog.TopUpRules = append(prog.TopUpRules, agent.TopUpRule{MinAmountFen: r.GetMinAmountFen(), BonusFen: r.GetBonusFen()})
		}
		if o := p.GetOffline(); o != nil {
			prog.Offline = agent.OfflinePolicy{
				MaxStoredValuePerMemberDayFen: o.GetMaxStoredValuePerMemberDayFen(),
				MaxPointsBurnPerMemberDay:     o.GetMaxPointsBurnPerMemberDay(),
				MaxReplicaAge:                 time.Duration(o.GetMaxReplicaAgeSeconds()) * time.Second,
				MaxProvisionalVouchersPerDay:  int(o.GetMaxProvisionalVouchersPerDay()),
			}
			for _, d := range o.GetProvisionalDeals() {
				if len(d.GetDealId()) > maxIDLen || len(d.GetTitle()) > maxTextLen {
					return fmt.Errorf("provisional deal %.20q is malformed", d.GetDealId())
				}
				prog.Offline.ProvisionalDeals = append(prog.Offline.ProvisionalDeals, agent.ProvisionalDeal{
					Platform: d.GetPlatform(), DealID: d.GetDealId(), Title: d.GetTitle(), PriceFen: d.GetPriceFen()})
			}
		}
		out.Programme = prog
	}
	return nil
}

func timeOf(ts interface {
	IsValid() bool
	AsTime() time.Time
}) time.Time {
	if ts == nil || !ts.IsValid() {
		return time.Time{}
	}
	return ts.AsTime().UTC()
}

func couponKind(k pb.CouponKind) agent.CouponKind {
	switch k {
	case pb.CouponKind_COUPON_KIND_AMOUNT_OFF:
		return agent.CouponAmountOff
	case pb.CouponKind_COUPON_KIND_PERCENT_OFF:
		return agent.CouponPercentOff
	case pb.CouponKind_COUPON_KIND_FREE_ITEM:
		return agent.CouponFreeItem
	}
	return ""
}

func couponState(s pb.CouponState) agent.CouponState {
	switch s {
	case pb.CouponState_COUPON_STATE_ISSUED:
		return agent.CouponIssued
	case pb.CouponState_COUPON_STATE_REDEEMED:
		return agent.CouponRedeemed
	case pb.CouponState_COUPON_STATE_EXPIRED:
		return agent.CouponExpired
	case pb.CouponState_COUPON_STATE_VOID:
		return agent.CouponVoid
	}
	return ""
}
