package grpcapi

import (
	"context"
	"encoding/json"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/report"
	"github.com/memberpass/memberpass/cloud/segment"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// analytics serves segments and reports; both are nil when the store
// offers neither, and the RPCs say so.
type analytics struct {
	reports  report.Source
	segments *segment.Service
	now      func() time.Time
}

func (a analytics) needSegments() error {
	if a.segments == nil {
		return cloud.Errorf(cloud.Invalid, "this cloud's store keeps no segments")
	}
	return nil
}

func rulesFrom(raw string) (segment.Rules, error) {
	var r segment.Rules
	if raw == "" {
		return r, nil
	}
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return r, cloud.Errorf(cloud.Invalid, "rules_json: %v", err)
	}
	return r, r.Validate()
}

func segmentToProto(s segment.Segment) *pb.Segment {
	raw, _ := json.Marshal(s.Rules)
	return &pb.Segment{BrandId: s.BrandID, Name: s.Name, RulesJson: string(raw), CreatedAt: timestamppb.New(s.CreatedAt), UpdatedAt: timestamppb.New(s.UpdatedAt)}
}

func (s *adminServer) SaveSegment(ctx context.Context, req *pb.SaveSegmentRequest) (*pb.Segment, error) {
	if err := s.an.needSegments(); err != nil {
		return nil, err
	}
	if err := s.brandExists(ctx, req.GetBrandId()); err != nil {
		return nil, err
	}
	r, err := rulesFrom(req.GetRulesJson())
	if err != nil {
		return nil, err
	}
	seg, err := s.an.segments.Save(ctx, req.GetBrandId(), req.GetName(), r)
	if err != nil {
		return nil, err
	}
	return segmentToProto(seg), nil
}

func (s *adminServer) ListSegments(ctx context.Context, req *pb.ListSegmentsRequest) (*pb.ListSegmentsResponse, error) {
	if err := s.an.needSegments(); err != nil {
		return nil, err
	}
	list, err := s.an.segments.Store.Segments(ctx, req.GetBrandId())
	if err != nil {
		return nil, err
	}
	out := &pb.ListSegmentsResponse{}
	for _, seg := range list {
		out.Segments = append(out.Segments, segmentToProto(seg))
	}
	return out, nil
}

func (s *adminServer) DeleteSegment(ctx context.Context, req *pb.DeleteSegmentRequest) (*pb.DeleteSegmentResponse, error) {
	if err := s.an.needSegments(); err != nil {
		return nil, err
	}
	return &pb.DeleteSegmentResponse{}, s.an.segments.Store.DeleteSegment(ctx, req.GetBrandId(), req.GetName())
}

func (s *adminServer) CountSegment(ctx context.Context, req *pb.CountSegmentRequest) (*pb.CountSegmentResponse, error) {
	if err := s.an.needSegments(); err != nil {
		return nil, err
	}
	var n int64
	var err error
	if req.GetName() != "" {
		n, err = s.an.segments.Count(ctx, req.GetBrandId(), req.GetName())
	} else {
		var r segment.Rules
		if r, err = rulesFrom(req.GetRulesJson()); err != nil {
			return nil, err
		}
		n, err = s.an.segments.CountRules(ctx, req.GetBrandId(), r)
	}
	if err != nil {
		return nil, err
	}
	return &pb.CountSegmentResponse{Members: n}, nil
}

func (s *adminServer) ExportSegment(ctx context.Context, req *pb.ExportSegmentRequest) (*pb.ExportSegmentResponse, error) {
	if err := s.an.needSegments(); err != nil {
		return nil, err
	}
	limit := int(req.GetLimit())
	if limit <= 0 || limit > segment.MaxPage {
		limit = segment.MaxPage
	}
	ms, err := s.an.segments.Page(ctx, req.GetBrandId(), req.GetName(), req.GetPageToken(), limit)
	if err != nil {
		return nil, err
	}
	out := &pb.ExportSegmentResponse{}
	for _, m := range ms {
		out.Members = append(out.Members, &pb.SegmentMember{MemberId: m.ID, Name: m.Name, Phone: m.Phone, TierId: m.TierID, Stage: string(m.Stage),
			Visits: m.Visits, LastVisitAt: tsOrNil(m.LastVisitAt, timestamppb.New(m.LastVisitAt)), Points: m.Points,
			StoredValueFen: m.StoredValueFen, TotalSpendFen: m.TotalSpendFen})
	}
	if len(ms) == limit {
		out.NextPageToken = ms[len(ms)-1].ID
	}
	return out, nil
}

