package grpcapi

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/loyalty"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// accessServer serves HQ tokens and the audit log; who may call what is
// in permissions.go.
type accessServer struct {
	pb.UnimplementedAccessServiceServer
	svc *loyalty.Service
}

func hqTokenToProto(t cloud.HQToken) *pb.HQToken {
	return &pb.HQToken{
		BrandId: t.BrandID, TokenId: t.ID, Account: t.Account, Role: string(t.Role), StoreIds: t.StoreIDs,
		CreatedAt: timestamppb.New(t.CreatedAt), CreatedBy: t.CreatedBy,
		ExpiresAt: tsOrNil(t.ExpiresAt, timestamppb.New(t.ExpiresAt)), RevokedAt: tsOrNil(t.RevokedAt, timestamppb.New(t.RevokedAt)),
	}
}

func (s *accessServer) CreateHQToken(ctx context.Context, req *pb.CreateHQTokenRequest) (*pb.HQTokenSecret, error) {
	by := hqPrincipal(ctx)
	t, secret, err := s.svc.CreateHQToken(ctx, by.Account+" ("+by.ID+")", loyalty.NewHQToken{
		BrandID: req.GetBrandId(), Account: req.GetAccount(), Role: cloud.Role(req.GetRole()), StoreIDs: req.GetStoreIds(),
		TTL: time.Duration(req.GetTtlSeconds()) * time.Second,
	})
	if err != nil {
		return nil, err
	}
	return &pb.HQTokenSecret{Token: hqTokenToProto(t), Secret: secret}, nil
}

func (s *accessServer) ListHQTokens(ctx context.Context, req *pb.ListHQTokensRequest) (*pb.ListHQTokensResponse, error) {
	ts, err := s.svc.HQTokens(ctx, req.GetBrandId())
	if err != nil {
		return nil, err
	}
	out := &pb.ListHQTokensResponse{}
	for _, t := range ts {
		out.Tokens = append(out.Tokens, hqTokenToProto(t))
	}
	return out, nil
}

func (s *accessServer) RevokeHQToken(ctx context.Context, req *pb.HQTokenRef) (*pb.HQToken, error) {
	t, err := s.svc.RevokeHQToken(ctx, req.GetBrandId(), req.GetTokenId())
	if err != nil {
		return nil, err
	}
	return hqTokenToProto(t), nil
}

func (s *accessServer) RotateHQToken(ctx context.Context, req *pb.HQTokenRef) (*pb.HQTokenSecret, error) {
	t, secret, err := s.svc.RotateHQToken(ctx, req.GetBrandId(), req.GetTokenId())
	if err != nil {
		return nil, err
	}
	return &pb.HQTokenSecret{Token: hqTokenToProto(t), Secret: secret}, nil
}

func (s *accessServer) ListAuditLog(ctx context.Context, req *pb.ListAuditLogRequest) (*pb.ListAuditLogResponse, error) {
	es, next, err := s.svc.AuditLog(ctx, req.GetBrandId(), req.GetPageToken(), int(req.GetLimit()))
	if err != nil {
		return nil, err
	}
	out := &pb.ListAuditLogResponse{NextPageToken: next}
	for _, e := range es {
		out.Entries = append(out.Entries, &pb.AuditEntry{Seq: e.Seq, At: timestamppb.New(e.At), Account: e.Account, TokenId: e.TokenID,
			Action: e.Action, Target: e.Target, Request: e.Request, Before: e.Before, After: e.After})
	}
	return out, nil
}
