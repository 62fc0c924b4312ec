package grpcapi

import (
	"context"
	"path"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/memberpass/memberpass/cloud"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// Every change HQ makes (a method marked write in permissions.go) is
// appended to the brand's audit log by the interceptor: who, when, the
// method, what it named, the request, and the state before and after
// where a read shows it. Secrets and bulky bytes never go in.

// maxAuditJSON bounds each JSON column of an entry.
const maxAuditJSON = 64 << 10

// secretFields are left out of what the log keeps.
var secretFields = map[protoreflect.Name]bool{"secret": true, "device_secret": true, "pairing_qr_png": true, "csv": true, "pairing_code": true, "pairing_uri": true}

// before reads what a change is about to replace, for the methods where a
// read shows it.
func (a *auth) before(ctx context.Context, method string, req proto.Message) proto.Message {
	var (
		m   proto.Message
		err error
	)
	switch r := req.(type) {
	case *pb.SetProgrammeRequest:
		m, err = a.admin.GetProgramme(ctx, &pb.GetProgrammeRequest{BrandId: r.GetBrandId()})
	case *pb.UpdateMemberRequest:
		m, err = a.admin.GetMember(ctx, &pb.GetMemberRequest{BrandId: r.GetBrandId(), MemberId: r.GetMemberId()})
	case *pb.AddCardRequest:
		m, err = a.admin.GetMember(ctx, &pb.GetMemberRequest{BrandId: r.GetBrandId(), MemberId: r.GetMemberId()})
	case *pb.MergeMembersRequest:
		m, err = a.admin.GetMember(ctx, &pb.GetMemberRequest{BrandId: r.GetBrandId(), MemberId: r.GetMergeMemberId()})
	}
	if err != nil {
		return nil
	}
	return m
}

func (a *auth) audit(ctx context.Context, method string, req, before proto.Message, resp any) error {
	who := hqPrincipal(ctx)
	brand := stringField(req, "brand_id")
	if method == pb.AdminService_CreateBrand_FullMethodName {
		brand = stringField(req, "id")
	}
	target := ""
	for _, f := range []string{"member_id", "keep_member_id", "store_id", "device_id", "token_id", "template_id", "id", "account"} {
		if target = stringField(req, f); target != "" {
			break
		}
	}
	e := cloud.AuditEntry{BrandID: brand, Account: who.Account, TokenID: who.ID, Action: path.Base(method), Target: target,
		Request: auditJSON(req), Before: auditJSON(before)}
	if m, ok := resp.(proto.Message); ok {
		e.After = auditJSON(m)
	}
	return a.svc.RecordAudit(ctx, e)
}

// auditJSON is m as JSON without secrets, shortened to maxAuditJSON.
func auditJSON(m proto.Message) string {
	if m == nil {
		return ""
	}
	m = proto.Clone(m)
	dropSecrets(m.ProtoReflect())
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return ""
	}
	if len(b) > maxAuditJSON {
		return clampString(string(b), maxAuditJSON, true)
	}
	return string(b)
}

func dropSecrets(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case secretFields[fd.Name()]:
			m.Clear(fd)
		case fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap():
			dropSecrets(v.Message())
		case fd.Kind() == protoreflect.MessageKind && fd.IsList():
			for i := range v.List().Len() {
				dropSecrets(v.List().Get(i).Message())
			}
		}
		return true
	})
}
