package loyalty

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// RowError names the line and field of a bad CSV row.
type RowError struct {
	Line    int
	Field   string
	Message string
}

// ImportReport says what an import did. Written is false when any row had
// an error (or on a dry run): an import writes every row or none.
type ImportReport struct {
	Created   int
	Unchanged int
	Errors    []RowError
	Written   bool
}

// maxImportRows bounds one file.
const maxImportRows = 100_000

// csvTable reads a CSV file with a header row into records keyed by column.
type csvTable struct {
	cols map[string]int
	rows [][]string
	// lines[i] is the file line of rows[i].
	lines []int
}

func readCSV(raw []byte, required, optional []string) (csvTable, []RowError) {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")) // Excel's UTF-8 byte order mark
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return csvTable{}, []RowError{{Line: 1, Message: "cannot read the header row: " + err.Error()}}
	}
	t := csvTable{cols: map[string]int{}}
	known := map[string]bool{}
	for _, c := range append(append([]string{}, required...), optional...) {
		known[c] = true
	}
	var errs []RowError
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !known[h] {
			errs = append(errs, RowError{Line: 1, Field: h, Message: fmt.Sprintf("unknown column; the columns are %s", strings.Join(append(append([]string{}, required...), optional...), ", "))})
			continue
		}
		if _, dup := t.cols[h]; dup {
			errs = append(errs, RowError{Line: 1, Field: h, Message: "column appears twice"})
		}
		t.cols[h] = i
	}
	for _, c := range required {
		if _, ok := t.cols[c]; !ok {
			errs = append(errs, RowError{Line: 1, Field: c, Message: "required column is missing"})
		}
	}
	if len(errs) > 0 {
		return t, errs
	}
	for {
		line, _ := r.FieldPos(0)
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				// A quote left open is found at the end of the file; the
				// record it broke starts where the quote was opened.
				line = pe.StartLine
			}
			errs = append(errs, RowError{Line: line, Message: "malformed CSV: " + err.Error()})
			return t, errs
		}
		line, _ = r.FieldPos(0)
		if len(rec) != len(header) {
			errs = append(errs, RowError{Line: line, Message: fmt.Sprintf("%d fields, the header has %d", len(rec), len(header))})
			continue
		}
		t.rows = append(t.rows, rec)
		t.lines = append(t.lines, line)
		if len(t.rows) > maxImportRows {
			return t, append(errs, RowError{Line: line, Message: fmt.Sprintf("more than %d rows; split the file", maxImportRows)})
		}
	}
	return t, errs
}

func (t csvTable) get(row []string, col string) string {
	i, ok := t.cols[col]
	if !ok {
		return ""
	}
	return strings.TrimSpace(row[i])
}

