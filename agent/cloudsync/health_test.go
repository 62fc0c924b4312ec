package cloudsync_test

import (
	"context"
	"sync"
	"testing"

	"github.com/memberpass/memberpass/agent/cloudsync"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// healthCloud takes pushes and pulls and keeps the health reports.
type healthCloud struct {
	fakeCloud
	mu      sync.Mutex
	reports []*pb.AgentHealth
}

func (h *healthCloud) ReportHealth(_ context.Context, r *pb.ReportHealthRequest) (*pb.ReportHealthResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reports = append(h.reports, r.GetHealth())
	return &pb.ReportHealthResponse{DeviceSeq: r.GetHealth().GetAckedSeq()}, nil
}

func (h *healthCloud) last() *pb.AgentHealth {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.reports) == 0 {
		return nil
	}
	return h.reports[len(h.reports)-1]
}

func acceptAll(r *pb.PushEventsRequest) (*pb.PushEventsResponse, error) {
	evs := r.GetEvents()
	return &pb.PushEventsResponse{AckedSeq: evs[len(evs)-1].GetSeq(), DeviceSeq: evs[len(evs)-1].GetSeq()}, nil
}

func nothingNew(r *pb.PullChangesRequest) (*pb.PullChangesResponse, error) {
	return &pb.PullChangesResponse{NextCursor: r.GetCursor()}, nil
}

func TestHealthIsReported(t *testing.T) {
	db := agentWithOutbox(t, 3)
	cloud := &healthCloud{fakeCloud: fakeCloud{push: acceptAll, pull: nothingNew}}
	health := func() cloudsync.Health {
		return cloudsync.Health{Version: "v9", DiskFreeBytes: 42, Devices: []cloudsync.Peripheral{{Name: "scanner", Kind: "scanner", LastError: "gone"}}}
	}
	runSyncer(t, db, cloud, func(s *cloudsync.Syncer) { s.Health = health })
	poll(t, "a health report", func() bool { return cloud.last() != nil })
	r := cloud.last()
	if r.GetVersion() != "v9" || r.GetDiskFreeBytes() != 42 || len(r.GetDevices()) != 1 || r.GetDevices()[0].GetLastError() != "gone" ||
		r.GetAgentTime() == nil || r.GetReplicaSyncedAt() == nil || r.GetLastSeq() != 3 {
		t.Errorf("report %v", r)
	}
}

// TestOldCloudWithoutHealthReports: a cloud older than health reports
// answers UNIMPLEMENTED; the agent syncs on regardless.
func TestOldCloudWithoutHealthReports(t *testing.T) {
	db := agentWithOutbox(t, 3)
	old := &fakeCloud{push: acceptAll, pull: nothingNew}
	s, _ := runSyncer(t, db, old, func(s *cloudsync.Syncer) {
		s.Health = func() cloudsync.Health { return cloudsync.Health{Version: "new"} }
	})
	poll(t, "the outbox to drain", func() bool {
		st, err := db.State()
		return err == nil && st.Pending == 0 && s.Status().Online
	})
}
