package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/memberpass/memberpass/agent/counter"
	"github.com/memberpass/memberpass/agent/kiosk"
	"github.com/memberpass/memberpass/agent/localstore"
)

// recoverUnanswered finds what the last run recorded but never answered
// (killed between the commit and the answer), says so in the log and on
// the kiosk, and has the counter answer a rescan of a member it had just
// recorded "already recorded" rather than record a second visit.
func recoverUnanswered(db *localstore.DB, ctr *counter.Counter, ks *kiosk.Server, debounce time.Duration, log *slog.Logger) error {
	tail, err := db.Unanswered()
	if err != nil {
		return fmt.Errorf("read events recorded before the restart: %w", err)
	}
	for _, ev := range tail {
		log.Warn("recorded just before the restart", "note", "never shown at the counter; it is recorded and must not be entered again",
			"seq", ev.Seq, "event", ev.ID, "kind", ev.Kind, "member", ev.MemberID, "occurred_at", ev.OccurredAt)
		db.MarkAnswered(ev.Seq) // the log and the kiosk answer it now
	}
	ks.Recovered(tail)
	recent, err := db.EventsSince(time.Now().UTC().Add(-debounce))
	if err != nil {
		return fmt.Errorf("read the last visits: %w", err)
	}
	ctr.Remember(recent)
	return nil
}
