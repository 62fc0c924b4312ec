package grpcapi_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// TestHQTokensAndAuditLog: a brand's owner makes a marketing token; its
// programme change is in the audit log with who, before and after, which
// an auditor reads; a rotated token's old secret and a revoked token stop
// at once.
func TestHQTokensAndAuditLog(t *testing.T) {
	f := newCloud(t)
	ctx := context.Background()
	f.brand("aud", nil, 0)
	platform := pb.NewAccessServiceClient(f.dial(grpc.WithPerRPCCredentials(tokenCreds(token))))
	ownerTok, err := platform.CreateHQToken(ctx, &pb.CreateHQTokenRequest{BrandId: "aud", Account: "boss", Role: "owner"})
	if err != nil {
		t.Fatal(err)
	}
	as := func(secret string) (pb.AdminServiceClient, pb.AccessServiceClient) {
		conn := f.dial(grpc.WithPerRPCCredentials(tokenCreds(secret)))
		return pb.NewAdminServiceClient(conn), pb.NewAccessServiceClient(conn)
	}
	_, ownerAccess := as(ownerTok.GetSecret())
	mkt, err := ownerAccess.CreateHQToken(ctx, &pb.CreateHQTokenRequest{BrandId: "aud", Account: "alice", Role: "marketing"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ownerAccess.CreateHQToken(ctx, &pb.CreateHQTokenRequest{Account: "eve", Role: "platform"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("owner making a platform token: %v; want PermissionDenied", err)
	}
	mktAdmin, _ := as(mkt.GetSecret())
	prog, err := mktAdmin.GetProgramme(ctx, &pb.GetProgrammeRequest{BrandId: "aud"})
	if err != nil {
		t.Fatal(err)
	}
	prog.PointsPerYuan = 3
	if _, err := mktAdmin.SetProgramme(ctx, &pb.SetProgrammeRequest{BrandId: "aud", Programme: prog}); err != nil {
		t.Fatal(err)
	}
	if _, err := mktAdmin.RevokeDevice(ctx, &pb.RevokeDeviceRequest{BrandId: "aud", DeviceId: "x"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("marketing revoking a device: %v; want PermissionDenied", err)
	}

	audTok, err := ownerAccess.CreateHQToken(ctx, &pb.CreateHQTokenRequest{BrandId: "aud", Account: "carol", Role: "auditor"})
	if err != nil {
		t.Fatal(err)
	}
	_, auditor := as(audTok.GetSecret())
	log, err := auditor.ListAuditLog(ctx, &pb.ListAuditLogRequest{BrandId: "aud"})
	if err != nil {
		t.Fatal(err)
	}
	var set *pb.AuditEntry
	for _, e := range log.GetEntries() {
		if strings.Contains(e.GetRequest(), "secret") || strings.Contains(e.GetAfter(), ownerTok.GetSecret()) {
			t.Fatalf("audit entry %d holds a secret: %v", e.GetSeq(), e)
		}
		if e.GetAction() == "SetProgramme" {
			set = e
		}
	}
	if set == nil || set.GetAccount() != "alice" || !strings.Contains(set.GetBefore(), `"points_per_yuan":1`) || !strings.Contains(set.GetAfter(), `"points_per_yuan":3`) {
		t.Fatalf("audit log %v; want alice's SetProgramme with before and after", log.GetEntries())
	}
	if _, err := auditor.CreateHQToken(ctx, &pb.CreateHQTokenRequest{BrandId: "aud", Account: "x", Role: "owner"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("auditor making a token: %v; want PermissionDenied", err)
	}

	rot, err := ownerAccess.RotateHQToken(ctx, &pb.HQTokenRef{BrandId: "aud", TokenId: mkt.GetToken().GetTokenId()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mktAdmin.GetProgramme(ctx, &pb.GetProgrammeRequest{BrandId: "aud"}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("the rotated-out secret: %v; want Unauthenticated", err)
	}
	rotated, _ := as(rot.GetSecret())
	if _, err := rotated.GetProgramme(ctx, &pb.GetProgrammeRequest{BrandId: "aud"}); err != nil {
		t.Fatalf("the new secret: %v", err)
	}
	if _, err := ownerAccess.RevokeHQToken(ctx, &pb.HQTokenRef{BrandId: "aud", TokenId: mkt.GetToken().GetTokenId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := rotated.GetProgramme(ctx, &pb.GetProgrammeRequest{BrandId: "aud"}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("a revoked token: %v; want Unauthenticated", err)
	}
	list, err := ownerAccess.ListHQTokens(ctx, &pb.ListHQTokensRequest{BrandId: "aud"})
	if err != nil || len(list.GetTokens()) != 3 {
		t.Fatalf("tokens %v, %v; want 3", list, err)
	}
}
