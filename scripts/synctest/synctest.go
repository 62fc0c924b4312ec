// Package synctest holds tests of a real agent store and syncer against a
// real cloud in one process (no binaries to build): what happens across
// upgrades, backups and restores. See restore_test.go.
package synctest
