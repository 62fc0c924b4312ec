package messaging

import (
	"testing"
	"time"
)

func TestSMSSegments(t *testing.T) {
	for _, tt := range []struct {
		chars, segments int
	}{{0, 0}, {1, 1}, {70, 1}, {71, 2}, {134, 2}, {135, 3}, {201, 3}, {202, 4}} {
		text := make([]rune, tt.chars)
		for i := range text {
			text[i] = '茶'
		}
		if c, s := SMSSegments(string(text)); c != tt.chars || s != tt.segments {
			t.Errorf("%d characters: %d, %d segments; want %d", tt.chars, c, s, tt.segments)
		}
	}
	if got := costFen(3, 4500); got != 14 { // 13.5 fen rounds up
		t.Errorf("3 segments at 4500 milli-fen: %d fen, want 14", got)
	}
}

func TestQuietHoursUntil(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	ny, _ := time.LoadLocation("America/New_York")
	q := DefaultQuietHours
	for _, tt := range []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"day", time.Date(2026, 3, 2, 12, 0, 0, 0, sh), time.Date(2026, 3, 2, 12, 0, 0, 0, sh)},
		{"evening", time.Date(2026, 3, 2, 21, 0, 0, 0, sh), time.Date(2026, 3, 3, 9, 0, 0, 0, sh)},
		{"after midnight", time.Date(2026, 3, 3, 2, 30, 0, 0, sh), time.Date(2026, 3, 3, 9, 0, 0, 0, sh)},
		{"end is outside", time.Date(2026, 3, 3, 9, 0, 0, 0, sh), time.Date(2026, 3, 3, 9, 0, 0, 0, sh)},
		// The night clocks go forward in New York: 09:00 local is still 09:00.
		{"DST", time.Date(2026, 3, 7, 23, 0, 0, 0, ny), time.Date(2026, 3, 8, 9, 0, 0, 0, ny)},
	} {
		loc := tt.at.Location()
		if got := q.Until(tt.at, loc); !got.Equal(tt.want) {
			t.Errorf("%s: until %v, want %v", tt.name, got.In(loc), tt.want)
		}
	}
	if got := (QuietHours{}).Until(time.Date(2026, 3, 2, 23, 0, 0, 0, sh), sh); !got.Equal(time.Date(2026, 3, 2, 23, 0, 0, 0, sh)) {
		t.Errorf("no quiet hours held a message to %v", got)
	}
	if _, err := ParseQuietHours("22:00-07:30"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"24:00-09:00", "21:00", "21:00-09:60", "x"} {
		if _, err := ParseQuietHours(bad); err == nil {
			t.Errorf("quiet hours %q accepted", bad)
		}
	}
}

func TestTemplateRules(t *testing.T) {
	p := DefaultPolicy("cha")
	p.SMSSignName = "茶小满"
	tpl := Template{BrandID: "cha", ID: "promo", Channel: SMS, Category: Marketing, ProviderTemplate: "SMS_1", Zh: "${name}您好，新品上市"}
	if err := tpl.Validate(p); err == nil {
		t.Error("marketing SMS without the opt-out text accepted")
	}
	tpl.Zh += "，回TD退订"
	if err := tpl.Validate(p); err != nil {
		t.Errorf("valid template refused: %v", err)
	}
	if _, err := tpl.RenderFor(Zh, map[string]string{}, p); err == nil {
		t.Error("a missing variable rendered")
	}
	r, err := tpl.RenderFor(Zh, map[string]string{"name": "王芳"}, p)
	if err != nil || r.SMSText != "【茶小满】王芳您好，新品上市，回TD退订" || r.Segments != 1 {
		t.Errorf("rendered %+v %v", r, err)
	}
	for _, c := range []string{"TD", " td ", "退订", "T", "拒收"} {
		if !IsOptOutReply(c) {
			t.Errorf("%q is not an opt-out", c)
		}
	}
	for _, c := range []string{"谢谢", "TDX", "OK", ""} {
		if IsOptOutReply(c) {
			t.Errorf("%q taken as an opt-out", c)
		}
	}
}

// The bucket hands out tokens at its rate: the n-th request beyond the
// burst waits n/rate, and a pause holds everyone.
func TestBucket(t *testing.T) {
	b := NewBucket(500, 1)
	t0 := time.Unix(1000, 0)
	if w := b.reserve(t0); w != 0 {
		t.Errorf("first token waited %v", w)
	}
	for i := 1; i <= 10; i++ {
		if w := b.reserve(t0); w != time.Duration(i)*2*time.Millisecond {
			t.Errorf("token %d waits %v, want %v", i, w, time.Duration(i)*2*time.Millisecond)
		}
	}
	// A second later the queue has drained; 500 more fit in the next second.
	t1 := t0.Add(time.Second + 22*time.Millisecond)
	if w := b.reserve(t1); w != 0 {
		t.Errorf("after the queue drained: waited %v", w)
	}
	b.Pause(t1, time.Second)
	if w := b.reserve(t1.Add(100 * time.Millisecond)); w < 900*time.Millisecond {
		t.Errorf("during a pause: waited only %v", w)
	}
}
