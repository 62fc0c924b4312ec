package books_test

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/campaign"
	"github.com/memberpass/memberpass/cloud/campaign/books"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/pgstore/pgtest"
	"github.com/memberpass/memberpass/cloud/sqlstore"
)

// openTarget opens "sqlite:<path>" or "pg:<url>".
func openTarget(t testing.TB, target string) cloud.Storage {
	t.Helper()
	kind, where, _ := strings.Cut(target, ":")
	var db cloud.Storage
	var err error
	if kind == "sqlite" {
		db, err = sqlstore.OpenSQLite(ctx, where)
	} else {
		db, err = sqlstore.OpenPostgres(ctx, where)
	}
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestCrashHelper is the child process of TestCrashMidRun: it runs a
// one-off campaign, prints each committed page, and waits for the parent
// (which kills it with SIGKILL) after each page.
func TestCrashHelper(t *testing.T) {
	target := os.Getenv("CAMPAIGN_CRASH_TARGET")
	if target == "" {
		t.Skip("child process of TestCrashMidRun only")
	}
	db := openTarget(t, target)
	eng := campaign.NewEngine(books.New(db), slog.New(slog.DiscardHandler))
	eng.PageSize = 10
	eng.Lease = time.Second
	in := bufio.NewReader(os.Stdin)
	eng.AfterPage = func(r campaign.Run) error {
		fmt.Printf("page %d\n", r.Members)
		_, err := in.ReadString('\n') // the parent answers, or kills us
		return err
	}
	if _, err := eng.RunOneOff(ctx, "tea", "all"); err != nil {
		t.Fatal(err)
	}
}

// A run killed with SIGKILL in the middle resumes on restart: every member
// acted on once, none twice, none missed.
func TestCrashMidRun(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			var target string
			if engine == "sqlite" {
				target = "sqlite:" + filepath.Join(t.TempDir(), "cloud.sqlite")
			} else {
				target = "pg:" + pgtest.Schema(t)
			}
			const members = 95
			db := openTarget(t, target)
			f := newFixture(t, db)
			for range members {
				f.member(loyalty.NewMember{})
			}
			f.start(noHoldout(campaign.Campaign{ID: "all", Trigger: campaign.Trigger{Kind: campaign.TriggerOneOff}, Actions: coupon}))
			db.Close() // the child owns the database now

			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
			cmd.Env = append(os.Environ(), "CAMPAIGN_CRASH_TARGET="+target)
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(stdout)
			pages := 0
			for lines.Scan() {
				if strings.HasPrefix(lines.Text(), "page ") {
					pages++
					if pages == 4 {
						break
					}
					fmt.Fprintln(stdin)
				}
			}
			if pages != 4 {
				t.Fatalf("child committed %d pages before ending", pages)
			}
			if err := cmd.Process.Kill(); err != nil { // SIGKILL, mid-run
				t.Fatal(err)
			}
			cmd.Wait()

			// Restart: a new engine on the same database, once the dead
			// process's lease has lapsed.
			db = openTarget(t, target)
			defer db.Close()
			f2 := newFixture2(t, db)
			f2.eng.Now = func() time.Time { return time.Now().Add(time.Minute) }
			var before []campaign.Grant
			before = f2.grants("all")
			if len(before) != 40 {
				t.Fatalf("%d grants committed before the kill, want 40 (4 pages of 10)", len(before))
			}
			run := must(f2.eng.RunOneOff(ctx, "tea", "all"))(t)
			if !run.Done || run.Members != members {
				t.Fatalf("run after restart: %+v", run)
			}
			gs := f2.grants("all")
			if len(gs) != members {
				t.Fatalf("%d grants, want %d", len(gs), members)
			}
			for _, g := range gs {
				if n := len(f2.coupons(g.MemberID)); n != 1 {
					t.Fatalf("member %s holds %d coupons, want 1", g.MemberID, n)
				}
			}
		})
	}
}

// newFixture2 is a fixture over a database that already has the brand.
func newFixture2(t testing.TB, db cloud.Storage) *fixture {
	f := &fixture{t: t, db: db, brand: "tea", msg: &messenger{keys: map[string]int{}}}
	f.svc = loyalty.New(db, slog.New(slog.DiscardHandler))
	f.eng = campaign.NewEngine(books.New(db), nil)
	return f
}

// Several processes acting on the same firings at once, on one PostgreSQL
// database: each key acts once.
func TestConcurrentProcessesActOnce(t *testing.T) {
	url := pgtest.Schema(t)
	db := openTarget(t, "pg:"+url)
	defer db.Close()
	f := newFixture(t, db)
	var ids []string
	for range 20 {
		ids = append(ids, f.member(loyalty.NewMember{}).ID)
	}
	f.start(noHoldout(campaign.Campaign{ID: "race", Trigger: campaign.Trigger{Kind: campaign.TriggerOneOff}, Actions: coupon}))
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for p := range 4 {
		// Each "process" has its own connection pool on the same schema.
		_ = p
		pdb := openTarget(t, "pg:"+url)
		defer pdb.Close()
		st := books.New(pdb)
		wg.Go(func() {
			for _, id := range ids {
				err := st.Update(ctx, "tea", func(l campaign.Ledger) error {
					c, err := l.Campaign("race")
					if err != nil {
						return err
					}
					_, _, err = campaign.Act(l, &c, campaign.Firing{CampaignID: "race", MemberID: id, Occurrence: "once"}, time.Now())
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, id := range ids {
		if n := len(f.coupons(id)); n != 1 {
			t.Fatalf("member %s holds %d coupons", id, n)
		}
	}
	if c := must(f.eng.Get(ctx, "tea", "race"))(t); c.Spent.Coupons != 20 {
		t.Fatalf("spent %+v", c.Spent)
	}
}
