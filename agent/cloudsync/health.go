package cloudsync

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// Health is what the agent reports about itself beyond its outbox and
// replica, which the syncer reads from its store.
type Health struct {
	Version       string
	Devices       []Peripheral
	DiskFreeBytes uint64
}

// Peripheral is one serial device as reported.
type Peripheral struct {
	Name, Kind string
	Connected  bool
	LastError  string
	Frames     uint64
}

// ReportHealth sends one health report; syncErr is the last sync's
// failure, if any. The cloud's answer names the highest seq it holds for
// this device: past this store's last seq, the data directory was
// restored from an old backup, and new events must follow the cloud's.
func (s *Syncer) ReportHealth(ctx context.Context, syncErr error) error {
	st, err := s.store.State()
	if err != nil {
		return fmt.Errorf("read outbox state: %w", err)
	}
	h := s.Health()
	req := &pb.AgentHealth{
		Version: h.Version, OutboxPending: st.Pending, LastSeq: st.LastSeq, AckedSeq: st.AckedSeq,
		DiskFreeBytes: h.DiskFreeBytes, AgentTime: timestamppb.Now(),
	}
	if !st.ReplicaSyncedAt.IsZero() {
		req.ReplicaSyncedAt = timestamppb.New(st.ReplicaSyncedAt)
	}
	if syncErr != nil {
		req.LastSyncError = truncate(syncErr.Error(), 500)
	}
	for _, p := range h.Devices {
		req.Devices = append(req.Devices, &pb.PeripheralHealth{Name: truncate(p.Name, 64), Kind: truncate(p.Kind, 32), Connected: p.Connected, LastError: truncate(p.LastError, 500), Frames: p.Frames})
	}
	cctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	resp, err := s.client.ReportHealth(cctx, &pb.ReportHealthRequest{Health: req})
	if err != nil {
		return fmt.Errorf("report health: %w", err)
	}
	return s.follow(resp.GetDeviceSeq(), false)
}

// maybeReportHealth reports at most every HealthEvery, and not while the
// cloud is out of reach. A cloud older than health reports answers
// UNIMPLEMENTED: that is no failure of the agent.
func (s *Syncer) maybeReportHealth(ctx context.Context, syncErr error) {
	if s.Health == nil || time.Since(s.reported) < s.HealthEvery {
		return
	}
	switch status.Code(syncErr) {
	case codes.Unavailable, codes.DeadlineExceeded:
		// The cloud is out of reach: a report would only wait for the
		// call timeout and delay the next sync.
		return
	}
	s.reported = time.Now()
	if err := s.ReportHealth(ctx, syncErr); err != nil {
		if status.Code(err) == codes.Unimplemented {
			s.log.Debug("the cloud takes no health reports (older version)")
			return
		}
		if syncErr == nil {
			s.log.Warn("health report failed", "err", err)
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // do not cut a UTF-8 character
		n--
	}
	return s[:n]
}
