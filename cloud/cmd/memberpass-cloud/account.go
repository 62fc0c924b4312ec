package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/memberpass/memberpass/cloud/console"
	"github.com/memberpass/memberpass/cloud/hq"
)

// runAccount is `memberpass-cloud console-account`: it adds an HQ
// person's console account to the cloud's database (the same storage
// flags as the service). The password is read from the first line of
// standard input, so it is never on a command line.
func runAccount(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("memberpass-cloud console-account", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.dataDir, "data-dir", "data/cloud", "directory of the embedded SQLite database")
	fs.StringVar(&c.storage, "storage", "sqlite", "sqlite or postgres")
	fs.StringVar(&c.postgresURL, "postgres-url", "", "PostgreSQL connection string for --storage postgres")
	brand := fs.String("brand", "", "the brand the account belongs to")
	login := fs.String("login", "", "the account's sign-in name")
	name := fs.String("name", "", "the person's name (default: the login)")
	role := fs.String("role", "", "owner, marketing, finance, store_manager, auditor or platform")
	stores := fs.String("stores", "", "comma-separated stores a store_manager looks after")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: memberpass-cloud console-account --brand B --login L --role R [--stores s1,s2] < password\n\nAdds an account for HQ's console; the password (10 to 128 characters) is the first line of standard input.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := envOverrides(fs); err != nil {
		return err
	}
	if err := c.checkStorage(); err != nil {
		return err
	}
	if *brand == "" || *login == "" || *role == "" {
		return errors.New("console-account needs --brand, --login and --role")
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the password from standard input: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, _, err := openStorage(ctx, c)
	if err != nil {
		return err
	}
	defer store.Close()
	a := hq.Account{BrandID: *brand, Login: *login, Name: *name, Role: hq.Role(*role)}
	if *stores != "" {
		for s := range strings.SplitSeq(*stores, ",") {
			a.StoreIDs = append(a.StoreIDs, strings.TrimSpace(s))
		}
	}
	if err := console.CreateAccount(ctx, store, a, password, time.Now().UTC()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "console account %s created in brand %s with role %s\n", *login, *brand, *role)
	return nil
}
