#!/bin/bash
# dlmon test-alert: one test push through Pushover, with the scan's settings.
. "$(dirname "$0")/lib.sh"
need_scan
DLMON="$TOP/bin/dlmon"

start_receiver
write_config

run_dlmon() {
	"$DLMON" -c "$CONF" "$@" >"$W/out" 2>"$W/err" </dev/null
	RC=$?
}

run_dlmon --now '2025-11-19 12:00:00' test-alert
is "$RC" 0 "delivered: exit 0"
is "$(cat "$W/out")" "dlmon: test alert delivered through pushover" "says so"
is "$(recv_count)" 1 "one request"
is "$(recv_get 1 'r["form"].get("title")')" "🔔 dlmon test" "title"
is "$(recv_get 1 'r["form"].get("message")')" "Test notification from dlmon on $(hostname).
Alerts about failing downloaders will arrive like this one." "message"
is "$(recv_get 1 'r["form"].get("timestamp")')" "$(epoch '2025-11-19 12:00:00')" "timestamp = --now"
is "$(recv_get 1 'r["form"].get("token")')" "$PO_TOKEN" "token"
ok "no database created" test ! -e "$DB"

run_dlmon -q test-alert
is "$RC" 0 "-q: exit 0"
is "$(cat "$W/out")" "" "-q: silent"

recv_mode 500
run_dlmon test-alert
is "$RC" 1 "not delivered: exit 1"
like "$(cat "$W/err")" 'pushover: .*500' "the error names the answer"
lacks "$(cat "$W/out" "$W/err")" "$PO_TOKEN" "no token in the output"
lacks "$(cat "$W/out" "$W/err")" "$PO_USER" "no user key in the output"

recv_mode 400
run_dlmon test-alert
is "$RC" 1 "refused: exit 1"
like "$(cat "$W/err")" 'user identifier is not a valid' "Pushover's reason is shown"

# the settings row can switch Pushover off, as for a scan
recv_mode 200
sqlite3 "$DB" "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT);
INSERT INTO settings VALUES ('monitoring', '{\"pushover\": {\"enabled\": false}}');"
before=$(recv_count)
run_dlmon test-alert
is "$RC" 2 "pushover disabled by the settings row: exit 2"
like "$(cat "$W/err")" 'no notifier is enabled' "says why"
is "$(recv_count)" "$before" "nothing sent"

run_dlmon test-alert extra
is "$RC" 2 "an extra argument: exit 2"

done_testing
