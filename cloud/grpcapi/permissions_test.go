package grpcapi

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// caller calls any method from its descriptor alone.
type caller struct {
	conn *grpc.ClientConn
}

func (c caller) call(ctx context.Context, md protoreflect.MethodDescriptor, req proto.Message) error {
	out, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		return err
	}
	method := fmt.Sprintf("/%s/%s", md.Parent().FullName(), md.Name())
	if md.IsStreamingClient() || md.IsStreamingServer() {
		s, err := c.conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: md.IsStreamingServer(), ClientStreams: md.IsStreamingClient()}, method)
		if err != nil {
			return err
		}
		if err := s.SendMsg(req); err != nil {
			return err
		}
		s.CloseSend()
		return s.RecvMsg(out.New().Interface())
	}
	return c.conn.Invoke(ctx, method, req, out.New().Interface())
}

// credentialKind is one way a caller may present itself.
type credentialKind struct {
	name string
	md   metadata.MD
	// role is the HQ role, "" for none.
	role cloud.Role
	// otherBrand: a token of another brand (PermissionDenied); unauth:
	// refused as not a credential at all (Unauthenticated).
	otherBrand, unauth bool
}

// TestEveryRPCHasAPermissionAndItHolds walks every method of every
// service in the proto descriptors against every kind of credential: no
// credentials, another brand's token, each role, a revoked token and a
// device's secret. A method without an entry in the permission table
// fails it.
func TestEveryRPCHasAPermissionAndItHolds(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	svc := loyalty.New(sqltest.OpenSQLite(t), log)
	const bootstrap = "mphq_bootstrap-secret-for-the-matrix-test"
	srv, _ := NewServer(Config{Service: svc, Log: log, AdminToken: bootstrap})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })

	for _, b := range []string{"b1", "b2"} {
		if _, err := svc.CreateBrand(ctx, b, b, "CNY"); err != nil {
			t.Fatal(err)
		}
	}
	var pairing cloud.Pairing
	for _, st := range []string{"s1", "s2"} {
		if _, pairing, err = svc.CreateStore(ctx, "b1", st, st); err != nil {
			t.Fatal(err)
		}
	}
	paired, err := svc.Pair(ctx, pairing.Code, "till")
	if err != nil {
		t.Fatal(err)
	}
	bearer := func(secret string) metadata.MD { return metadata.Pairs("authorization", "Bearer "+secret) }
	token := func(brand string, role cloud.Role, stores ...string) string {
		_, secret, err := svc.CreateHQToken(ctx, "test", loyalty.NewHQToken{BrandID: brand, Account: string(role), Role: role, StoreIDs: stores})
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	kinds := []credentialKind{
		{name: "none", unauth: true},
		{name: "device secret", md: metadata.Pairs("authorization", "Bearer "+paired.Secret, DeviceHeader, "b1/"+paired.Device.ID)},
		{name: "platform", md: bearer(bootstrap), role: cloud.RolePlatform},
		{name: "other brand owner", md: bearer(token("b2", cloud.RoleOwner)), role: cloud.RoleOwner, otherBrand: true},
	}
	for _, r := range cloud.Roles {
		if r == cloud.RolePlatform {
			continue
		}
		var stores []string
		if r == cloud.RoleStoreManager {
			stores = []string{"s1"}
		}
		kinds = append(kinds, credentialKind{name: string(r), md: bearer(token("b1", r, stores...)), role: r})
	}
	revoked := token("b1", cloud.RoleOwner)
	tok, err := svc.AuthenticateHQ(ctx, revoked)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RevokeHQToken(ctx, "b1", tok.ID); err != nil {
		t.Fatal(err)
	}
	kinds = append(kinds, credentialKind{name: "revoked owner", md: bearer(revoked), unauth: true})
	_, expiring, err := svc.CreateHQToken(ctx, "test", loyalty.NewHQToken{BrandID: "b1", Account: "short", Role: cloud.RoleOwner, TTL: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	kinds = append(kinds, credentialKind{name: "expired owner", md: bearer(expiring), unauth: true})

	c := caller{conn}
	methods := 0
	for _, file := range []protoreflect.FileDescriptor{pb.File_memberpass_v1_admin_proto, pb.File_memberpass_v1_sync_proto, pb.File_memberpass_v1_access_proto} {
		for i := range file.Services().Len() {
			sd := file.Services().Get(i)
			for j := range sd.Methods().Len() {
				md := sd.Methods().Get(j)
				full := fmt.Sprintf("/%s/%s", sd.FullName(), md.Name())
				methods++
				p, ok := permissions[full]
				if !ok {
					t.Errorf("%s has no entry in the permission table (permissions.go)", full)
					continue
				}
				if p.cred == public {
					continue
				}
				for _, k := range kinds {
					in, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
					if err != nil {
						t.Fatal(err)
					}
					req := in.New().Interface()
					setString(req, "brand_id", "b1")
					setString(req, "store_id", "s1")
					err = c.call(metadata.NewOutgoingContext(ctx, k.md), md, req)
					code := status.Code(err)
					var want string
					switch {
					case p.cred == device && k.name == "device secret":
						want = "allowed"
					case p.cred == device:
						want = "unauthenticated"
					case k.unauth || k.role == "":
						want = "unauthenticated"
					case k.otherBrand:
						want = "denied"
					case k.role == cloud.RolePlatform:
						want = "allowed"
					case p.platformOnly || !slices.Contains(p.roles, k.role):
						want = "denied"
					default:
						want = "allowed"
					}
					got := map[codes.Code]string{codes.Unauthenticated: "unauthenticated", codes.PermissionDenied: "denied"}[code]
					if got == "" {
						got = "allowed"
					}
					if got != want {
						t.Errorf("%s as %s: %v; want %s", full, k.name, err, want)
					}
				}
			}
		}
	}
	if methods < 30 {
		t.Fatalf("walked %d methods; the descriptors hold more", methods)
	}

	// A store manager reaches only the stores it manages.
	sm := token("b1", cloud.RoleStoreManager, "s1")
	err = c.call(metadata.NewOutgoingContext(ctx, bearer(sm)), pb.File_memberpass_v1_admin_proto.Services().ByName("AdminService").Methods().ByName("IssuePairingCode"),
		&pb.IssuePairingCodeRequest{BrandId: "b1", StoreId: "s2"})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("store manager of s1 issuing a code for s2: %v; want PermissionDenied", err)
	}
}

func setString(m proto.Message, name, v string) {
	r := m.ProtoReflect()
	if fd := r.Descriptor().Fields().ByName(protoreflect.Name(name)); fd != nil && fd.Kind() == protoreflect.StringKind && !fd.IsList() {
		r.Set(fd, protoreflect.ValueOfString(v))
	}
}
