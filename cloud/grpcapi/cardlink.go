package grpcapi

import (
	"context"
	"strings"

	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

func (s *adminServer) GetMemberCardLink(ctx context.Context, req *pb.GetMemberCardLinkRequest) (*pb.MemberCardLink, error) {
	path, err := s.svc.CardLinkPath(ctx, req.GetBrandId(), req.GetMemberId())
	if err != nil {
		return nil, err
	}
	out := &pb.MemberCardLink{Path: path}
	if s.memberPageURL != "" {
		out.Url = strings.TrimRight(s.memberPageURL, "/") + path
	}
	return out, nil
}

func (s *adminServer) RevokeMemberCardLinks(ctx context.Context, req *pb.GetMemberCardLinkRequest) (*pb.MemberCardLink, error) {
	if err := s.svc.RevokeCardLinks(ctx, req.GetBrandId(), req.GetMemberId()); err != nil {
		return nil, err
	}
	return s.GetMemberCardLink(ctx, req)
}
