package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/memberpass/memberpass/cloud/sqlstore"
)

// checkStorage refuses a storage choice that cannot work before anything
// is opened.
func (c config) checkStorage() error {
	switch c.storage {
	case "sqlite":
		return nil
	case "postgres":
		if c.postgresURL == "" {
			return fmt.Errorf("--storage postgres needs --postgres-url (or MEMBERPASS_POSTGRES_URL)")
		}
		return nil
	}
	return fmt.Errorf("--storage %q: want sqlite or postgres", c.storage)
}

// openStorage opens the configured store and says where it is, without
// credentials, for the log. Connecting and migrating must not hang a start
// for ever.
func openStorage(ctx context.Context, c config) (*sqlstore.DB, string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var (
		db  *sqlstore.DB
		err error
	)
	switch c.storage {
	case "postgres":
		db, err = sqlstore.OpenPostgres(ctx, c.postgresURL)
	default:
		db, err = sqlstore.OpenSQLite(ctx, filepath.Join(c.dataDir, "cloud.sqlite"))
	}
	if err != nil {
		return nil, "", err
	}
	return db, db.Target(), nil
}
