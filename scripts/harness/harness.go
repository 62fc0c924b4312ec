// Package harness builds and runs the real binaries (cloud and agent) as
// separate processes, for the demo and the end-to-end tests.
package harness

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/memberpass/memberpass/agent/kiosk"
	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// Binaries are the built commands.
type Binaries struct {
	Cloud, Agent string
}

// ModuleRoot finds the repository root (where go.mod is).
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the memberpass module")
	}
	return filepath.Dir(mod), nil
}

// Build compiles the cloud and the agent into dir.
func Build(ctx context.Context, dir string) (Binaries, error) {
	root, err := ModuleRoot()
	if err != nil {
		return Binaries{}, err
	}
	b := Binaries{Cloud: filepath.Join(dir, "memberpass-cloud"), Agent: filepath.Join(dir, "memberpass-agent")}
	for bin, pkg := range map[string]string{b.Cloud: "./cloud/cmd/memberpass-cloud", b.Agent: "./agent/cmd/memberpass-agent"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return Binaries{}, fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
		}
	}
	return b, nil
}

// FreeAddr returns a loopback address with a port free right now.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Log collects a process's output, safe for concurrent use.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
	tee io.Writer
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tee != nil {
		l.tee.Write(p)
	}
	return l.buf.Write(p)
}

// String returns everything written so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Lines returns the JSON log records whose msg is msg.
func (l *Log) Lines(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(l.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// Process is a running binary.
type Process struct {
	Name string
	Log  *Log
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has ended
	err  error         // how it ended, once done is closed
}

// Start runs bin with args; its stderr and stdout go to the process's Log
// (and to tee, if not nil).
func Start(name, bin string, args []string, tee io.Writer) (*Process, error) {
	p := &Process{Name: name, Log: &Log{tee: tee}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.Log, p.Log
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	return p, nil
}

// Stop sends SIGTERM and waits for a clean exit.
func (p *Process) Stop(timeout time.Duration) error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop %s: %w", p.Name, err)
	}
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("%s exited: %w", p.Name, p.err)
		}
		return nil
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %s", p.Name, timeout)
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Process) Kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// Exited reports whether the process has ended (and how).
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// WaitFor polls cond until it is true or the timeout passes.
func WaitFor(timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return nil
		}
		last = err
		time.Sleep(20 * time.Millisecond)
	}
	if last != nil {
		return fmt.Errorf("timed out after %s waiting for %s: %w", timeout, what, last)
	}
	return fmt.Errorf("timed out after %s waiting for %s", timeout, what)
}

// Admin is an HQ client.
type Admin struct {
	pb.AdminServiceClient
	conn *grpc.ClientConn
}

type tokenCreds string

func (t tokenCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}
func (tokenCreds) RequireTransportSecurity() bool { return false }

// DialAdmin connects to a cloud's admin API.
func DialAdmin(addr, token string) (*Admin, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(tokenCreds(token)))
	if err != nil {
		return nil, err
	}
	return &Admin{AdminServiceClient: pb.NewAdminServiceClient(conn), conn: conn}, nil
}

// DialAdminTLS connects to a cloud's admin API over TLS, trusting the CA
// certificate in caPEM.
func DialAdminTLS(addr, token string, caPEM []byte) (*Admin, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("no CA certificate in the PEM given")
	}
	host, _, _ := net.SplitHostPort(addr)
	creds := credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12})
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds), grpc.WithPerRPCCredentials(tokenCreds(token)))
	if err != nil {
		return nil, err
	}
	return &Admin{AdminServiceClient: pb.NewAdminServiceClient(conn), conn: conn}, nil
}

// Close closes the connection.
func (a *Admin) Close() error { return a.conn.Close() }

// AgentStatus reads an agent's kiosk status as its manager sees it (the
// recent scans included): it signs the test manager in, reads, and signs
// out again, so polling leaves no sessions behind.
func AgentStatus(kioskAddr string) (kiosk.StatusReport, error) {
	k, err := SignIn(kioskAddr, ManagerID, ManagerPIN)
	if err != nil {
		return kiosk.StatusReport{}, err
	}
	defer k.Do("DELETE", "/api/session", nil, nil)
	return k.Status()
}

// PID is the process's id, for reading /proc/<pid>.
func (p *Process) PID() int { return p.cmd.Process.Pid }
