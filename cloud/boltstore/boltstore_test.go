package boltstore

import (
	"path/filepath"
	"testing"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/storetest"
)

func open(t *testing.T) cloud.Storage {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "cloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) { storetest.Run(t, open) }