func (s *adminServer) GetLifecycleSettings(ctx context.Context, req *pb.GetLifecycleSettingsRequest) (*pb.LifecycleSettings, error) {
	if err := s.an.needSegments(); err != nil {
		return nil, err
	}
	st, err := s.an.segments.Store.Settings(ctx, req.GetBrandId())
	if err != nil {
		return nil, err
	}
	return &pb.LifecycleSettings{BrandId: req.GetBrandId(), NewDays: int32(st.NewDays), ActiveDays: int32(st.ActiveDays), LapsedDays: int32(st.LapsedDays)}, nil
}

func (s *adminServer) SetLifecycleSettings(ctx context.Context, req *pb.LifecycleSettings) (*pb.LifecycleSettings, error) {
	if err := s.an.needSegments(); err != nil {
		return nil, err
	}
	if err := s.brandExists(ctx, req.GetBrandId()); err != nil {
		return nil, err
	}
	st := segment.Settings{NewDays: int(req.GetNewDays()), ActiveDays: int(req.GetActiveDays()), LapsedDays: int(req.GetLapsedDays())}
	if err := s.an.segments.Store.PutSettings(ctx, req.GetBrandId(), st); err != nil {
		return nil, err
	}
	return req, nil
}

// brandExists refuses a brand HQ has not created.
func (s *adminServer) brandExists(ctx context.Context, brand string) error {
	_, err := s.svc.Brand(ctx, brand)
	return err
}

func (s *adminServer) GetReport(ctx context.Context, req *pb.GetReportRequest) (*pb.ReportTable, error) {
	if s.an.reports == nil {
		return nil, cloud.Errorf(cloud.Invalid, "this cloud's store computes no reports")
	}
	if hqPrincipal(ctx).Role == cloud.RoleStoreManager && req.GetStoreId() == "" {
		return nil, status.Error(codes.PermissionDenied, "a store manager's report names one of their stores (--store)")
	}
	b, err := s.svc.Brand(ctx, req.GetBrandId())
	if err != nil {
		return nil, err
	}
	q := report.Query{BrandID: b.ID, StoreID: req.GetStoreId(), From: req.GetFrom(), To: req.GetTo()}
	if q.To == "" {
		tz := b.TimeZone
		if tz == "" {
			tz = cloud.DefaultTimeZone
		}
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return nil, err
		}
		now := time.Now
		if s.an.now != nil {
			now = s.an.now
		}
		q.To = now().In(loc).Format(time.DateOnly)
	}
	if q.From == "" {
		q.From = q.To
		if req.GetReport() != report.NameDashboard {
			q.From = report.AddDays(q.To, -29)
		}
	}
	t, err := report.Run(ctx, s.an.reports, req.GetReport(), q)
	if err != nil {
		return nil, err
	}
	return tableToProto(t), nil
}

func tableToProto(t report.Table) *pb.ReportTable {
	out := &pb.ReportTable{Report: t.Report, BrandId: t.Query.BrandID, StoreId: t.Query.StoreID, From: t.Query.From, To: t.Query.To, Notes: t.Notes}
	for _, c := range t.Columns {
		out.Columns = append(out.Columns, &pb.ReportColumn{Key: c.Key, Title: c.Title, TitleZh: c.TitleZH, Kind: string(c.Kind)})
	}
	for _, r := range t.Rows {
		out.Rows = append(out.Rows, &pb.ReportRow{Cells: r})
	}
	for _, s := range t.Series {
		ps := &pb.ReportSeries{Key: s.Key, Title: s.Title, TitleZh: s.TitleZH, Kind: string(s.Kind)}
		for _, p := range s.Points {
			ps.Points = append(ps.Points, &pb.ReportPoint{X: p.X, Y: p.Y})
		}
		out.Series = append(out.Series, ps)
	}
	return out
}