// ImportMembers enrols members from a CSV file with the columns phone
// (required), name, birthday, card, tags (separated by ;) and consent
// (yes/no). Every row is checked first; with any error nothing is written.
// A phone already in the programme with the same name is left unchanged,
// so importing the same file twice is safe.
func (s *Service) ImportMembers(ctx context.Context, brandID string, raw []byte, dryRun bool) (ImportReport, error) {
	t, errs := readCSV(raw, []string{"phone"}, []string{"name", "birthday", "card", "tags", "consent"})
	rep := ImportReport{Errors: errs}
	if len(errs) > 0 {
		return rep, nil
	}
	type row struct {
		line int
		nm   NewMember
	}
	var rows []row
	phones, cards := map[string]int{}, map[string]int{}
	for i, rec := range t.rows {
		line := t.lines[i]
		bad := func(field string, err error) {
			rep.Errors = append(rep.Errors, RowError{Line: line, Field: field, Message: cloud.ErrorMessage(err)})
		}
		phone, err := NormalizePhone(t.get(rec, "phone"))
		if err != nil {
			bad("phone", err)
			continue
		}
		if prev, dup := phones[phone]; dup {
			bad("phone", fmt.Errorf("%w", cloud.Errorf(cloud.Invalid, "phone %s is also on line %d", phone, prev)))
			continue
		}
		phones[phone] = line
		nm := NewMember{Phone: phone, Name: t.get(rec, "name"), Birthday: t.get(rec, "birthday"), Source: cloud.MemberSource{Channel: "import"}}
		if err := validBirthday(nm.Birthday); err != nil {
			bad("birthday", err)
		}
		if err := validMemberName(nm.Name); err != nil {
			bad("name", err)
		}
		if c := t.get(rec, "card"); c != "" {
			if err := validCardNumber(c); err != nil {
				bad("card", err)
			} else if prev, dup := cards[c]; dup {
				bad("card", cloud.Errorf(cloud.Invalid, "card %s is also on line %d", c, prev))
			} else {
				cards[c] = line
				nm.Cards = []string{c}
			}
		}
		if tags := t.get(rec, "tags"); tags != "" {
			for _, tag := range strings.Split(tags, ";") {
				nm.Tags = append(nm.Tags, strings.TrimSpace(tag))
			}
			if err := validTags(nm.Tags); err != nil {
				bad("tags", err)
			}
		}
		switch strings.ToLower(t.get(rec, "consent")) {
		case "", "no", "n", "false", "0", "否":
		case "yes", "y", "true", "1", "是":
			nm.Consent = true
		default:
			bad("consent", cloud.Errorf(cloud.Invalid, "consent %q: want yes or no", t.get(rec, "consent")))
		}
		rows = append(rows, row{line, nm})
	}
	if len(rep.Errors) > 0 {
		return rep, nil
	}
	err := s.store.Update(ctx, func(tx cloud.Tx) error {
		rep.Created, rep.Unchanged, rep.Errors = 0, 0, nil
		b, err := tx.Brand(brandID)
		if err != nil {
			return err
		}
		var todo []row
		for _, r := range rows {
			if id, err := tx.MemberIDByPhone(brandID, r.nm.Phone); err == nil {
				m, err := tx.Member(brandID, id)
				if err != nil {
					return err
				}
				if m.Name == r.nm.Name {
					rep.Unchanged++
					continue
				}
				rep.Errors = append(rep.Errors, RowError{Line: r.line, Field: "phone", Message: fmt.Sprintf("phone already belongs to member %s (%s)", id, m.Name)})
				continue
			}
			for _, c := range r.nm.Cards {
				if card, err := tx.Card(brandID, c); err == nil && !card.Revoked {
					rep.Errors = append(rep.Errors, RowError{Line: r.line, Field: "card", Message: fmt.Sprintf("card already belongs to member %s", card.MemberID)})
				}
			}
			todo = append(todo, r)
		}
		if len(rep.Errors) > 0 || dryRun {
			rep.Created = len(todo)
			return errRollback
		}
		now := s.Now()
		for _, r := range todo {
			m, err := s.newMember(tx, b, r.nm.Phone, r.nm.Name, r.nm.Source, now)
			if err != nil {
				return err
			}
			m.Birthday, m.Tags, m.Consent = r.nm.Birthday, r.nm.Tags, r.nm.Consent
			if err := tx.PutMember(m); err != nil {
				return err
			}
			for _, c := range r.nm.Cards {
				if err := bindCard(tx, &m, c); err != nil {
					return err
				}
			}
		}
		rep.Created = len(todo)
		return nil
	})
	return finishImport(rep, err)
}

// errRollback ends a transaction without writing.
var errRollback = errors.New("rollback")

// finishImport turns an import transaction's end into its report: rolled
// back on purpose (errors found, or a dry run) is not a failure, and a file
// with errors created nothing.
func finishImport(rep ImportReport, err error) (ImportReport, error) {
	if errors.Is(err, errRollback) {
		if len(rep.Errors) > 0 {
			rep.Created = 0
		}
		return rep, nil
	}
	rep.Written = err == nil
	return rep, err
}

