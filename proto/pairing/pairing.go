// Package pairing is the pairing ticket HQ hands to a store: the one-time
// pairing code, where the cloud is, and the fingerprint of the cloud's TLS
// certificate authority, in one text that also fits a QR code.
//
//	memberpass://pair?cloud=cloud.example:7070&code=ABCD-EFGH-JKLM&ca=sha256:9f86d0...
//
// The fingerprint is what lets an agent trust the cloud on its very first
// call: the ticket travels out of band (printed, or scanned from HQ's
// screen), so a machine in the middle cannot swap it. The agent accepts a
// TLS certificate chain only if it holds a CA with that SHA-256, and keeps
// the CA the cloud hands over at pairing for every later call.
package pairing

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// Scheme starts a pairing URI.
const Scheme = "memberpass"

// Ticket is what an agent needs to pair.
type Ticket struct {
	// Code is the one-time pairing code (ABCD-EFGH-JKLM).
	Code string
	// Cloud is the cloud's gRPC address as agents reach it; may be empty.
	Cloud string
	// CASHA256 is the hex SHA-256 of the cloud's CA certificate (DER);
	// empty when the cloud uses a publicly trusted certificate or no TLS.
	CASHA256 string
}

// Fingerprint returns the hex SHA-256 of a DER certificate.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// String returns the ticket as a memberpass:// URI.
func (t Ticket) String() string {
	q := url.Values{}
	if t.Cloud != "" {
		q.Set("cloud", t.Cloud)
	}
	q.Set("code", t.Code)
	if t.CASHA256 != "" {
		q.Set("ca", "sha256:"+t.CASHA256)
	}
	return Scheme + "://pair?" + q.Encode()
}

// Parse reads a ticket: a memberpass:// URI, or a bare pairing code.
func Parse(s string) (Ticket, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, Scheme+"://") {
		if s == "" || strings.ContainsAny(s, " /?&=") {
			return Ticket{}, fmt.Errorf("pairing code %q: want a code like ABCD-EFGH-JKLM or a %s://pair?... ticket", s, Scheme)
		}
		return Ticket{Code: s}, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return Ticket{}, fmt.Errorf("pairing ticket: %w", err)
	}
	if u.Host != "pair" {
		return Ticket{}, fmt.Errorf("pairing ticket: %s://%s is not a pairing ticket", u.Scheme, u.Host)
	}
	q := u.Query()
	t := Ticket{Code: q.Get("code"), Cloud: q.Get("cloud")}
	if t.Code == "" {
		return Ticket{}, fmt.Errorf("pairing ticket has no code")
	}
	if ca := q.Get("ca"); ca != "" {
		hexSum, ok := strings.CutPrefix(ca, "sha256:")
		if raw, err := hex.DecodeString(hexSum); !ok || err != nil || len(raw) != sha256.Size {
			return Ticket{}, fmt.Errorf("pairing ticket: ca %q is not sha256:<64 hex digits>", ca)
		}
		t.CASHA256 = strings.ToLower(hexSum)
	}
	return t, nil
}

// QRPNG renders the ticket as a QR code image (PNG, size pixels square,
// medium error correction).
func (t Ticket) QRPNG(size int) ([]byte, error) {
	png, err := qrcode.Encode(t.String(), qrcode.Medium, size)
	if err != nil {
		return nil, fmt.Errorf("pairing QR code: %w", err)
	}
	return png, nil
}

// QRText renders the ticket as a QR code made of block characters, for a
// terminal.
func (t Ticket) QRText() (string, error) {
	q, err := qrcode.New(t.String(), qrcode.Medium)
	if err != nil {
		return "", fmt.Errorf("pairing QR code: %w", err)
	}
	return q.ToSmallString(false), nil
}
