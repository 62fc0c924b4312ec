package pairing

import (
	"bytes"
	"strings"
	"testing"
)

func TestTicketRoundTrip(t *testing.T) {
	in := Ticket{Code: "ABCD-EFGH-JKLM", Cloud: "cloud.example:7070", CASHA256: strings.Repeat("ab", 32)}
	got, err := Parse(in.String())
	if err != nil {
		t.Fatal(err)
	}
	if got != in {
		t.Fatalf("round trip: got %+v, want %+v", got, in)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Ticket
		wantErr string
	}{
		{in: "ABCD-EFGH-JKLM", want: Ticket{Code: "ABCD-EFGH-JKLM"}},
		{in: " ABCD-EFGH-JKLM\n", want: Ticket{Code: "ABCD-EFGH-JKLM"}},
		{in: "memberpass://pair?code=X1", want: Ticket{Code: "X1"}},
		{in: "", wantErr: "want a code"},
		{in: "memberpass://pair?cloud=a:1", wantErr: "no code"},
		{in: "memberpass://other?code=X", wantErr: "not a pairing ticket"},
		{in: "memberpass://pair?code=X&ca=md5:00", wantErr: "sha256"},
		{in: "memberpass://pair?code=X&ca=sha256:abc", wantErr: "sha256"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestQRCode(t *testing.T) {
	tk := Ticket{Code: "ABCD-EFGH-JKLM", Cloud: "cloud.example:7070", CASHA256: strings.Repeat("ab", 32)}
	png, err := tk.QRPNG(256)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("not a PNG: % x", png[:8])
	}
	text, err := tk.QRText()
	if err != nil || !strings.Contains(text, "█") {
		t.Fatalf("terminal QR: %v %q", err, text)
	}
}

// FuzzParse: any text is a ticket or a clear error, and a ticket survives
// a round trip.
func FuzzParse(f *testing.F) {
	f.Add("ABCD-EFGH-JKLM")
	f.Add("memberpass://pair?cloud=a:1&code=X&ca=sha256:" + strings.Repeat("ab", 32))
	f.Add("memberpass://pair?code=%zz")
	f.Fuzz(func(t *testing.T, s string) {
		tk, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(tk.String())
		if err != nil || again != tk {
			t.Fatalf("round trip of %q: %+v -> %+v, %v", s, tk, again, err)
		}
	})
}