// ImportVouchers takes a group-buy platform's voucher codes from a CSV file
// with the columns code, platform, campaign (required), face_value_fen,
// expires (YYYY-MM-DD) and title. A code already imported with the same
// platform and campaign is left unchanged; with different ones it is an
// error. With any error nothing is written.
func (s *Service) ImportVouchers(ctx context.Context, brandID string, raw []byte, dryRun bool) (ImportReport, error) {
	t, errs := readCSV(raw, []string{"code", "platform", "campaign"}, []string{"face_value_fen", "expires", "title"})
	rep := ImportReport{Errors: errs}
	if len(errs) > 0 {
		return rep, nil
	}
	now := s.Now()
	var vouchers []cloud.Voucher
	var lines []int
	seen := map[string]int{}
	for i, rec := range t.rows {
		line := t.lines[i]
		bad := func(field, msg string) {
			rep.Errors = append(rep.Errors, RowError{Line: line, Field: field, Message: msg})
		}
		v := cloud.Voucher{BrandID: brandID, Code: t.get(rec, "code"), Platform: t.get(rec, "platform"), CampaignID: t.get(rec, "campaign"), Title: t.get(rec, "title"), ImportedAt: now}
		if len(v.Code) < 6 || len(v.Code) > 40 || strings.ContainsAny(v.Code, " \t") {
			bad("code", fmt.Sprintf("voucher code %q must be 6 to 40 characters without spaces", v.Code))
			continue
		}
		if prev, dup := seen[v.Code]; dup {
			bad("code", fmt.Sprintf("code %s is also on line %d", v.Code, prev))
			continue
		}
		seen[v.Code] = line
		if v.Platform == "" || v.CampaignID == "" {
			bad("platform", "platform and campaign must not be empty")
		}
		if f := t.get(rec, "face_value_fen"); f != "" {
			n, err := strconv.ParseInt(f, 10, 64)
			if err != nil || n < 0 || n > maxAmountFen {
				bad("face_value_fen", fmt.Sprintf("%q is not an amount in fen (0 to %d)", f, maxAmountFen))
			}
			v.FaceValueFen = n
		}
		if e := t.get(rec, "expires"); e != "" {
			d, err := time.Parse(time.DateOnly, e)
			if err != nil {
				bad("expires", fmt.Sprintf("%q: want YYYY-MM-DD", e))
			}
			v.ExpiresAt = d.AddDate(0, 0, 1) // valid through that day
		}
		vouchers = append(vouchers, v)
		lines = append(lines, line)
	}
	if len(rep.Errors) > 0 {
		return rep, nil
	}
	err := s.store.Update(ctx, func(tx cloud.Tx) error {
		rep.Created, rep.Unchanged, rep.Errors = 0, 0, nil
		if _, err := tx.Brand(brandID); err != nil {
			return err
		}
		var todo []cloud.Voucher
		for i, v := range vouchers {
			old, err := tx.Voucher(brandID, v.Code)
			if err == nil {
				if old.Platform == v.Platform && old.CampaignID == v.CampaignID {
					rep.Unchanged++
				} else {
					rep.Errors = append(rep.Errors, RowError{Line: lines[i], Field: "code", Message: fmt.Sprintf("code already imported for %s campaign %s", old.Platform, old.CampaignID)})
				}
				continue
			} else if !cloud.IsNotFound(err) {
				return err
			}
			todo = append(todo, v)
		}
		rep.Created = len(todo)
		if len(rep.Errors) > 0 || dryRun {
			return errRollback
		}
		for _, v := range todo {
			if err := tx.PutVoucher(v); err != nil {
				return err
			}
			if _, err := tx.AppendChange(brandID, cloud.ChangeVoucher, v.Code); err != nil {
				return err
			}
		}
		return nil
	})
	return finishImport(rep, err)
}
