package ratelimit

import (
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := New(3, time.Minute)
	l.Now = func() time.Time { return now }
	for i := range 3 {
		if !l.Allow("a") {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	if l.Allow("a") {
		t.Fatal("a 4th attempt in the window was allowed")
	}
	if !l.Allow("b") {
		t.Fatal("another key was refused")
	}
	now = now.Add(time.Minute)
	if !l.Allow("a") {
		t.Fatal("refused in a new window")
	}
}
