package grpcapi

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/loyalty"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

func programmeToProto(p cloud.Programme) *pb.Programme {
	out := &pb.Programme{
		TierWindowDays: int32(p.TierWindowDays), PointsPerYuan: int32(p.PointsPerYuan), PointValueFen: p.PointValueFen,
		PointsExpireYears: int32(p.PointsExpireYears),
		Offline: &pb.OfflinePolicy{
			MaxStoredValuePerMemberDayFen: p.Offline.MaxStoredValuePerMemberDayFen,
			MaxPointsBurnPerMemberDay:     p.Offline.MaxPointsBurnPerMemberDay,
			MaxReplicaAgeSeconds:          int64(p.Offline.MaxReplicaAge / time.Second),
			MaxProvisionalVouchersPerDay:  int32(p.Offline.MaxProvisionalVouchersPerDay),
		},
	}
	for _, d := range p.Offline.ProvisionalDeals {
		out.Offline.ProvisionalDeals = append(out.Offline.ProvisionalDeals, &pb.ProvisionalDeal{Platform: d.Platform, DealId: d.DealID, Title: d.Title, PriceFen: d.PriceFen})
	}
	for _, t := range p.Tiers {
		out.Tiers = append(out.Tiers, &pb.Tier{Id: t.ID, Name: t.Name, NameEn: t.NameEn, Rank: int32(t.Rank), DiscountBp: int32(t.DiscountBP),
			PointsMultiplierPct: int32(t.PointsMultiplierPct), UpgradeSpendFen: t.UpgradeSpendFen, UpgradeVisits: int32(t.UpgradeVisits)})
	}
	for _, d := range p.BonusDays {
		out.BonusDays = append(out.BonusDays, &pb.BonusDay{Weekday: int32(d.Weekday), Date: d.Date, MultiplierPct: int32(d.MultiplierPct)})
	}
	for _, r := range p.TopUpRules {
		out.TopUpRules = append(out.TopUpRules, &pb.TopUpRule{MinAmountFen: r.MinAmountFen, BonusFen: r.BonusFen})
	}
	return out
}

func programmeFromProto(p *pb.Programme) cloud.Programme {
	out := cloud.Programme{
		TierWindowDays: int(p.GetTierWindowDays()), PointsPerYuan: int(p.GetPointsPerYuan()), PointValueFen: p.GetPointValueFen(),
		PointsExpireYears: int(p.GetPointsExpireYears()),
		Offline: cloud.OfflinePolicy{
			MaxStoredValuePerMemberDayFen: p.GetOffline().GetMaxStoredValuePerMemberDayFen(),
			MaxPointsBurnPerMemberDay:     p.GetOffline().GetMaxPointsBurnPerMemberDay(),
			MaxReplicaAge:                 time.Duration(p.GetOffline().GetMaxReplicaAgeSeconds()) * time.Second,
			MaxProvisionalVouchersPerDay:  int(p.GetOffline().GetMaxProvisionalVouchersPerDay()),
		},
	}
	for _, d := range p.GetOffline().GetProvisionalDeals() {
		out.Offline.ProvisionalDeals = append(out.Offline.ProvisionalDeals, cloud.ProvisionalDeal{Platform: d.GetPlatform(), DealID: d.GetDealId(), Title: d.GetTitle(), PriceFen: d.GetPriceFen()})
	}
	for _, t := range p.GetTiers() {
		out.Tiers = append(out.Tiers, cloud.Tier{ID: t.GetId(), Name: t.GetName(), NameEn: t.GetNameEn(), Rank: int(t.GetRank()), DiscountBP: int(t.GetDiscountBp()),
			PointsMultiplierPct: int(t.GetPointsMultiplierPct()), UpgradeSpendFen: t.GetUpgradeSpendFen(), UpgradeVisits: int(t.GetUpgradeVisits())})
	}
	for _, d := range p.GetBonusDays() {
		out.BonusDays = append(out.BonusDays, cloud.BonusDay{Weekday: int(d.GetWeekday()), Date: d.GetDate(), MultiplierPct: int(d.GetMultiplierPct())})
	}
	for _, r := range p.GetTopUpRules() {
		out.TopUpRules = append(out.TopUpRules, cloud.TopUpRule{MinAmountFen: r.GetMinAmountFen(), BonusFen: r.GetBonusFen()})
	}
	return out
}

