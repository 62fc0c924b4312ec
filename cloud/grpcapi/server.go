// Package grpcapi serves the cloud's gRPC API: SyncService for store agents
// and AdminService for HQ. It converts between the wire (proto/) and the
// domain at this edge and maps application errors to gRPC status codes.
package grpcapi

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign"
	"github.com/memberpass/memberpass/cloud/fleet"
	"github.com/memberpass/memberpass/cloud/groupbuy"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/messaging"
	"github.com/memberpass/memberpass/cloud/ratelimit"
	"github.com/memberpass/memberpass/cloud/report"
	"github.com/memberpass/memberpass/cloud/segment"
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
	// Messaging is the messaging service; nil leaves its RPCs unavailable.
	Messaging *messaging.Service
	Log       *slog.Logger
	// AdminToken is the platform operator's first HQ token: stored (as a
	// hash) when the server is made unless a first token exists already.
	// Every HQ call is checked against the stored tokens (permissions.go).
	AdminToken string
	// Reflection serves the gRPC reflection service (grpcurl), which
	// answers without credentials; off unless asked for.
	Reflection bool
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
	// Fleet keeps agents' health reports; nil answers them UNIMPLEMENTED.
	Fleet *fleet.Service
	// GroupBuy verifies group-buy vouchers with their platforms; nil when
	// no brand connected a platform (vouchers are then refused as
	// platform_not_configured).
	GroupBuy *groupbuy.Service
	// Reports and Segments serve HQ's reports and member segments; nil
	// when the store offers none.
	Reports  report.Source
	Segments *segment.Service
}

// NewServer builds a gRPC server with the sync, admin, health and
// reflection services registered. The health service is returned so the
// caller can mark it not serving on shutdown.
func NewServer(cfg Config, opts ...grpc.ServerOption) (*grpc.Server, *health.Server) {
	admin := &adminServer{svc: cfg.Service, campaigns: cfg.Campaigns, msg: cfg.Messaging, publicAddr: cfg.PublicAddr, caFingerprint: cfg.CAFingerprint, memberPageURL: cfg.MemberPageURL, fleet: cfg.Fleet, gb: cfg.GroupBuy,
		an: analytics{reports: cfg.Reports, segments: cfg.Segments}}
	a := &auth{svc: cfg.Service, log: cfg.Log, reflection: cfg.Reflection, admin: admin, pairs: ratelimit.New(pairsPerMinute, time.Minute)}
	if cfg.AdminToken != "" {
		// The platform operator's first token; kept (hashed) once made, so
		// revoking it holds across restarts.
		if err := cfg.Service.EnsureBootstrapToken(context.Background(), cfg.AdminToken); err != nil {
			cfg.Log.Error("bootstrap HQ token not stored", "err", err)
		}
	}
	opts = append([]grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageBytes),
		grpc.UnaryInterceptor(a.unary),
		grpc.StreamInterceptor(a.stream),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: time.Minute, Timeout: 20 * time.Second}),
	}, opts...)
	srv := grpc.NewServer(opts...)
	pb.RegisterSyncServiceServer(srv, &syncServer{svc: cfg.Service, caPEM: cfg.CAPEM, fleet: cfg.Fleet, gb: cfg.GroupBuy})
	pb.RegisterAdminServiceServer(srv, admin)
	pb.RegisterAccessServiceServer(srv, &accessServer{svc: cfg.Service})
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	if cfg.Reflection {
		reflection.Register(srv)
	}
	return srv, hs
}

type ctxKey int

const deviceKey ctxKey = 1

func deviceFrom(ctx context.Context) cloud.Device {
	d, _ := ctx.Value(deviceKey).(cloud.Device)
	return d
}

type auth struct {
	svc *loyalty.Service
	log *slog.Logger
	// reflection answers the reflection service (without credentials).
	reflection bool
	// admin reads the state a change replaces, for the audit log.
	admin *adminServer
	// pairs bounds failed pairing attempts per client address: a pairing
	// code is 60 bits, but guessing should not even be tried at speed.
	pairs *ratelimit.Window
}

// Failed pairing attempts allowed per client address and minute.
const pairsPerMinute = 10

// peerHost is the client's address without its port.
func peerHost(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(p.Addr.String())
	if err != nil {
		return p.Addr.String()
	}
	return host
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
	if info.FullMethod == pb.SyncService_Pair_FullMethodName {
		if a.pairs.Over(peerHost(ctx)) {
			return nil, status.Error(codes.ResourceExhausted, "too many failed pairing attempts from this address; wait a minute and try again")
		}
		resp, err := a.checked(ctx, req, info, handler)
		if status.Code(err) == codes.Unauthenticated {
			a.pairs.Allow(peerHost(ctx)) // count the failure
		}
		return resp, err
	}
	return a.checked(ctx, req, info, handler)
}

// checked runs a call through authentication, bounds, authorisation and,
// for a change, the audit log.
func (a *auth) checked(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, p, err := a.authenticate(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	m, ok := req.(proto.Message)
	if !ok {
		return nil, status.Error(codes.Internal, "request is not a protocol buffer")
	}
	var skip []string
	if info.FullMethod == pb.SyncService_PushEvents_FullMethodName {
		skip = []string{"events"} // one by one, see eventAtEdge
	}
	if err := checkBounds(m, skip...); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if err := a.authorizeRequest(ctx, p, m); err != nil {
		return nil, err
	}
	var before proto.Message
	if p.write {
		before = a.before(ctx, info.FullMethod, m)
	}
	resp, err := handler(ctx, req)
	if err != nil {
		return nil, a.toStatus(err, info.FullMethod)
	}
	if p.write {
		if err := a.audit(ctx, info.FullMethod, m, before, resp); err != nil {
			a.log.Error("audit log write failed", "method", info.FullMethod, "err", err)
			return nil, status.Error(codes.Internal, "the change was made but could not be written to the audit log")
		}
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
