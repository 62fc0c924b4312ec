#!/usr/bin/env bash
# Installs (from Debian's packages) and starts what the tests need, where
# missing: protoc, PostgreSQL, Chromium (with a Chinese font). Safe to run again and again.
set -euo pipefail

need=()
command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
# The package install test: dpkg into a throwaway root, systemd-analyze verify, systemd-sysusers.
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v dpkg >/dev/null 2>&1 || need+=(dpkg)
# The cloud's backup tests: sqlite3 (VACUUM INTO); pg_dump/pg_restore come with PostgreSQL.
command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)
# Chinese glyphs for the kiosk's browser tests and screenshots.
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
	echo "ensure-deps: installing ${need[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# PostgreSQL on 127.0.0.1:5432 with trust auth and a database "test".
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
	version=$(ls /etc/postgresql | sort -V | tail -1)
	echo "ensure-deps: starting PostgreSQL $version"
	pg_ctlcluster --skip-systemctl-redirect "$version" main start
	for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
fi
pg_isready -h 127.0.0.1 -p 5432 >/dev/null || { echo "ensure-deps: PostgreSQL is not answering on 127.0.0.1:5432"; exit 1; }
if ! psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; then
	echo "ensure-deps: creating database test"
	psql -h 127.0.0.1 -U postgres -d postgres -c 'create database test' >/dev/null || true
	psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null || {
		echo "ensure-deps: cannot reach database test as postgres on 127.0.0.1 (trust auth expected)"; exit 1; }
fi
echo "ensure-deps: protoc $(protoc --version | cut -d' ' -f2), $(chromium --version 2>/dev/null | head -1), PostgreSQL ready"
