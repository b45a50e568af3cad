#!/usr/bin/env bash
# Makes sure the services the tests talk to are there: PostgreSQL on 127.0.0.1:5432 with a
# database `test` reachable with trust auth, and Mosquitto on 127.0.0.1:1883.
# Installs them from Debian packages when missing (as root), starts them when stopped.
# Where that is impossible it says so loudly; the tests that need the service then skip.
set -uo pipefail
warn() { printf '\n*** WARNING: %s ***\n\n' "$*" >&2; }
is_root() { [ "$(id -u)" -eq 0 ]; }
apt_updated=0
apt_install() {
    is_root || return 1
    command -v apt-get >/dev/null 2>&1 || return 1
    if [ $apt_updated -eq 0 ]; then apt-get update -qq || return 1; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure_postgres() {
    if ! command -v pg_ctlcluster >/dev/null 2>&1; then
        echo "PostgreSQL is not installed; installing it from Debian packages"
        apt_install postgresql postgresql-client || { warn "PostgreSQL missing and cannot be installed: PostgreSQL tests will be SKIPPED"; return; }
    fi
    if ! pg_isready -q -h 127.0.0.1 -p 5432; then
        ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
        hba="/etc/postgresql/$ver/main/pg_hba.conf"
        if [ -n "$ver" ] && is_root && ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
            sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
        fi
        echo "starting PostgreSQL $ver"
        pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null || pg_ctlcluster "$ver" main start || true
        for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
    fi
    if ! pg_isready -q -h 127.0.0.1 -p 5432; then
        warn "PostgreSQL is not running on 127.0.0.1:5432 and could not be started: PostgreSQL tests will be SKIPPED"
        return
    fi
    if ! psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; then
        psql -h 127.0.0.1 -U postgres -d postgres -c 'CREATE DATABASE test' >/dev/null 2>&1 \
            || su postgres -c "createdb -h 127.0.0.1 test" >/dev/null 2>&1 \
            || warn "cannot create database 'test' on 127.0.0.1:5432: PostgreSQL tests will be SKIPPED"
    fi
    echo "PostgreSQL: ready on 127.0.0.1:5432, database test"
}

ensure_mosquitto() {
    if ! command -v mosquitto >/dev/null 2>&1; then
        echo "Mosquitto is not installed; installing it from Debian packages"
        apt_install mosquitto mosquitto-clients || { warn "Mosquitto missing and cannot be installed: MQTT tests will be SKIPPED"; return; }
    fi
    if ! port_open 1883; then
        echo "starting Mosquitto"
        mosquitto -d -c /etc/mosquitto/mosquitto.conf 2>/dev/null || mosquitto -d -p 1883 || true
        for _ in $(seq 1 20); do port_open 1883 && break; sleep 0.25; done
    fi
    port_open 1883 && echo "Mosquitto: ready on 127.0.0.1:1883" \
        || warn "Mosquitto is not running on 127.0.0.1:1883 and could not be started: MQTT tests will be SKIPPED"
}

ensure_systemd_analyze() {
    command -v systemd-analyze >/dev/null 2>&1 && return
    echo "systemd-analyze is not installed; installing the systemd package (verifies deploy/tracegate.service)"
    apt_install systemd || warn "systemd-analyze missing and cannot be installed: the unit file test will be SKIPPED"
}

ensure_postgres
ensure_mosquitto
ensure_systemd_analyze
exit 0
