package main

import (
	"io"
	"os"
	"strings"
	"testing"
)

func TestStorageFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		storage string
		wantErr string
	}{
		{name: "default is sqlite", storage: "sqlite"},
		{name: "postgres by flag", args: []string{"--storage", "postgres", "--postgres-url", "postgres://db/mp"}, storage: "postgres"},
		{name: "postgres by environment", env: map[string]string{"MEMBERPASS_STORAGE": "postgres", "MEMBERPASS_POSTGRES_URL": "postgres://db/mp"}, storage: "postgres"},
		{name: "postgres without url", args: []string{"--storage", "postgres"}, wantErr: "needs --postgres-url"},
		{name: "sqlite by flag", args: []string{"--storage", "sqlite"}, storage: "sqlite"},
		{name: "unknown storage", args: []string{"--storage", "bbolt"}, wantErr: "want sqlite or postgres"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"MEMBERPASS_STORAGE", "MEMBERPASS_POSTGRES_URL"} {
				// t.Setenv restores the variable after the test; an empty
				// one would still be an override, so unset it.
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.storage != tt.storage {
				t.Fatalf("storage = %q, want %q", c.storage, tt.storage)
			}
		})
	}
}
