package staff

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrWrongPIN is returned for a wrong PIN or an id not on the roster (the
// till does not say which).
var ErrWrongPIN = errors.New("wrong staff id or PIN")

// LockedError is returned while sign-ins are locked after repeated wrong
// PINs.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return fmt.Sprintf("too many wrong PINs: locked until %s", e.Until.Format(time.TimeOnly))
}

// Desk signs staff in at one till. After MaxFails wrong PINs for one
// person, that person is locked out for LockFor; after TillMaxFails wrong
// PINs at the till within LockFor (any ids, known or not), every sign-in
// is locked for LockFor. A correct PIN clears the person's count.
type Desk struct {
	roster       *Roster
	MaxFails     int
	TillMaxFails int
	LockFor      time.Duration

	mu        sync.Mutex
	fails     map[string]int
	lockedTil map[string]time.Time
	tillFails []time.Time
	tillUntil time.Time
}

// NewDesk makes a desk over a roster with the default bounds: 5 wrong PINs
// per person, 20 per till, 5 minutes locked.
func NewDesk(ro *Roster) *Desk {
	return &Desk{roster: ro, MaxFails: 5, TillMaxFails: 20, LockFor: 5 * time.Minute,
		fails: map[string]int{}, lockedTil: map[string]time.Time{}}
}

// Roster is the desk's roster.
func (d *Desk) Roster() *Roster { return d.roster }

// Check signs a person in by id and PIN.
func (d *Desk) Check(id, pin string, now time.Time) (Person, error) {
	d.mu.Lock()
	if now.Before(d.tillUntil) {
		d.mu.Unlock()
		return Person{}, &LockedError{Until: d.tillUntil}
	}
	if until, ok := d.lockedTil[id]; ok && now.Before(until) {
		d.mu.Unlock()
		return Person{}, &LockedError{Until: until}
	}
	d.mu.Unlock()
	// The PIN check is slow on purpose; it runs outside the lock.
	p, ok := d.roster.Find(id)
	good := ok && p.CheckPIN(pin)
	d.mu.Lock()
	defer d.mu.Unlock()
	if good {
		delete(d.fails, id)
		delete(d.lockedTil, id)
		return p, nil
	}
	// Count against the till, within the window.
	keep := d.tillFails[:0]
	for _, t := range d.tillFails {
		if now.Sub(t) < d.LockFor {
			keep = append(keep, t)
		}
	}
	d.tillFails = append(keep, now)
	if len(d.tillFails) >= d.TillMaxFails {
		d.tillUntil, d.tillFails = now.Add(d.LockFor), nil
	}
	if ok {
		d.fails[id]++
		if d.fails[id] >= d.MaxFails {
			d.lockedTil[id] = now.Add(d.LockFor)
			delete(d.fails, id)
			return Person{}, &LockedError{Until: d.lockedTil[id]}
		}
	}
	if now.Before(d.tillUntil) {
		return Person{}, &LockedError{Until: d.tillUntil}
	}
	return Person{}, ErrWrongPIN
}
