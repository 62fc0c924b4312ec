package grpcapi

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/memberpass/memberpass/cloud/fleet"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

func (s *adminServer) GetFleetHealth(ctx context.Context, req *pb.GetFleetHealthRequest) (*pb.FleetHealth, error) {
	if s.fleet == nil {
		return nil, status.Error(codes.Unimplemented, "this cloud keeps no health reports")
	}
	stale := time.Duration(req.GetStaleAfterSeconds()) * time.Second
	devices, err := s.fleet.Fleet(ctx, req.GetBrandId(), stale)
	if err != nil {
		return nil, err
	}
	if stale <= 0 {
		stale = s.fleet.StaleAfter
	}
	out := &pb.FleetHealth{StaleAfterSeconds: uint32(stale / time.Second)}
	for _, h := range devices {
		d := &pb.DeviceHealth{
			StoreId: h.Device.StoreID, DeviceId: h.Device.ID, DeviceName: h.Device.Name,
			LastSeenAt: tsOrNil(h.LastSeen, timestamppb.New(h.LastSeen)), Stale: h.Stale,
			CloudSeq: h.Device.AckedSeq, SeqBehind: h.SeqBehind, Revoked: h.Device.Revoked,
		}
		if h.Record != nil && !h.Record.ReportedAt.IsZero() {
			d.ReportedAt = timestamppb.New(h.Record.ReportedAt)
			d.Report = healthToProto(h.Record.Report)
		}
		out.Devices = append(out.Devices, d)
	}
	return out, nil
}

func healthFromProto(h *pb.AgentHealth) fleet.Report {
	r := fleet.Report{
		Version: h.GetVersion(), OutboxPending: h.GetOutboxPending(), LastSeq: h.GetLastSeq(), AckedSeq: h.GetAckedSeq(),
		DiskFreeBytes: h.GetDiskFreeBytes(), LastSyncError: h.GetLastSyncError(),
	}
	if h.GetReplicaSyncedAt() != nil {
		r.ReplicaSyncedAt = h.GetReplicaSyncedAt().AsTime()
	}
	if h.GetAgentTime() != nil {
		r.AgentTime = h.GetAgentTime().AsTime()
	}
	for _, p := range h.GetDevices() {
		r.Devices = append(r.Devices, fleet.Peripheral{Name: p.GetName(), Kind: p.GetKind(), Connected: p.GetConnected(), LastError: p.GetLastError(), Frames: p.GetFrames()})
	}
	return r
}

func healthToProto(r fleet.Report) *pb.AgentHealth {
	h := &pb.AgentHealth{
		Version: r.Version, OutboxPending: r.OutboxPending, LastSeq: r.LastSeq, AckedSeq: r.AckedSeq,
		ReplicaSyncedAt: tsOrNil(r.ReplicaSyncedAt, timestamppb.New(r.ReplicaSyncedAt)), DiskFreeBytes: r.DiskFreeBytes,
		AgentTime: tsOrNil(r.AgentTime, timestamppb.New(r.AgentTime)), LastSyncError: r.LastSyncError,
	}
	for _, p := range r.Devices {
		h.Devices = append(h.Devices, &pb.PeripheralHealth{Name: p.Name, Kind: p.Kind, Connected: p.Connected, LastError: p.LastError, Frames: p.Frames})
	}
	return h
}