var couponKinds = map[cloud.CouponKind]pb.CouponKind{
	cloud.AmountOff:  pb.CouponKind_COUPON_KIND_AMOUNT_OFF,
	cloud.PercentOff: pb.CouponKind_COUPON_KIND_PERCENT_OFF,
	cloud.FreeItem:   pb.CouponKind_COUPON_KIND_FREE_ITEM,
}

var couponStates = map[cloud.CouponState]pb.CouponState{
	cloud.CouponIssued:   pb.CouponState_COUPON_STATE_ISSUED,
	cloud.CouponRedeemed: pb.CouponState_COUPON_STATE_REDEEMED,
	cloud.CouponExpired:  pb.CouponState_COUPON_STATE_EXPIRED,
	cloud.CouponVoid:     pb.CouponState_COUPON_STATE_VOID,
}

func couponKindFromProto(k pb.CouponKind) cloud.CouponKind {
	for c, p := range couponKinds {
		if p == k {
			return c
		}
	}
	return ""
}

func tsOf(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func timeOf(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

func templateToProto(t cloud.CouponTemplate) *pb.CouponTemplate {
	return &pb.CouponTemplate{
		BrandId: t.BrandID, Id: t.ID, Name: t.Name, Kind: couponKinds[t.Kind], AmountOffFen: t.AmountOffFen, PercentOffBp: int32(t.PercentOffBP),
		FreeItem: t.FreeItem, MinSpendFen: t.MinSpendFen, ValidFrom: tsOf(t.ValidFrom), ValidUntil: tsOf(t.ValidUntil), ValidDays: int32(t.ValidDays),
		StoreIds: t.StoreIDs, PerMemberLimit: int32(t.PerMemberLimit),
	}
}

func templateFromProto(t *pb.CouponTemplate) cloud.CouponTemplate {
	return cloud.CouponTemplate{
		BrandID: t.GetBrandId(), ID: t.GetId(), Name: t.GetName(), Kind: couponKindFromProto(t.GetKind()), AmountOffFen: t.GetAmountOffFen(),
		PercentOffBP: int(t.GetPercentOffBp()), FreeItem: t.GetFreeItem(), MinSpendFen: t.GetMinSpendFen(), ValidFrom: timeOf(t.GetValidFrom()),
		ValidUntil: timeOf(t.GetValidUntil()), ValidDays: int(t.GetValidDays()), StoreIDs: t.GetStoreIds(), PerMemberLimit: int(t.GetPerMemberLimit()),
	}
}

func couponToProto(c loyalty.CouponView) *pb.CouponSnapshot {
	return &pb.CouponSnapshot{
		Code: c.Code, MemberId: c.MemberID, TemplateId: c.TemplateID, Name: c.Template.Name, Kind: couponKinds[c.Template.Kind],
		AmountOffFen: c.Template.AmountOffFen, PercentOffBp: int32(c.Template.PercentOffBP), FreeItem: c.Template.FreeItem,
		MinSpendFen: c.Template.MinSpendFen, ValidFrom: tsOf(c.ValidFrom), ExpiresAt: tsOf(c.ExpiresAt), StoreIds: c.Template.StoreIDs,
		State: couponStates[c.State],
	}
}

func voucherToProto(v cloud.Voucher) *pb.VoucherSnapshot {
	return &pb.VoucherSnapshot{Code: v.Code, Platform: v.Platform, CampaignId: v.CampaignID, FaceValueFen: v.FaceValueFen, Redeemed: v.Redeemed, ExpiresAt: tsOf(v.ExpiresAt), Title: v.Title}
}

func conflictToProto(c cloud.ConflictRecord) *pb.Conflict {
	return &pb.Conflict{Seq: c.Seq, At: tsOf(c.At), Kind: c.Kind, EventId: c.EventID, DeviceId: c.DeviceID, StoreId: c.StoreID, MemberId: c.MemberID, Detail: c.Detail, Resolution: c.Resolution, AmountFen: c.AmountFen}
}

func importReportToProto(r loyalty.ImportReport) *pb.ImportReport {
	out := &pb.ImportReport{Created: int32(r.Created), Unchanged: int32(r.Unchanged), Written: r.Written}
	for _, e := range r.Errors {
		out.Errors = append(out.Errors, &pb.RowError{Line: int32(e.Line), Field: e.Field, Message: e.Message})
	}
	return out
}
