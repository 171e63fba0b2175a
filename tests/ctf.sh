#!/bin/sh
# `ringlog export --ctf` read back by babeltrace2: a region of several lanes
# with typed deferred calls, text, a trigger and gaps (a small drop-policy
# region overfilled), its snapshot file, and an overwrite region written at
# full speed (timestamp ties across lanes); babeltrace2's events compared
# with `ringlog dump --json` one by one (tests/ctf_check.py), the field
# classes with sink.text.details; refusals of corrupt input and of a DIR
# in use.  Usage: tests/ctf.sh BUILD_DIR.  Needs babeltrace2 (Debian:
# babeltrace2) and python3.
set -u
B=$(cd "${1:-build}" && pwd)
RL=$B/ringlog
PROG=$B/tests/ctf_prog
CHECK=$(cd "$(dirname "$0")" && pwd)/ctf_check.py
fails=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }
if ! command -v babeltrace2 >/dev/null 2>&1; then
    bad "babeltrace2 is not installed (apt-get install babeltrace2; .ci/run does)"
    echo "ctf: $fails failed"; exit 1
fi
TMP=$(mktemp -d /tmp/ringlog-ctf.XXXXXX)
NAME="ringlog-ctftest-$$"
NAME2="ringlog-ctftest2-$$"
cleanup() { "$RL" rm --force "$NAME" "$NAME2" >/dev/null 2>&1; rm -rf "$TMP"; }
trap cleanup EXIT

# export + babeltrace2 + comparison with dump --json.  $1 what, $2 input,
# $3 directory, $4 --no-args when the input has no ctf_prog calls.  babeltrace2 must exit 0 and say nothing on stderr but its
# warnings about the lanes' lost calls (events_discarded).
roundtrip() {
    what=$1 in=$2 dir=$3
    if ! "$RL" export "$in" --ctf "$dir" 2>"$TMP/export.err"; then
        bad "$what: export (exit $?)"; sed 's/^/    /' "$TMP/export.err"; return
    fi
    ok "$what: export ($(sed 's/.*: \([0-9]* entries\)/\1/' "$TMP/export.err"))"
    head -c 13 "$dir/metadata" | grep -qx '/\* CTF 1.8 \*/' &&
        ok "$what: metadata starts /* CTF 1.8 */" || bad "$what: metadata starts /* CTF 1.8 */"
    if babeltrace2 --clock-gmt --clock-date "$dir" >"$TMP/bt.txt" 2>"$TMP/bt.err"; then
        ok "$what: babeltrace2 reads it"
    else
        bad "$what: babeltrace2 reads it (exit $?)"; head -n 5 "$TMP/bt.err" | sed 's/^/    /'
    fi
    if grep -v '^WARNING: Tracer may have discarded events between' "$TMP/bt.err" | grep -q .; then
        bad "$what: babeltrace2 complains"; head -n 5 "$TMP/bt.err" | sed 's/^/    /'
    else
        ok "$what: babeltrace2 complains of nothing"
    fi
    if babeltrace2 -c sink.text.details "$dir" >"$TMP/details.txt" 2>"$TMP/details.err"; then
        ok "$what: sink.text.details reads it"
    else
        bad "$what: sink.text.details reads it"; head -n 5 "$TMP/details.err" | sed 's/^/    /'
    fi
    "$RL" dump "$in" --json >"$TMP/dump.json" 2>/dev/null
    if python3 "$CHECK" "$TMP/bt.txt" "$TMP/dump.json" ${4:-} >"$TMP/check.out"; then
        ok "$what: same events, order, messages and arguments as dump --json: $(tail -n 1 "$TMP/check.out" | sed 's/^ctf_check: //')"
    else
        bad "$what: same events, order, messages and arguments as dump --json"
        sed 's/^/    /' "$TMP/check.out" | head -n 21
    fi
}

