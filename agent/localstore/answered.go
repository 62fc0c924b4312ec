package localstore

import (
	"fmt"

	"github.com/memberpass/memberpass/agent"
)

// The answered mark says up to which seq every recorded event was answered
// (the cashier was shown it, or the kiosk's HTTP answer was written). It
// lives in a small file beside the database, mapped into memory and
// written with a plain store after each answer, without an fsync: a
// process crash keeps it (the page cache survives), so after a SIGKILL the
// agent knows exactly which events were recorded but never answered, the
// tail past the mark. After a power loss the mark may be older than it
// was, and more events are reported as unanswered than were: the safe
// side.

// answeredPath is where the mark of the database at path lives.
func answeredPath(path string) string { return path + ".answered" }

// openAnswered opens the mark file; a database without one (first start,
// or a database from before the mark existed) starts with every event
// recorded so far taken as answered.
func (d *DB) openAnswered(path string) error {
	st, err := d.State()
	if err != nil {
		return err
	}
	m, existed, err := openMarkFile(answeredPath(path))
	if err != nil {
		return fmt.Errorf("open answered mark: %w", err)
	}
	if existed {
		// A mark ahead of the log (a log restored from a backup) means
		// nothing: the log is the truth.
		d.mark = min(m.load(), st.LastSeq)
	} else {
		d.mark = st.LastSeq
	}
	m.store(d.mark)
	d.markFile, d.answered = m, map[uint64]bool{}
	return nil
}

// MarkAnswered records that the event with seq was answered. The mark
// moves only over a run of answered seqs, so an event answered late (a
// concurrent commit) is never passed over.
func (d *DB) MarkAnswered(seq uint64) {
	d.markMu.Lock()
	defer d.markMu.Unlock()
	if d.markFile == nil || seq <= d.mark {
		return
	}
	d.answered[seq] = true
	moved := false
	for d.answered[d.mark+1] {
		delete(d.answered, d.mark+1)
		d.mark++
		moved = true
	}
	if moved {
		d.markFile.store(d.mark)
	}
}

// AnsweredSeq is the answered mark.
func (d *DB) AnsweredSeq() uint64 {
	d.markMu.Lock()
	defer d.markMu.Unlock()
	return d.mark
}

// Unanswered returns the events recorded past the answered mark: at start,
// what the last run recorded but never answered (it was killed between
// the commit and the answer).
func (d *DB) Unanswered() ([]agent.Event, error) {
	return d.Events(d.AnsweredSeq()+1, 1<<63)
}

func (d *DB) closeAnswered() error {
	d.markMu.Lock()
	defer d.markMu.Unlock()
	if d.markFile == nil {
		return nil
	}
	err := d.markFile.close()
	d.markFile = nil
	return err
}
