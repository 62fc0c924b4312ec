package cloudsync

import (
	"context"
	"fmt"
	"strings"

	"github.com/memberpass/memberpass/agent"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// PrepareVoucher asks the cloud to check a group-buy voucher code with its
// platform. A platform's refusal is an answer (refusal, detail); an error
// means the cloud was not reached or failed.
func (s *Syncer) PrepareVoucher(ctx context.Context, platform, code string) (agent.PlatformDeal, string, string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	resp, err := s.client.PrepareVoucher(ctx, &pb.PrepareVoucherRequest{Platform: platform, Code: code})
	if err != nil {
		return agent.PlatformDeal{}, "", "", fmt.Errorf("prepare voucher: %w", err)
	}
	if resp.GetRefusal() != "" {
		return agent.PlatformDeal{}, bounded(resp.GetRefusal(), maxIDLen), bounded(resp.GetDetail(), maxTextLen), nil
	}
	return dealFromProto(resp.GetDeal()), "", "", nil
}

// ConsumeVoucher asks the cloud to consume a platform voucher once for
// the request's key.
func (s *Syncer) ConsumeVoucher(ctx context.Context, req agent.ConsumeVoucher) (agent.PlatformConsumption, error) {
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	resp, err := s.client.ConsumeVoucher(ctx, &pb.ConsumeVoucherRequest{Platform: req.Platform, Code: req.Code, Count: int32(req.Count),
		IdempotencyKey: req.Key, StaffId: req.StaffID})
	if err != nil {
		return agent.PlatformConsumption{}, fmt.Errorf("consume voucher: %w", err)
	}
	return agent.PlatformConsumption{State: bounded(resp.GetState(), 20), Deal: dealFromProto(resp.GetDeal()), Count: int(resp.GetCount()),
		Refusal: bounded(resp.GetRefusal(), maxIDLen), Detail: bounded(resp.GetDetail(), maxTextLen), ConsumedAt: timeOf(resp.GetConsumedAt())}, nil
}

func dealFromProto(d *pb.VoucherDeal) agent.PlatformDeal {
	return agent.PlatformDeal{Platform: bounded(d.GetPlatform(), 20), Code: bounded(d.GetCode(), maxIDLen), DealID: bounded(d.GetDealId(), maxIDLen),
		Title: bounded(d.GetTitle(), maxTextLen), PriceFen: d.GetPriceFen(), CountLeft: int(d.GetCountLeft()), ExpiresAt: timeOf(d.GetExpiresAt())}
}

// bounded cuts what the cloud sent to what the counter shows.
func bounded(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "")
	}
	return s
}
