package staff

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// testHash makes a cheap hash: the tests check the scheme, not its cost.
func testHash(t *testing.T, pin string) string {
	t.Helper()
	h, err := HashPIN(pin, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestParseRoster(t *testing.T) {
	good := "# the shop's staff\n\ns01 cashier " + testHash(t, "2468") + " 王 芳\nm01\tmanager\t" + testHash(t, "135790") + "\tLi Lei\n"
	ro, err := ParseRoster(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := ro.Find("s01")
	if !ok || p.Name != "王 芳" || p.Role != Cashier || !p.CheckPIN("2468") || p.CheckPIN("2469") {
		t.Fatalf("s01 = %+v ok %v", p, ok)
	}
	if m, _ := ro.Find("m01"); m.Role != Manager || !m.CheckPIN("135790") {
		t.Fatalf("m01 = %+v", m)
	}
	for _, tt := range []struct{ name, text string }{
		{"too few fields", "s01 cashier\n"},
		{"bad role", "s01 boss " + testHash(t, "2468") + "\n"},
		{"bad id", "s/1 cashier " + testHash(t, "2468") + "\n"},
		{"plain PIN", "s01 cashier 2468\n"},
		{"duplicate", "s01 cashier " + testHash(t, "2468") + "\ns01 manager " + testHash(t, "2468") + "\n"},
		{"long name", "s01 cashier " + testHash(t, "2468") + " " + strings.Repeat("名", 41) + "\n"},
	} {
		if _, err := ParseRoster(strings.NewReader(tt.text)); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	for _, pin := range []string{"123", "12a4", "1234567890123"} {
		if _, err := HashPIN(pin, 1000); err == nil {
			t.Errorf("PIN %q accepted", pin)
		}
	}
}

func TestDeskLocksOutAfterWrongPINs(t *testing.T) {
	ro, err := ParseRoster(strings.NewReader("s01 cashier " + testHash(t, "2468") + "\ns02 cashier " + testHash(t, "1357") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := NewDesk(ro)
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	for i := 1; i < d.MaxFails; i++ {
		if _, err := d.Check("s01", "0000", now); !errors.Is(err, ErrWrongPIN) {
			t.Fatalf("wrong PIN %d: %v", i, err)
		}
	}
	var locked *LockedError
	if _, err := d.Check("s01", "0000", now); !errors.As(err, &locked) {
		t.Fatalf("wrong PIN %d: %v, want locked", d.MaxFails, err)
	}
	// Locked: even the right PIN is refused until the lock ends.
	if _, err := d.Check("s01", "2468", now.Add(time.Minute)); !errors.As(err, &locked) {
		t.Fatalf("right PIN while locked: %v", err)
	}
	// Another person is not locked.
	if p, err := d.Check("s02", "1357", now); err != nil || p.ID != "s02" {
		t.Fatalf("s02: %+v %v", p, err)
	}
	if p, err := d.Check("s01", "2468", now.Add(d.LockFor)); err != nil || p.ID != "s01" {
		t.Fatalf("after the lock: %+v %v", p, err)
	}
	// Guessing across ids (unknown ones included) locks the whole till.
	later := now.Add(time.Hour)
	for i := 0; i < d.TillMaxFails-1; i++ {
		d.Check("nobody"+string(rune('a'+i)), "0000", later)
	}
	if _, err := d.Check("x", "0000", later); !errors.As(err, &locked) {
		t.Fatalf("till-wide guessing: %v, want locked", err)
	}
	if _, err := d.Check("s02", "1357", later); !errors.As(err, &locked) {
		t.Fatalf("right PIN while the till is locked: %v", err)
	}
}
