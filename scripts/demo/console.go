package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/memberpass/memberpass/cloud/console/demodata"
	"github.com/memberpass/memberpass/cloud/hq"
	"github.com/memberpass/memberpass/cloud/loyalty"
	"github.com/memberpass/memberpass/cloud/sqlstore"
)

// waitForConsole keeps the demo's cloud up at the end for a person to
// browse HQ's console.
var waitForConsole bool

// seedConsole fills the cloud's SQLite file, before the cloud starts, with
// the console's demo brand (cloud/console/demodata).
func seedConsole(ctx context.Context, path string) (demodata.Demo, error) {
	db, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		return demodata.Demo{}, err
	}
	defer db.Close()
	return demodata.Seed(ctx, loyalty.New(db, slog.New(slog.DiscardHandler)), db, demodata.Options{Members: 200, Days: 30})
}

func printConsole(addr string, d demodata.Demo) {
	fmt.Printf("\nHQ console: http://%s  (brand %s, password %s)\n", addr, d.Brand, demodata.Password)
	for _, r := range []hq.Role{hq.RoleOwner, hq.RoleMarketing, hq.RoleFinance, hq.RoleStoreManager, hq.RoleAuditor} {
		extra := ""
		if r == hq.RoleStoreManager {
			extra = " (store " + d.ManagerStore + ")"
		}
		fmt.Printf("  sign in as %-6s %s%s\n", d.Accounts[r], r, extra)
	}
}

// isTerminal reports whether f is a terminal (a person is there to press
// Enter).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
