// Package messagingtest gives messaging tests what they share: a member
// directory in memory, a clock the test moves, a recording provider and a
// SQL store on a fresh SQLite file or PostgreSQL schema.
package messagingtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/messaging"
	"github.com/memberpass/memberpass/cloud/sqlstore"
	"github.com/memberpass/memberpass/cloud/sqlstore/sqltest"
)

// SQLite opens the messaging tables of a new SQLite database in the
// test's directory.
func SQLite(t testing.TB) *sqlstore.MessagingStore {
	t.Helper()
	return sqltest.OpenSQLite(t).Messaging()
}

// Postgres opens the messaging tables in a fresh schema of the test
// server; it fails, never skips, when the server is down.
func Postgres(t testing.TB) *sqlstore.MessagingStore {
	t.Helper()
	return sqltest.OpenPostgres(t).Messaging()
}

// Engines lists the stores every store test runs on.
var Engines = []struct {
	Name string
	Open func(testing.TB) *sqlstore.MessagingStore
}{{"sqlite", SQLite}, {"postgres", Postgres}}

// Clock is a time the test sets and moves.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// Directory is a member directory in memory.
type Directory struct {
	mu      sync.Mutex
	members map[string]messaging.Recipient
	zones   map[string]string
}

// NewDirectory makes an empty directory.
func NewDirectory() *Directory {
	return &Directory{members: map[string]messaging.Recipient{}, zones: map[string]string{}}
}

// Add puts a member in.
func (d *Directory) Add(r messaging.Recipient) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r.Vars == nil {
		r.Vars = map[string]string{"name": r.Name}
	}
	d.members[r.BrandID+"/"+r.MemberID] = r
}

// Recipient finds a member.
func (d *Directory) Recipient(_ context.Context, brand, member string) (messaging.Recipient, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r, ok := d.members[brand+"/"+member]
	if !ok {
		return r, cloud.Errorf(cloud.NotFound, "no member %s", member)
	}
	return r, nil
}

// MembersByPhone finds members by phone.
func (d *Directory) MembersByPhone(_ context.Context, phone string) ([]messaging.Recipient, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []messaging.Recipient
	for _, r := range d.members {
		if r.Phone == phone {
			out = append(out, r)
		}
	}
	return out, nil
}

// BrandTimeZone is Asia/Shanghai for every brand, unless SetZone said.
func (d *Directory) BrandTimeZone(_ context.Context, brand string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if z := d.zones[brand]; z != "" {
		return z, nil
	}
	return "Asia/Shanghai", nil
}

// SetZone sets a brand's time zone.
func (d *Directory) SetZone(brand, zone string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.zones[brand] = zone
}

// Sender records what it is asked to send and answers with Err when set.
type Sender struct {
	mu   sync.Mutex
	Sent []messaging.Outgoing
	// Err, when set, is returned for every send.
	Err error
	n   int
}

// Send records a message.
func (s *Sender) Send(_ context.Context, m messaging.Outgoing) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return "", s.Err
	}
	s.n++
	s.Sent = append(s.Sent, m)
	return fmt.Sprintf("p-%d", s.n), nil
}

// Count is how many messages were sent.
func (s *Sender) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.Sent)
}

// SetErr sets the answer to later sends.
func (s *Sender) SetErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Err = err
}

// Dedups says the recording provider drops repeats of an ID, as WeChat
// does with client_msg_id.
func (s *Sender) Dedups(messaging.Outgoing) bool { return true }
