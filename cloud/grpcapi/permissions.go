package grpcapi

import (
	"context"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/memberpass/memberpass/cloud"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// credential says what a method needs.
type credential int

const (
	// public: no credentials (pairing, health, reflection when enabled).
	public credential = iota + 1
	// device: a paired device's secret.
	device
	// hq: an HQ token whose role is in roles (a platform operator's always
	// is), for the brand the request names.
	hq
)

// permission is one RPC's entry in the table.
type permission struct {
	cred  credential
	roles []cloud.Role
	// write marks a change: it goes to the audit log.
	write bool
	// platformOnly: only a platform operator (creating brands).
	platformOnly bool
}

// Role sets for the table.
var (
	everyRole   = []cloud.Role{cloud.RoleOwner, cloud.RoleMarketing, cloud.RoleFinance, cloud.RoleStoreManager, cloud.RoleAuditor}
	readers     = []cloud.Role{cloud.RoleOwner, cloud.RoleMarketing, cloud.RoleFinance, cloud.RoleAuditor}
	memberRead  = []cloud.Role{cloud.RoleOwner, cloud.RoleMarketing, cloud.RoleFinance, cloud.RoleStoreManager, cloud.RoleAuditor}
	programme   = []cloud.Role{cloud.RoleOwner, cloud.RoleMarketing}
	finance     = []cloud.Role{cloud.RoleOwner, cloud.RoleFinance, cloud.RoleAuditor}
	owner       = []cloud.Role{cloud.RoleOwner}
	storeAdmin  = []cloud.Role{cloud.RoleOwner, cloud.RoleStoreManager}
	memberWrite = []cloud.Role{cloud.RoleOwner, cloud.RoleMarketing}
	cardWrite   = []cloud.Role{cloud.RoleOwner, cloud.RoleMarketing, cloud.RoleStoreManager}
	accessRead  = []cloud.Role{cloud.RoleOwner, cloud.RoleAuditor}
	auditRead   = []cloud.Role{cloud.RoleOwner, cloud.RoleFinance, cloud.RoleAuditor}
)

// permissions is every RPC's permission, checked in one place (authorize)
// for unary and streaming calls. A method missing here is refused, and
// the permission matrix test fails for it.
var permissions = map[string]permission{
	pb.SyncService_Pair_FullMethodName:         {cred: public},
	pb.SyncService_PushEvents_FullMethodName:   {cred: device},
	pb.SyncService_PullChanges_FullMethodName:  {cred: device},
	pb.SyncService_ReportHealth_FullMethodName: {cred: device},
	// A device checks and consumes vouchers for its own store only.
	pb.SyncService_PrepareVoucher_FullMethodName: {cred: device},
	pb.SyncService_ConsumeVoucher_FullMethodName: {cred: device},

	grpc_health_v1.Health_Check_FullMethodName:                       {cred: public},
	grpc_health_v1.Health_List_FullMethodName:                        {cred: public},
	grpc_health_v1.Health_Watch_FullMethodName:                       {cred: public},
	"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo":      {cred: public},
	"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": {cred: public},

	pb.AdminService_CreateBrand_FullMethodName:           {cred: hq, write: true, platformOnly: true},
	pb.AdminService_CreateStore_FullMethodName:           {cred: hq, roles: owner, write: true},
	pb.AdminService_IssuePairingCode_FullMethodName:      {cred: hq, roles: storeAdmin, write: true},
	pb.AdminService_RevokeDevice_FullMethodName:          {cred: hq, roles: storeAdmin, write: true},
	pb.AdminService_GetBrandStats_FullMethodName:         {cred: hq, roles: readers},
	pb.AdminService_ListEvents_FullMethodName:            {cred: hq, roles: finance},
	pb.AdminService_CreateMember_FullMethodName:          {cred: hq, roles: memberWrite, write: true},
	pb.AdminService_GetMember_FullMethodName:             {cred: hq, roles: memberRead},
	pb.AdminService_AddCard_FullMethodName:               {cred: hq, roles: cardWrite, write: true},
	pb.AdminService_IssueMemberCode_FullMethodName:       {cred: hq, roles: owner},
	pb.AdminService_SetProgramme_FullMethodName:          {cred: hq, roles: programme, write: true},
	pb.AdminService_GetProgramme_FullMethodName:          {cred: hq, roles: everyRole},
	pb.AdminService_UpdateMember_FullMethodName:          {cred: hq, roles: memberWrite, write: true},
	pb.AdminService_ImportMembers_FullMethodName:         {cred: hq, roles: memberWrite, write: true},
	pb.AdminService_MergeMembers_FullMethodName:          {cred: hq, roles: memberWrite, write: true},
	pb.AdminService_GetMemberHistory_FullMethodName:      {cred: hq, roles: memberRead},
	pb.AdminService_CreateCouponTemplate_FullMethodName:  {cred: hq, roles: programme, write: true},
	pb.AdminService_ListCouponTemplates_FullMethodName:   {cred: hq, roles: everyRole},
	pb.AdminService_IssueCoupons_FullMethodName:          {cred: hq, roles: programme, write: true},
	pb.AdminService_ImportVouchers_FullMethodName:        {cred: hq, roles: programme, write: true},
	pb.AdminService_BindVoucherShop_FullMethodName:       {cred: hq, roles: storeAdmin, write: true},
	pb.AdminService_ListVoucherShops_FullMethodName:      {cred: hq, roles: everyRole},
	pb.AdminService_ReconcileVouchers_FullMethodName:     {cred: hq, roles: finance},
	pb.AdminService_ListConflicts_FullMethodName:         {cred: hq, roles: finance},
	pb.AdminService_RunMaintenance_FullMethodName:        {cred: hq, roles: owner, write: true},
	pb.AdminService_GetMemberCardLink_FullMethodName:     {cred: hq, roles: memberWrite},
	pb.AdminService_RevokeMemberCardLinks_FullMethodName: {cred: hq, roles: memberWrite, write: true},
	pb.AdminService_CreateCampaign_FullMethodName:        {cred: hq, roles: programme, write: true},
	pb.AdminService_SetCampaignState_FullMethodName:      {cred: hq, roles: programme, write: true},
	pb.AdminService_ListCampaigns_FullMethodName:         {cred: hq, roles: readers},
	pb.AdminService_PreviewCampaign_FullMethodName:       {cred: hq, roles: readers},
	pb.AdminService_DryRunCampaign_FullMethodName:        {cred: hq, roles: readers},
	pb.AdminService_GetCampaignResults_FullMethodName:    {cred: hq, roles: readers},
	pb.AdminService_GetMessagingPolicy_FullMethodName:    {cred: hq, roles: readers},
	pb.AdminService_SetMessagingPolicy_FullMethodName:    {cred: hq, roles: programme, write: true},
	pb.AdminService_PutMessageTemplate_FullMethodName:    {cred: hq, roles: programme, write: true},
	pb.AdminService_ListMessageTemplates_FullMethodName:  {cred: hq, roles: readers},
	pb.AdminService_PreviewMessage_FullMethodName:        {cred: hq, roles: programme},
	pb.AdminService_EstimateMessageCost_FullMethodName:   {cred: hq, roles: readers},
	pb.AdminService_ListMemberMessages_FullMethodName:    {cred: hq, roles: memberRead},
	pb.AdminService_SetMessagingConsent_FullMethodName:   {cred: hq, roles: memberWrite, write: true},
	pb.AdminService_SendTestMessage_FullMethodName:       {cred: hq, roles: programme, write: true},
	pb.AdminService_GetFleetHealth_FullMethodName:        {cred: hq, roles: everyRole},

	pb.AdminService_SaveSegment_FullMethodName:          {cred: hq, roles: programme, write: true},
	pb.AdminService_DeleteSegment_FullMethodName:        {cred: hq, roles: programme, write: true},
	pb.AdminService_ListSegments_FullMethodName:         {cred: hq, roles: readers},
	pb.AdminService_CountSegment_FullMethodName:         {cred: hq, roles: readers},
	pb.AdminService_ExportSegment_FullMethodName:        {cred: hq, roles: programme},
	pb.AdminService_GetLifecycleSettings_FullMethodName: {cred: hq, roles: readers},
	pb.AdminService_SetLifecycleSettings_FullMethodName: {cred: hq, roles: programme, write: true},
	// A store manager's reports name one of their stores (GetReport checks).
	pb.AdminService_GetReport_FullMethodName: {cred: hq, roles: everyRole},

	pb.AccessService_CreateHQToken_FullMethodName: {cred: hq, roles: owner, write: true},
	pb.AccessService_ListHQTokens_FullMethodName:  {cred: hq, roles: accessRead},
	pb.AccessService_RevokeHQToken_FullMethodName: {cred: hq, roles: owner, write: true},
	pb.AccessService_RotateHQToken_FullMethodName: {cred: hq, roles: owner, write: true},
	pb.AccessService_ListAuditLog_FullMethodName:  {cred: hq, roles: auditRead},
}

type principalKey struct{}

// hqPrincipal is the HQ token a call was authorised with.
func hqPrincipal(ctx context.Context) cloud.HQToken {
	t, _ := ctx.Value(principalKey{}).(cloud.HQToken)
	return t
}

// authenticate checks a call's credentials against its method's entry and
// returns the context carrying who it is. The request is checked by
// authorizeRequest once it has been read.
func (a *auth) authenticate(ctx context.Context, method string) (context.Context, permission, error) {
	p, ok := permissions[method]
	if !ok || (!a.reflection && strings.HasPrefix(method, "/grpc.reflection.")) {
		return nil, p, status.Error(codes.Unimplemented, "unknown method")
	}
	md, _ := metadata.FromIncomingContext(ctx)
	switch p.cred {
	case public:
	case device:
		who := md.Get(DeviceHeader)
		if len(who) != 1 {
			return nil, p, status.Error(codes.Unauthenticated, "missing "+DeviceHeader+" metadata")
		}
		brand, dev, ok := strings.Cut(who[0], "/")
		if !ok {
			return nil, p, status.Error(codes.Unauthenticated, DeviceHeader+" must be brand/device")
		}
		d, err := a.svc.AuthenticateDevice(ctx, brand, dev, bearer(md))
		if err != nil {
			return nil, p, a.toStatus(err, method)
		}
		ctx = context.WithValue(ctx, deviceKey, d)
	case hq:
		t, err := a.svc.AuthenticateHQ(ctx, bearer(md))
		if err != nil {
			return nil, p, a.toStatus(err, method)
		}
		ctx = context.WithValue(ctx, principalKey{}, t)
	}
	return ctx, p, nil
}

// authorizeRequest checks an HQ request against the caller's brand, role
// and stores.
func (a *auth) authorizeRequest(ctx context.Context, p permission, req proto.Message) error {
	if p.cred != hq {
		return nil
	}
	t := hqPrincipal(ctx)
	if t.Role == cloud.RolePlatform {
		return nil
	}
	if p.platformOnly || !slices.Contains(p.roles, t.Role) {
		return status.Errorf(codes.PermissionDenied, "role %s may not do this", t.Role)
	}
	if brand := stringField(req, "brand_id"); brand != t.BrandID {
		return status.Errorf(codes.PermissionDenied, "this token belongs to brand %q, not %q", t.BrandID, brand)
	}
	if t.Role == cloud.RoleStoreManager {
		store := stringField(req, "store_id")
		if dev := stringField(req, "device_id"); store == "" && dev != "" {
			var err error
			if store, err = a.svc.DeviceStore(ctx, t.BrandID, dev); err != nil {
				return a.toStatus(err, "")
			}
		}
		if store != "" && !slices.Contains(t.StoreIDs, store) {
			return status.Errorf(codes.PermissionDenied, "store %q is not one this token manages", store)
		}
	}
	return nil
}

// stringField reads a top-level string field by name, "" if none.
func stringField(m proto.Message, name string) string {
	r := m.ProtoReflect()
	fd := r.Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() {
		return ""
	}
	return r.Get(fd).String()
}

// stream runs the same checks for streaming calls: credentials when the
// stream opens, and every message received against the caller's brand,
// role and stores, and the edge's bounds.
func (a *auth) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, p, err := a.authenticate(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	return handler(srv, &checkedStream{ServerStream: ss, ctx: ctx, a: a, p: p})
}

type checkedStream struct {
	grpc.ServerStream
	ctx context.Context
	a   *auth
	p   permission
}

func (s *checkedStream) Context() context.Context { return s.ctx }

func (s *checkedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	msg, ok := m.(proto.Message)
	if !ok {
		return nil
	}
	if err := checkBounds(msg); err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return s.a.authorizeRequest(s.ctx, s.p, msg)
}
