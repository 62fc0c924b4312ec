package grpcapi

import (
	"bytes"
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/groupbuy"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// refusalOf turns a platform refusal into the answer's fields; other
// errors stay errors.
func refusalOf(err error) (string, string, error) {
	if r, ok := groupbuy.AsRefusal(err); ok {
		return string(r.Reason), r.Detail, nil
	}
	return "", "", err
}

func (s *syncServer) PrepareVoucher(ctx context.Context, req *pb.PrepareVoucherRequest) (*pb.PrepareVoucherResponse, error) {
	if s.gb == nil {
		return &pb.PrepareVoucherResponse{Refusal: string(groupbuy.ReasonNoPlatform), Detail: "no group-buy platform is configured on this cloud"}, nil
	}
	d := deviceFrom(ctx)
	deal, err := s.gb.Prepare(ctx, d.BrandID, d.StoreID, req.GetPlatform(), req.GetCode())
	if err != nil {
		reason, detail, err := refusalOf(err)
		if err != nil {
			return nil, err
		}
		return &pb.PrepareVoucherResponse{Refusal: reason, Detail: detail}, nil
	}
	return &pb.PrepareVoucherResponse{Deal: dealToProto(deal)}, nil
}

func dealToProto(d groupbuy.Deal) *pb.VoucherDeal {
	out := &pb.VoucherDeal{Platform: d.Platform, Code: d.Code, DealId: d.DealID, Title: d.Title, PriceFen: d.PriceFen, CountLeft: int32(d.CountLeft)}
	if !d.ExpiresAt.IsZero() {
		out.ExpiresAt = timestamppb.New(d.ExpiresAt)
	}
	return out
}

func (s *syncServer) ConsumeVoucher(ctx context.Context, req *pb.ConsumeVoucherRequest) (*pb.ConsumeVoucherResponse, error) {
	if s.gb == nil {
		return &pb.ConsumeVoucherResponse{State: string(cloud.ConsumeRefused), Refusal: string(groupbuy.ReasonNoPlatform), Detail: "no group-buy platform is configured on this cloud"}, nil
	}
	d := deviceFrom(ctx)
	rec, err := s.gb.Consume(ctx, groupbuy.ConsumeRequest{
		BrandID: d.BrandID, StoreID: d.StoreID, DeviceID: d.ID, StaffID: req.GetStaffId(),
		Platform: req.GetPlatform(), Code: req.GetCode(), Count: int(req.GetCount()), Key: d.ID + "/" + req.GetIdempotencyKey(),
	})
	reason, detail, err := refusalOf(err)
	if err != nil {
		return nil, err
	}
	out := &pb.ConsumeVoucherResponse{State: string(rec.State), Count: int32(rec.Count), Refusal: reason, Detail: detail,
		Deal: &pb.VoucherDeal{Platform: req.GetPlatform(), Code: req.GetCode(), DealId: rec.DealID, Title: rec.Title, PriceFen: rec.PriceFen}}
	if out.State == "" {
		out.State = string(cloud.ConsumeRefused)
	}
	if reason != "" && rec.State == cloud.ConsumePending {
		out.State = string(cloud.ConsumePending)
	}
	if !rec.ConsumedAt.IsZero() {
		out.ConsumedAt = timestamppb.New(rec.ConsumedAt)
	}
	return out, nil
}

func (s *adminServer) needGroupBuy() error {
	if s.gb == nil {
		return status.Error(codes.FailedPrecondition, "no group-buy platform is configured on this cloud (--groupbuy-config)")
	}
	return nil
}

func bindingToProto(b cloud.ShopBinding) *pb.VoucherShopBinding {
	return &pb.VoucherShopBinding{BrandId: b.BrandID, StoreId: b.StoreID, Platform: b.Platform, ShopId: b.ShopID, BoundAt: timestamppb.New(b.BoundAt)}
}

func (s *adminServer) BindVoucherShop(ctx context.Context, req *pb.BindVoucherShopRequest) (*pb.VoucherShopBinding, error) {
	if err := s.needGroupBuy(); err != nil {
		return nil, err
	}
	b, err := s.gb.Bind(ctx, req.GetBrandId(), req.GetStoreId(), req.GetPlatform(), req.GetShopId())
	if err != nil {
		return nil, err
	}
	return bindingToProto(b), nil
}

func (s *adminServer) ListVoucherShops(ctx context.Context, req *pb.ListVoucherShopsRequest) (*pb.ListVoucherShopsResponse, error) {
	if err := s.needGroupBuy(); err != nil {
		return nil, err
	}
	bs, err := s.gb.Bindings(ctx, req.GetBrandId())
	if err != nil {
		return nil, err
	}
	out := &pb.ListVoucherShopsResponse{}
	for _, b := range bs {
		out.Bindings = append(out.Bindings, bindingToProto(b))
	}
	return out, nil
}

func (s *adminServer) ReconcileVouchers(ctx context.Context, req *pb.ReconcileVouchersRequest) (*pb.VoucherReconciliation, error) {
	if err := s.needGroupBuy(); err != nil {
		return nil, err
	}
	day, err := time.ParseInLocation("2006-01-02", req.GetDay(), s.gb.Location)
	if err != nil {
		return nil, cloud.Errorf(cloud.Invalid, "day %q is not YYYY-MM-DD", req.GetDay())
	}
	var lines []groupbuy.SettlementLine
	if len(req.GetStatementCsv()) > 0 {
		bs, err := s.gb.Bindings(ctx, req.GetBrandId())
		if err != nil {
			return nil, err
		}
		shop := ""
		for _, b := range bs {
			if b.StoreID == req.GetStoreId() && b.Platform == req.GetPlatform() {
				shop = b.ShopID
			}
		}
		if lines, err = groupbuy.ParseStatement(bytes.NewReader(req.GetStatementCsv()), req.GetPlatform(), shop); err != nil {
			return nil, err
		}
	}
	rep, err := s.gb.Reconcile(ctx, req.GetBrandId(), req.GetPlatform(), req.GetStoreId(), day, lines)
	if err != nil {
		if r, ok := groupbuy.AsRefusal(err); ok {
			return nil, status.Errorf(codes.Unavailable, "%s: %s", r.Reason, r.Detail)
		}
		return nil, err
	}
	out := &pb.VoucherReconciliation{BrandId: rep.BrandID, StoreId: rep.StoreID, Platform: rep.Platform, ShopId: rep.ShopID, Day: rep.Day, Source: rep.Source,
		HereUses: int32(rep.HereUses), HereFen: rep.HereFen, PlatformUses: int32(rep.PlatformUses), PlatformFen: rep.PlatformFen, Matched: int32(rep.Matched)}
	for _, m := range rep.Mismatches {
		out.Mismatches = append(out.Mismatches, &pb.VoucherMismatch{Kind: m.Kind, Code: m.Code, Ref: m.Ref, DealId: m.DealID, HereFen: m.HereFen, PlatformFen: m.PlatformFen, Detail: m.Detail})
	}
	return out, nil
}
