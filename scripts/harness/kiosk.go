package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"time"

	"github.com/memberpass/memberpass/agent/kiosk"
	"github.com/memberpass/memberpass/agent/staff"
)

// The staff StartAgent gives every agent it starts (unless its options
// name a --staff-file): a cashier and a manager, with their PINs.
const (
	CashierID   = "s01"
	CashierName = "王芳"
	CashierPIN  = "2468"
	ManagerID   = "m01"
	ManagerName = "Li Lei"
	ManagerPIN  = "135790"
)

// WriteStaffFile writes the test staff file (cheap PIN hashes: the tests
// check the scheme, not its cost).
func WriteStaffFile(path string) error {
	var b bytes.Buffer
	b.WriteString("# id role pin-hash name\n")
	for _, p := range []struct{ id, role, pin, name string }{
		{CashierID, "cashier", CashierPIN, CashierName}, {ManagerID, "manager", ManagerPIN, ManagerName},
	} {
		h, err := staff.HashPIN(p.pin, 1000)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %s %s %s\n", p.id, p.role, h, p.name)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o600)
}

// Kiosk is a signed-in client of an agent's kiosk, as a browser at the
// till would be.
type Kiosk struct {
	Base string
	HTTP *http.Client
}

// SignIn signs a member of staff in at the kiosk on addr.
func SignIn(addr, staffID, pin string) (*Kiosk, error) {
	jar, _ := cookiejar.New(nil)
	k := &Kiosk{Base: "http://" + addr, HTTP: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	var who kiosk.SessionView
	code, err := k.Do("POST", "/api/session", kiosk.SignInRequest{StaffID: staffID, PIN: pin}, &who)
	if err != nil {
		return nil, fmt.Errorf("sign in as %s: %w", staffID, err)
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("sign in as %s: status %d", staffID, code)
	}
	return k, nil
}

// Do sends a request with an optional JSON body and decodes the JSON
// answer into out (if not nil), whatever the status.
func (k *Kiosk) Do(method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, k.Base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := k.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %d %s: %w", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode, nil
}

// Status reads the kiosk's status as the signed-in person sees it (a
// manager sees the recent scans too).
func (k *Kiosk) Status() (kiosk.StatusReport, error) {
	var rep kiosk.StatusReport
	code, err := k.Do("GET", "/api/status", nil, &rep)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("status: %d", code)
	}
	return rep, err
}
