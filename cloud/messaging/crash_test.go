package messaging_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud/messaging"
	"github.com/memberpass/memberpass/cloud/messaging/messagingtest"
	"github.com/memberpass/memberpass/cloud/messaging/sms"
	"github.com/memberpass/memberpass/cloud/messaging/sms/smstest"
	"github.com/memberpass/memberpass/cloud/sqlstore"
)

const crashMembers = 30

func crashDirectory() *messagingtest.Directory {
	dir := messagingtest.NewDirectory()
	for i := range crashMembers {
		dir.Add(messaging.Recipient{BrandID: "cha", MemberID: fmt.Sprint(i), Name: fmt.Sprint("会员", i), Phone: fmt.Sprintf("138%08d", i), Consent: true})
	}
	return dir
}

// TestCrashChild is the dispatcher process the crash test kills; it does
// nothing unless started by TestCrashMidSend.
func TestCrashChild(t *testing.T) {
	db := os.Getenv("MEMBERPASS_CRASH_DB")
	if db == "" {
		return
	}
	ctx := context.Background()
	sdb, err := sqlstore.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	st := sdb.Messaging()
	client, err := sms.New(sms.Config{Endpoint: os.Getenv("MEMBERPASS_CRASH_GATEWAY"), AccessKeyID: "LTAI-test", AccessKeySecret: "secret-test"})
	if err != nil {
		t.Fatal(err)
	}
	svc := messaging.NewService(st, crashDirectory())
	killAt, _ := strconv.Atoi(os.Getenv("MEMBERPASS_CRASH_AFTER"))
	sent := 0
	d := &messaging.Dispatcher{Service: svc, Senders: map[messaging.Channel]messaging.Sender{messaging.SMS: client},
		Owner: "child-" + strconv.Itoa(os.Getpid()), Lease: 300 * time.Millisecond, Batch: 5, Workers: 2, Poll: 20 * time.Millisecond,
		BeforeFinish: func(messaging.Message) {
			sent++
			if killAt > 0 && sent == killAt {
				// The provider has the message; the store does not know yet.
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := d.DispatchOnce(ctx); err != nil {
			t.Logf("dispatch: %v", err)
		}
		counts, err := st.Counts(ctx, "cha")
		if err != nil {
			t.Fatal(err)
		}
		if counts[messaging.StatusQueued]+counts[messaging.StatusSending] == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond) // the poll interval of a real dispatcher
	}
	t.Fatal("child did not finish")
}

// A dispatcher process SIGKILLed after the provider took a message and
// before the store recorded it, and others killed at random moments,
// lose and double nothing: every message reaches the gateway exactly once
// and ends sent.
func TestCrashMidSend(t *testing.T) {
	ctx := context.Background()
	g := smstest.New("LTAI-test", "secret-test")
	defer g.Close()
	g.AddSign("茶小满")
	g.AddTemplate("SMS_2001", "name")
	db := filepath.Join(t.TempDir(), "messaging.db")
	sdb, err := sqlstore.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	st := sdb.Messaging()
	svc := messaging.NewService(st, crashDirectory())
	p := messaging.DefaultPolicy("cha")
	p.SMSSignName = "茶小满"
	if err := svc.SetPolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := svc.PutTemplate(ctx, messaging.Template{BrandID: "cha", ID: "bal", Channel: messaging.SMS, Category: messaging.Transactional,
		ProviderTemplate: "SMS_2001", Zh: "${name}您好，您的余额已变动。"}); err != nil {
		t.Fatal(err)
	}
	for i := range crashMembers {
		if _, _, err := svc.Enqueue(ctx, messaging.Request{BrandID: "cha", CampaignID: "balance", MemberID: fmt.Sprint(i), Occurrence: "ev",
			Channel: messaging.SMS, TemplateID: "bal"}); err != nil {
			t.Fatal(err)
		}
	}
	run := func(env ...string) (killed bool) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), append([]string{"MEMBERPASS_CRASH_DB=" + db, "MEMBERPASS_CRASH_GATEWAY=" + g.URL}, env...)...)
		out := &limitedBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var randomKill *time.Timer
		for _, e := range env {
			if e == "RANDOM=1" {
				randomKill = time.AfterFunc(time.Duration(rand.IntN(60))*time.Millisecond, func() { cmd.Process.Signal(syscall.SIGKILL) })
			}
		}
		err := cmd.Wait()
		if randomKill != nil {
			randomKill.Stop()
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true
		}
		if err != nil {
			t.Fatalf("child failed: %v\n%s", err, out.b)
		}
		return false
	}
	kills := 0
	for _, after := range []int{1, 3, 2} {
		if run("MEMBERPASS_CRASH_AFTER=" + strconv.Itoa(after)) {
			kills++
		}
	}
	for range 5 {
		if run("RANDOM=1") {
			kills++
		}
	}
	if run() {
		t.Fatal("the last child was killed")
	}
	if kills < 3 {
		t.Fatalf("only %d children were killed", kills)
	}
	byOut := map[string]int{}
	for _, s := range g.Sent() {
		byOut[s.OutID]++
	}
	counts, err := st.Counts(ctx, "cha")
	if err != nil {
		t.Fatal(err)
	}
	if counts[messaging.StatusSent] != crashMembers {
		t.Errorf("statuses after %d kills: %v, want %d sent", kills, counts, crashMembers)
	}
	if len(byOut) != crashMembers {
		t.Errorf("gateway has %d distinct messages, want %d", len(byOut), crashMembers)
	}
	for id, n := range byOut {
		if n != 1 {
			t.Errorf("message %s reached the gateway %d times", id, n)
		}
	}
	t.Logf("%d children killed; %d messages at the gateway once each", kills, len(byOut))
}

type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if len(l.b) < 64<<10 {
		l.b = append(l.b, p...)
	}
	return len(p), nil
}
