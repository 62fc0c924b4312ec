package harness

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"time"
)

// CloudOptions say how to run a cloud.
type CloudOptions struct {
	DataDir string
	Addr    string
	Token   string
	// TLS serves with the cloud's self-signed CA (in DataDir/tls) instead
	// of plaintext.
	TLS   bool
	Extra []string
	Tee   io.Writer
}

// StartCloud runs a cloud and waits until it accepts connections.
func StartCloud(b Binaries, o CloudOptions) (*Process, error) {
	args := []string{"--listen", o.Addr, "--data-dir", o.DataDir, "--admin-token", o.Token, "--log-format", "json"}
	if o.TLS {
		args = append(args, "--tls-self-signed")
	} else {
		args = append(args, "--insecure")
	}
	args = append(args, o.Extra...)
	p, err := Start("cloud", b.Cloud, args, o.Tee)
	if err != nil {
		return nil, err
	}
	err = WaitFor(15*time.Second, "the cloud to listen on "+o.Addr, func() (bool, error) {
		if done, err := p.Exited(); done {
			return false, fmt.Errorf("cloud exited (%v): %s", err, p.Log.String())
		}
		c, err := net.DialTimeout("tcp", o.Addr, 200*time.Millisecond)
		if err != nil {
			return false, err
		}
		c.Close()
		return true, nil
	})
	if err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
}

// AgentOptions say how to run an agent.
type AgentOptions struct {
	DataDir     string
	Cloud       string
	PairingCode string
	Scanner     string
	Kiosk       string
	// TLS talks to the cloud over TLS (trusting what pairing set up)
	// instead of plaintext.
	TLS   bool
	Extra []string
	Tee   io.Writer
}

// StartAgent runs an agent and waits until its kiosk answers.
func StartAgent(b Binaries, o AgentOptions) (*Process, error) {
	args := []string{"--data-dir", o.DataDir, "--cloud", o.Cloud, "--kiosk-listen", o.Kiosk, "--log-format", "json", "--device-name", "counter-1"}
	if !slices.Contains(o.Extra, "--staff-file") {
		// The test staff, in the data directory where the agent looks.
		if err := WriteStaffFile(filepath.Join(o.DataDir, "staff.txt")); err != nil {
			return nil, fmt.Errorf("staff file: %w", err)
		}
	}
	if o.PairingCode != "" {
		args = append(args, "--pairing-code", o.PairingCode)
	}
	if o.Scanner != "" {
		args = append(args, "--scanner", o.Scanner)
	}
	if !o.TLS {
		args = append(args, "--insecure")
	}
	args = append(args, o.Extra...)
	p, err := Start("agent", b.Agent, args, o.Tee)
	if err != nil {
		return nil, err
	}
	err = WaitFor(15*time.Second, "the agent's kiosk on "+o.Kiosk, func() (bool, error) {
		if done, err := p.Exited(); done {
			return false, fmt.Errorf("agent exited (%v): %s", err, p.Log.String())
		}
		resp, err := http.Get("http://" + o.Kiosk + "/healthz")
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
}
