// Package staff is who may work the kiosk of one store: the roster an
// operator keeps in the agent's staff file (each person's id, role, name
// and a salted hash of their PIN), PIN checks, and the lockout that stops
// a PIN being guessed at the till.
//
// The roster is an agent file rather than cloud data because the counter
// must sign cashiers in while the shop is offline, and because a PIN is a
// till's secret: HQ never needs it. The file's format is described in
// firmware-notes/operations.md.
package staff

import (
	"bufio"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Role is what a person may do at the kiosk.
type Role string

// Roles. A cashier settles bills and top-ups for members scanned at the
// till; a manager may also open the manager view, rebuild the replica and
// approve a transaction for a member who was not scanned.
const (
	Cashier Role = "cashier"
	Manager Role = "manager"
)

// Person is one entry of the roster.
type Person struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role"`
	// pinHash is "pbkdf2-sha256$<iterations>$<salt>$<key>" (base64url,
	// unpadded): it never leaves the package.
	pinHash string
}

// Roster is the staff of one store, in the file's order.
type Roster struct {
	people []Person
	byID   map[string]int
}

// Bounds on the roster file, so a broken file is an error, not a surprise.
const (
	maxIDLen   = 32
	maxNameLen = 40 // characters
	maxPeople  = 500
	// MinPINLen and MaxPINLen bound a PIN: digits only.
	MinPINLen = 4
	MaxPINLen = 12
)

// ParseRoster reads a roster: one person per line as
//
//	id role pin-hash name...
//
// separated by spaces or tabs (the name may contain spaces); blank lines
// and lines starting with # are skipped.
func ParseRoster(r io.Reader) (*Roster, error) {
	ro := &Roster{byID: map[string]int{}}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Fields(text)
		if len(f) < 3 {
			return nil, fmt.Errorf("line %d: want \"id role pin-hash name\", got %d fields", line, len(f))
		}
		p := Person{ID: f[0], Role: Role(f[1]), pinHash: f[2]}
		if len(f) > 3 {
			p.Name = strings.Join(f[3:], " ")
		} else {
			p.Name = p.ID
		}
		switch {
		case !validID(p.ID):
			return nil, fmt.Errorf("line %d: staff id %q: want 1-%d letters, digits, - or _", line, p.ID, maxIDLen)
		case p.Role != Cashier && p.Role != Manager:
			return nil, fmt.Errorf("line %d: role %q: want cashier or manager", line, p.Role)
		case utf8.RuneCountInString(p.Name) > maxNameLen:
			return nil, fmt.Errorf("line %d: name longer than %d characters", line, maxNameLen)
		}
		if _, _, _, err := splitHash(p.pinHash); err != nil {
			return nil, fmt.Errorf("line %d: PIN hash: %w (make one with memberpass-agent hash-pin)", line, err)
		}
		if _, dup := ro.byID[p.ID]; dup {
			return nil, fmt.Errorf("line %d: staff id %q appears twice", line, p.ID)
		}
		if len(ro.people) == maxPeople {
			return nil, fmt.Errorf("line %d: more than %d staff", line, maxPeople)
		}
		ro.byID[p.ID] = len(ro.people)
		ro.people = append(ro.people, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read roster: %w", err)
	}
	return ro, nil
}

// LoadRoster reads the roster file at path. A missing file is an empty
// roster (nobody can sign in): exists says which it was.
func LoadRoster(path string) (ro *Roster, exists bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Roster{byID: map[string]int{}}, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("open staff file: %w", err)
	}
	defer f.Close()
	ro, err = ParseRoster(f)
	if err != nil {
		return nil, true, fmt.Errorf("staff file %s: %w", path, err)
	}
	return ro, true, nil
}

func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// People lists the roster, in the file's order.
func (ro *Roster) People() []Person {
	if ro == nil {
		return nil
	}
	return append([]Person(nil), ro.people...)
}

// Find returns the person with id.
func (ro *Roster) Find(id string) (Person, bool) {
	if ro == nil {
		return Person{}, false
	}
	i, ok := ro.byID[id]
	if !ok {
		return Person{}, false
	}
	return ro.people[i], true
}

// Known says whether id is on the roster.
func (ro *Roster) Known(id string) bool {
	_, ok := ro.Find(id)
	return ok
}

// CheckPIN says whether pin is the person's PIN, in constant time.
func (p Person) CheckPIN(pin string) bool {
	iter, salt, key, err := splitHash(p.pinHash)
	if err != nil || !validPIN(pin) {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, pin, salt, iter, len(key))
	return err == nil && subtle.ConstantTimeCompare(got, key) == 1
}

// DefaultIterations is the PBKDF2 cost of a new PIN hash: a guess costs a
// few tens of milliseconds, so a stolen staff file is slow to search.
const DefaultIterations = 200_000

const hashScheme = "pbkdf2-sha256"

// HashPIN makes the stored form of a PIN. iterations <= 0 means
// DefaultIterations.
func HashPIN(pin string, iterations int) (string, error) {
	if !validPIN(pin) {
		return "", fmt.Errorf("a PIN is %d to %d digits", MinPINLen, MaxPINLen)
	}
	if iterations <= 0 {
		iterations = DefaultIterations
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	key, err := pbkdf2.Key(sha256.New, pin, salt, iterations, 32)
	if err != nil {
		return "", fmt.Errorf("hash PIN: %w", err)
	}
	enc := base64.RawURLEncoding
	return fmt.Sprintf("%s$%d$%s$%s", hashScheme, iterations, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

func validPIN(pin string) bool {
	if len(pin) < MinPINLen || len(pin) > MaxPINLen {
		return false
	}
	for _, r := range pin {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func splitHash(h string) (iter int, salt, key []byte, err error) {
	parts := strings.Split(h, "$")
	if len(parts) != 4 || parts[0] != hashScheme {
		return 0, nil, nil, fmt.Errorf("want %s$<iterations>$<salt>$<key>", hashScheme)
	}
	iter, err = strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > 10_000_000 {
		return 0, nil, nil, errors.New("iterations out of range")
	}
	enc := base64.RawURLEncoding
	if salt, err = enc.DecodeString(parts[2]); err != nil || len(salt) < 8 {
		return 0, nil, nil, errors.New("salt is not base64url of at least 8 bytes")
	}
	if key, err = enc.DecodeString(parts[3]); err != nil || len(key) < 16 || len(key) > 64 {
		return 0, nil, nil, errors.New("key is not base64url of 16 to 64 bytes")
	}
	return iter, salt, key, nil
}