# --- a region of 3 threads, forged entries, a writer, a trigger; gaps -----
# 16 KiB lanes, drop policy: each thread's lane fills and refuses the rest.
# CTF_PROG_FORGE: also entries a broken producer could write (deferred
# entries of unknown sites or with bytes that do not fit, a NUL in a text,
# a short crash entry, raw and application types).
CTF_PROG_FORGE=200 "$PROG" "$NAME" 3 400 16384 drop "$TMP/snap.rlsnap" || bad "ctf_prog ran"
"$RL" write "$NAME" --level error "written by ringlog write" || bad "ringlog write"
"$RL" trigger "$NAME" "ctf test trigger" >/dev/null || bad "ringlog trigger"
roundtrip "region" "$NAME" "$TMP/r"
grep -q '"gap":' "$TMP/dump.json" && ok "region: the dump has gaps" || bad "region: the dump has gaps"
grep -q 'ringlog:gap: .*count = [1-9]' "$TMP/bt.txt" && ok "region: gap events" || bad "region: gap events"
n=$(grep -c '^WARNING: Tracer may have discarded events' "$TMP/bt.err")
[ "$n" -ge 3 ] && ok "region: events_discarded seen by babeltrace2 in $n lanes" ||
    bad "region: events_discarded seen by babeltrace2 ($n lanes)"
grep -q 'ringlog:trigger: .*msg = "ctf test trigger"' "$TMP/bt.txt" && ok "region: trigger event" ||
    bad "region: trigger event"
n=$(grep -c 'ringlog:deferred: .*msg = "\[ringlog: ' "$TMP/bt.txt")
[ "$n" -ge 150 ] && ok "region: $n forged deferred entries as ringlog:deferred" ||
    bad "region: forged deferred entries as ringlog:deferred ($n)"
grep -q 'ringlog:crash: .*signo = 11, addr = 0x0' "$TMP/bt.txt" && ok "region: a short crash entry" ||
    bad "region: a short crash entry"
[ "$(ls "$TMP/r" | grep -c '^lane_')" -ge 6 ] && ok "region: a stream file per lane" ||
    bad "region: a stream file per lane ($(ls "$TMP/r" | tr '\n' ' '))"
# The typed fields as babeltrace2 decodes the classes.
awk '/Event class `ringlog:site_/ {s = /ID/} {print}' "$TMP/details.txt" >/dev/null
for want in 'arg2: Signed integer (32-bit' 'arg3: Unsigned integer (32-bit' \
    'arg4: Signed integer (64-bit' 'arg5: Unsigned integer (64-bit' 'arg6: Double-precision real' \
    'arg7: String' 'errno: Signed integer (32-bit' 'EMF URI: tests/ctf_prog.c:[0-9]* producer' \
    'Log level: Info' 'Log level: Warning'; do
    grep -q "$want" "$TMP/details.txt" && ok "region: details: $want" || bad "region: details: $want"
done

# The comparison can fail: a swapped pair of events, an argument changed.
cp "$TMP/bt.txt" "$TMP/bt.ok"
awk 'NR == 2 {l = $0; next} NR == 3 {print; print l; next} {print}' "$TMP/bt.ok" >"$TMP/bt.txt"
python3 "$CHECK" "$TMP/bt.txt" "$TMP/dump.json" >/dev/null &&
    bad "the check fails on events out of order" || ok "the check fails on events out of order"
sed '0,/arg5 = 1000000000000000000/s//arg5 = 1000000000000000001/' "$TMP/bt.ok" >"$TMP/bt.txt"
cmp -s "$TMP/bt.txt" "$TMP/bt.ok" && bad "the tampered copy differs"
python3 "$CHECK" "$TMP/bt.txt" "$TMP/dump.json" >/dev/null &&
    bad "the check fails on a wrong argument" || ok "the check fails on a wrong argument"

# --- the snapshot file ----------------------------------------------------
roundtrip "snapshot file" "$TMP/snap.rlsnap" "$TMP/s"
grep -q 'snapshot_reason = "ctf test"' "$TMP/s/metadata" && ok "snapshot file: its reason in env" ||
    bad "snapshot file: its reason in env"

