package segment

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// CSVHeader is the first line of a segment's export.
var CSVHeader = []string{"member_id", "name", "phone", "tier", "stage", "visits", "last_visit_at", "points", "stored_value_fen", "total_spend_fen"}

// Row is a member as a line of the export.
func (m Member) Row() []string {
	last := ""
	if !m.LastVisitAt.IsZero() {
		last = m.LastVisitAt.UTC().Format(time.RFC3339)
	}
	return []string{m.ID, m.Name, m.Phone, m.TierID, string(m.Stage), strconv.FormatInt(m.Visits, 10), last,
		strconv.FormatInt(m.Points, 10), strconv.FormatInt(m.StoredValueFen, 10), strconv.FormatInt(m.TotalSpendFen, 10)}
}

// Export writes a saved segment's members as of now as CSV and returns how
// many it wrote.
func (s *Service) Export(ctx context.Context, brand, name string, w io.Writer) (int64, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return 0, fmt.Errorf("export segment %s: %w", name, err)
	}
	var n int64
	var werr error
	err := s.Members(ctx, brand, name, func(m Member) bool {
		if werr = cw.Write(m.Row()); werr != nil {
			return false
		}
		n++
		return true
	})
	if err == nil {
		err = werr
	}
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	if err != nil {
		return n, fmt.Errorf("export segment %s: %w", name, err)
	}
	return n, nil
}
