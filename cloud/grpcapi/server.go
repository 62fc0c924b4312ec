// Package grpcapi serves the cloud's gRPC API: SyncService for store agents
// and AdminService for HQ. It converts between the wire (proto/) and the
// domain at this edge and maps application errors to gRPC status codes.
package grpcapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign"
	"github.com/memberpass/memberpass/cloud/loyalty"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// MaxMessageBytes caps a request; a push of MaxPushBatch events fits well.
const MaxMessageBytes = 8 << 20

// DeviceHeader carries "brand/device" beside the bearer secret.
const DeviceHeader = "x-memberpass-device"

// Config holds what the server needs.
type Config struct {
	Service *loyalty.Service
	// Campaigns runs the campaigns; nil: the campaign RPCs answer
	// unimplemented.
	Campaigns *campaign.Engine
	Log       *slog.Logger
	// AdminToken authorises HQ calls.
	AdminToken string
	// PublicAddr is the address agents dial, written into pairing tickets.
	PublicAddr string
	// CAPEM is the CA certificate of the cloud's TLS certificate, handed to
	// agents at pairing; CAFingerprint (hex SHA-256 of it) goes into
	// pairing tickets. Both empty without a private CA.
	CAPEM         []byte
	CAFingerprint string
	// MemberPageURL is the public address of the member pages, to give
	// full card links; empty gives paths only.
	MemberPageURL string
}

// NewServer builds a gRPC server with the sync, admin, health and
// reflection services registered. The health service is returned so the
// caller can mark it not serving on shutdown.
func NewServer(cfg Config, opts ...grpc.ServerOption) (*grpc.Server, *health.Server) {
	a := &auth{svc: cfg.Service, adminToken: cfg.AdminToken, log: cfg.Log}
	opts = append([]grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageBytes),
		grpc.UnaryInterceptor(a.unary),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: time.Minute, Timeout: 20 * time.Second}),
	}, opts...)
	srv := grpc.NewServer(opts...)
	pb.RegisterSyncServiceServer(srv, &syncServer{svc: cfg.Service, caPEM: cfg.CAPEM})
	pb.RegisterAdminServiceServer(srv, &adminServer{svc: cfg.Service, campaigns: cfg.Campaigns, publicAddr: cfg.PublicAddr, caFingerprint: cfg.CAFingerprint, memberPageURL: cfg.MemberPageURL})
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	reflection.Register(srv)
	return srv, hs
}

type ctxKey int

const deviceKey ctxKey = 1

func deviceFrom(ctx context.Context) cloud.Device {
	d, _ := ctx.Value(deviceKey).(cloud.Device)
	return d
}

type auth struct {
	svc        *loyalty.Service
	adminToken string
	log        *slog.Logger
}

func bearer(md metadata.MD) string {
	for _, v := range md.Get("authorization") {
		if t, ok := strings.CutPrefix(v, "Bearer "); ok {
			return t
		}
	}
	return ""
}

func (a *auth) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	switch {
	case strings.HasPrefix(info.FullMethod, "/grpc.") || info.FullMethod == pb.SyncService_Pair_FullMethodName:
		// Health, reflection and pairing need no credentials.
	case strings.HasPrefix(info.FullMethod, "/memberpass.v1.SyncService/"):
		who := md.Get(DeviceHeader)
		if len(who) != 1 {
			return nil, status.Error(codes.Unauthenticated, "missing "+DeviceHeader+" metadata")
		}
		brand, device, ok := strings.Cut(who[0], "/")
		if !ok {
			return nil, status.Error(codes.Unauthenticated, DeviceHeader+" must be brand/device")
		}
		d, err := a.svc.AuthenticateDevice(ctx, brand, device, bearer(md))
		if err != nil {
			return nil, a.toStatus(err, info.FullMethod)
		}
		ctx = context.WithValue(ctx, deviceKey, d)
	case strings.HasPrefix(info.FullMethod, "/memberpass.v1.AdminService/"):
		if a.adminToken == "" || subtle.ConstantTimeCompare([]byte(bearer(md)), []byte(a.adminToken)) != 1 {
			return nil, status.Error(codes.Unauthenticated, "HQ token is missing or wrong")
		}
	default:
		return nil, status.Error(codes.Unimplemented, "unknown method")
	}
	if m, ok := req.(proto.Message); ok {
		var skip []string
		if info.FullMethod == pb.SyncService_PushEvents_FullMethodName {
			skip = []string{"events"} // one by one, see eventAtEdge
		}
		if err := checkBounds(m, skip...); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
	}
	resp, err := handler(ctx, req)
	if err != nil {
		return nil, a.toStatus(err, info.FullMethod)
	}
	return resp, nil
}

// toStatus maps an application error to a gRPC status; internal details
// go to the log only.
func (a *auth) toStatus(err error, method string) error {
	if _, ok := status.FromError(err); ok {
		return err // already a status, made by a handler's own check
	}
	var code codes.Code
	switch cloud.ErrorCode(err) {
	case cloud.Invalid:
		code = codes.InvalidArgument
	case cloud.NotFound:
		code = codes.NotFound
	case cloud.Conflict:
		code = codes.AlreadyExists
	case cloud.Unauthenticated:
		code = codes.Unauthenticated
	case cloud.Forbidden:
		code = codes.PermissionDenied
	default:
		if errors.Is(err, context.Canceled) {
			return status.Error(codes.Canceled, "request canceled")
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return status.Error(codes.DeadlineExceeded, "request deadline exceeded")
		}
		a.log.Error("request failed", "method", method, "err", err)
		return status.Error(codes.Internal, "internal error")
	}
	return status.Error(code, cloud.ErrorMessage(err))
}