# --- an overwrite region written at full speed by 2 threads ---------------
# Cross-lane timestamp ties may happen: babeltrace2's order must still be
# the reader's (ctf_check checks every event time and index).
"$RL" demo --threads 2 --seconds 0.3 --ring-size 256K --name "$NAME2" --keep --no-reader \
    >/dev/null 2>&1 || bad "demo --keep --no-reader"
roundtrip "overwrite region at full speed" "$NAME2" "$TMP/o" --no-args

# --- refusals -------------------------------------------------------------
expect_fail() { # what, exit status, pattern, command...: one line on stderr
    what=$1 code=$2 pat=$3; shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ "$rc" -eq "$code" ] && grep -qi "$pat" "$TMP/err" && [ "$(wc -l <"$TMP/err")" -eq 1 ]; then
        ok "$what"
    else
        bad "$what (exit $rc, expected $code and one line saying '$pat')"; sed 's/^/    /' "$TMP/err" | head -n 3
    fi
}
expect_fail "an earlier export is kept without --force" 1 "earlier export.*--force" \
    "$RL" export "$NAME" --ctf "$TMP/r"
if "$RL" export "$NAME" --ctf "$TMP/r" --force 2>/dev/null && babeltrace2 "$TMP/r" >/dev/null 2>&1; then
    ok "--force replaces an earlier export"
else
    bad "--force replaces an earlier export"
fi
mkdir "$TMP/busy" && echo x >"$TMP/busy/notes.txt"
expect_fail "a DIR holding other files is refused" 1 "not empty.*notes.txt" \
    "$RL" export "$NAME" --ctf "$TMP/busy" --force
[ "$(cat "$TMP/busy/notes.txt")" = x ] && ok "... and left alone" || bad "... and left alone"
head -c 300000 /dev/urandom >"$TMP/random.rlog"
expect_fail "random bytes are refused" 1 "random.rlog" "$RL" export "$TMP/random.rlog" --ctf "$TMP/x1"
[ ! -e "$TMP/x1" ] && ok "... before DIR is made" || bad "... before DIR is made"
cp "$TMP/snap.rlsnap" "$TMP/bad.rlsnap"
printf 'XXXX' | dd of="$TMP/bad.rlsnap" bs=1 seek=0 conv=notrunc 2>/dev/null
expect_fail "a snapshot with a broken magic is refused" 1 "bad.rlsnap" \
    "$RL" export "$TMP/bad.rlsnap" --ctf "$TMP/x2"
# A damaged snapshot (its piece checksum table, as in tests/tool.sh): what
# verifies is exported and readable, the damage said, the exit status 1.
cp "$TMP/snap.rlsnap" "$TMP/damaged.rlsnap"
toff=$(od -An -t u8 -j 344 -N 8 "$TMP/snap.rlsnap" | tr -d ' ')
printf '\377' | dd of="$TMP/damaged.rlsnap" bs=1 seek="$toff" conv=notrunc 2>/dev/null
"$RL" export "$TMP/damaged.rlsnap" --ctf "$TMP/d" 2>"$TMP/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "damaged snapshot, read in part" "$TMP/err" &&
    babeltrace2 "$TMP/d" 2>/dev/null | grep -q 'ringlog:site_'; then
    ok "a damaged snapshot: exported as far as it verifies, said, exit 1"
else
    bad "a damaged snapshot: exported as far as it verifies, said, exit 1 (exit $rc)"; sed 's/^/    /' "$TMP/err"
fi
expect_fail "no such region" 1 "no such" "$RL" export "ringlog-ctf-none-$$" --ctf "$TMP/x3"
expect_fail "--ctf is required" 2 "missing --ctf" "$RL" export "$NAME"
expect_fail "NAME is required" 2 "missing NAME" "$RL" export --ctf "$TMP/x4"
"$RL" export --help | grep -q '^Usage: ringlog export' && ok "export --help" || bad "export --help"

echo "ctf: $fails failed"
[ "$fails" -eq 0 ]
