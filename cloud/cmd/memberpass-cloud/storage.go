package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/boltstore"
	"github.com/memberpass/memberpass/cloud/pgstore"
)

// checkStorage refuses a storage choice that cannot work before anything
// is opened.
func (c config) checkStorage() error {
	switch c.storage {
	case "bbolt":
		return nil
	case "postgres":
		if c.postgresURL == "" {
			return fmt.Errorf("--storage postgres needs --postgres-url (or MEMBERPASS_POSTGRES_URL)")
		}
		return nil
	}
	return fmt.Errorf("--storage %q: want bbolt or postgres", c.storage)
}

// openStorage opens the configured store and says where it is, without
// credentials, for the log.
func openStorage(ctx context.Context, c config) (cloud.Storage, string, error) {
	switch c.storage {
	case "postgres":
		// Connecting and migrating must not hang a start for ever.
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		db, err := pgstore.Open(ctx, c.postgresURL)
		if err != nil {
			return nil, "", err
		}
		return db, db.Target(), nil
	default:
		path := filepath.Join(c.dataDir, "cloud.db")
		db, err := boltstore.Open(path)
		if err != nil {
			return nil, "", err
		}
		return db, path, nil
	}
}
