#!/bin/sh
# Continuous recording end to end: `ringlog record --continuous` with
# producers at full speed for several rotations, then every file read back
# with `ringlog dump --json` and jq: the indices run from 0 to the end with
# nothing missing or repeated, the gaps equal the region's lost +
# overwritten, the entries its read; the same compressed; pruning; a full
# disk and a removed directory; triggers still make snapshots.
# Usage: tests/record.sh BUILD_DIR.  Prints ok/not ok; exits non-zero on failure.
set -u
B=${1:-build}
RL=$B/ringlog
ORDERS=$B/examples/orders
NAME="ringlog-rectest-$$"
TMP=$(mktemp -d /tmp/ringlog-record.XXXXXX)
fails=0
recpid=
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }
check() { what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
cleanup() {
    [ -n "$recpid" ] && kill "$recpid" 2>/dev/null
    mountpoint -q "$TMP/full" 2>/dev/null && umount "$TMP/full"
    "$RL" rm --force "$NAME" >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT

# Waits (at most 20 s) for the recorder to print its start line (callers
# remove the file before starting it: the child may not have truncated it yet).
started() {
    i=0
    while [ $i -lt 200 ] && ! grep -q "recording" "$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
    grep -q "recording" "$1"
}
# Waits for the recorder to exit, at most $1 tenths of a second; returns
# its exit status, or 124 after killing it.
wait_rec() {
    i=0
    while [ $i -lt "$1" ] && kill -0 "$recpid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$recpid" 2>/dev/null; then
        kill -9 "$recpid"
        wait "$recpid"
        recpid=
        return 124
    fi
    wait "$recpid"
    rc=$?
    recpid=
    return $rc
}
# Stops the recorder with SIGINT and returns its exit status (20 s at most).
stop_rec() {
    kill -INT "$recpid"
    wait_rec 200
}

# One run: a fresh region, a recorder with OPTS, two producers at full
# speed, then the checks.  $1: label, $2: dir, rest: record options.
run() {
    label=$1 dir=$2
    shift 2
    "$RL" rm --force "$NAME" >/dev/null 2>&1
    "$ORDERS" "$NAME" 0 >/dev/null # creates the region: 16 lanes of 256 KiB
    rm -f "$TMP/rec.err"
    "$RL" record "$NAME" --dir "$dir" --continuous --max-file-size 256K --flush 0.05 "$@" \
        >"$TMP/rec.out" 2>"$TMP/rec.err" &
    recpid=$!
    started "$TMP/rec.err" || { bad "$label: recorder started"; cat "$TMP/rec.err"; return; }
    "$ORDERS" "$NAME" 150000 >/dev/null &
    p1=$!
    "$ORDERS" "$NAME" 150000 >/dev/null
    wait $p1
    # A file being written reads like any other.
    cur=$(ls "$dir"/*.rlrec | tail -n 1)
    "$RL" dump "$cur" --json >/dev/null 2>"$TMP/err" && ok "$label: dump reads the file being written" ||
        { bad "$label: dump reads the file being written"; cat "$TMP/err"; }
    stop_rec && ok "$label: record exits 0 on SIGINT" || { bad "$label: record exits 0"; cat "$TMP/rec.err"; }
    nfiles=$(ls "$dir"/*.rlrec | wc -l)
    check "$label: rotated into several files ($nfiles)" [ "$nfiles" -ge 4 ]
    check "$label: one line per closed file" [ "$(wc -l <"$TMP/rec.out")" -eq "$nfiles" ]
    # Every file alone, in name order, then all together.
    : >"$TMP/all.json"
    for f in $(ls "$dir"/*.rlrec | sort); do
        "$RL" dump "$f" --json >>"$TMP/all.json" 2>"$TMP/err" || { bad "$label: dump $f"; cat "$TMP/err"; }
        "$RL" stats "$f" >"$TMP/st" 2>&1 && grep -q "^balanced: yes" "$TMP/st" ||
            { bad "$label: stats $f balances"; cat "$TMP/st"; }
    done
    f2=$(ls "$dir"/*.rlrec | sort | sed -n 2p)
    "$RL" stats "$f2" --json | jq -e --arg n "$NAME" '.balanced and .recording.region == $n and
        .recording.first_index > 0 and .recording.next_index > .recording.first_index and
        .recording.closed_ns > 0' >/dev/null && ok "$label: stats --json of a file says what it holds" ||
        bad "$label: stats --json of a file says what it holds"
    "$RL" dump $(ls "$dir"/*.rlrec | sort) --json 2>/dev/null | cmp -s - "$TMP/all.json" &&
        ok "$label: dump FILE... reads the files in one go" || bad "$label: dump FILE... reads the files in one go"
    jq -e -s '[.[] | if .gap != null then {f: .gap, n: .count} else {f: .index, n: 1} end] as $s
              | ($s | length) > 0 and $s[0].f == 0
              and ([range(1; $s | length) | select($s[.].f != $s[. - 1].f + $s[. - 1].n)] | length) == 0' \
        "$TMP/all.json" >/dev/null && ok "$label: indices continue across files, none missing or repeated" ||
        bad "$label: indices continue across files, none missing or repeated"
    entries=$(jq -s '[.[] | select(.index != null)] | length' "$TMP/all.json")
    gaps=$(jq -s '[.[] | select(.gap != null) | .count] | add // 0' "$TMP/all.json")
    "$RL" stats "$NAME" --json >"$TMP/region.json"
    r_read=$(jq .total.read "$TMP/region.json")
    r_gone=$(jq '.total.lost + .total.overwritten + .total.abandoned' "$TMP/region.json")
    r_written=$(jq .total.written "$TMP/region.json")
    check "$label: entries in files ($entries) = region's read ($r_read)" [ "$entries" -eq "$r_read" ]
    check "$label: gaps in files ($gaps) = region's lost + overwritten ($r_gone)" [ "$gaps" -eq "$r_gone" ]
    check "$label: all $r_written calls accounted for" [ $((entries + gaps)) -eq "$r_written" ]
    check "$label: the last producer's last entry is in the files" \
        grep -q '"message":"done after 150000 orders"' "$TMP/all.json"
    # The exports read recording files too: babeltrace2 gets every entry
    # and gap of one file (gaps are events of their own).
    if command -v babeltrace2 >/dev/null; then
        f=$(ls "$dir"/*.rlrec | sort | sed -n 2p)
        rm -rf "$TMP/ctf"
        "$RL" export "$f" --ctf "$TMP/ctf" >/dev/null 2>"$TMP/err" &&
            [ "$(babeltrace2 "$TMP/ctf" 2>/dev/null | wc -l)" -eq "$("$RL" dump "$f" --json | wc -l)" ] &&
            ok "$label: export --ctf of a recording file, read by babeltrace2" ||
            { bad "$label: export --ctf of a recording file, read by babeltrace2"; cat "$TMP/err"; }
    fi
    bytes=$(cat "$dir"/*.rlrec | wc -c)
    echo "# $label: $entries entries, $gaps in gaps, $nfiles files, $bytes bytes ($(((bytes + entries - 1) / entries)) bytes/entry)"
    eval "bytes_$label=$bytes entries_$label=$entries"
}

run plain "$TMP/plain"
# HAVE_ZSTD (from the Makefile): this build has <zstd.h>, so compression
# must work; without it, --compress must say why not.
if [ "${HAVE_ZSTD:-}" = 1 ]; then zrc=0; else zrc=1; fi
if [ "$zrc" -eq 0 ]; then
    run zstd "$TMP/zstd" --compress zstd --max-file-size 64K
    # Compare bytes per entry, not totals: the runs recorded different counts.
    check "zstd: fewer bytes per entry than plain" \
        [ $((bytes_zstd * entries_plain)) -lt $((bytes_plain * entries_zstd)) ]
    f=$(ls "$TMP/zstd"/*.rlrec | head -n 1)
    "$RL" stats "$f" | grep -q "zstd-compressed" && ok "zstd: stats names the compressed blocks" ||
        bad "zstd: stats names the compressed blocks"
else
    timeout 20 "$RL" record "$NAME" --dir "$TMP/z0" --continuous --compress zstd >/dev/null 2>"$TMP/zerr"
    [ $? -eq 1 ] && grep -q "without zstd support" "$TMP/zerr" &&
        ok "built without zstd: --compress says why" || { bad "built without zstd: --compress says why"; cat "$TMP/zerr"; }
fi

# A trigger while recording: a snapshot file, and the TRIGGER entry is in
# the recording too.
"$RL" rm --force "$NAME" >/dev/null 2>&1
"$ORDERS" "$NAME" 100 >/dev/null
rm -f "$TMP/rec.err"
"$RL" record "$NAME" --dir "$TMP/trig" --continuous >"$TMP/rec.out" 2>"$TMP/rec.err" &
recpid=$!
started "$TMP/rec.err"
"$RL" trigger "$NAME" "trigger while recording" >/dev/null
i=0
while [ $i -lt 100 ] && ! grep -q rlsnap "$TMP/rec.out"; do sleep 0.1; i=$((i + 1)); done
stop_rec
snap=$(ls "$TMP/trig"/*.rlsnap 2>/dev/null | head -n 1)
[ -n "$snap" ] && "$RL" dump "$snap" | grep -q "TRIGGER #1: trigger while recording" &&
    ok "a trigger while recording makes a snapshot holding it" || bad "a trigger while recording makes a snapshot holding it"
cat "$TMP/trig"/*.rlrec >/dev/null 2>&1
found=0
for f in "$TMP/trig"/*.rlrec; do "$RL" dump "$f" | grep -q "TRIGGER #1: trigger while recording" && found=1; done
check "the TRIGGER entry is in the recording files too" [ $found -eq 1 ]

# --max-files: old files go, the newest stay.
"$RL" rm --force "$NAME" >/dev/null 2>&1
"$ORDERS" "$NAME" 0 >/dev/null
rm -f "$TMP/rec.err"
"$RL" record "$NAME" --dir "$TMP/few" --continuous --max-file-size 64K --max-files 3 --flush 0.02 \
    --no-snapshots >"$TMP/rec.out" 2>"$TMP/rec.err" &
recpid=$!
started "$TMP/rec.err"
for k in 1 2 3 4 5 6; do "$ORDERS" "$NAME" 5000 >/dev/null; sleep 0.1; done
stop_rec
n=$(ls "$TMP/few"/*.rlrec | wc -l)
closed=$(wc -l <"$TMP/rec.out")
check "--max-files 3 keeps 3 of $closed files" [ "$n" -le 3 -a "$closed" -gt 3 ]

# --max-age: files of NAME last written long ago go at the next rotation;
# other files stay.
mkdir -p "$TMP/aged"
for k in 1 2; do
    : >"$TMP/aged/$NAME-20200101T00000${k}Z-i000000000$k.rlrec"
    touch -d '2 hours ago' "$TMP/aged/$NAME-20200101T00000${k}Z-i000000000$k.rlrec"
done
for other in other "$NAME-x"; do # another region, and one whose name starts like NAME's
    : >"$TMP/aged/$other-20200101T000001Z-i0000000001.rlrec"
    touch -d '2 hours ago' "$TMP/aged/$other-20200101T000001Z-i0000000001.rlrec"
done
rm -f "$TMP/rec.err"
"$RL" record "$NAME" --dir "$TMP/aged" --continuous --max-file-size 16K --max-age 3600 --flush 0.02 \
    --no-snapshots >"$TMP/rec.out" 2>"$TMP/rec.err" &
recpid=$!
started "$TMP/rec.err"
"$ORDERS" "$NAME" 2000 >/dev/null
sleep 0.3
stop_rec
old=$(ls "$TMP/aged" | grep -c "^$NAME-2020")
check "--max-age removes the old files of NAME at rotation ($old left)" [ "$old" -eq 0 ]
check "--max-age leaves other regions' files alone" [ -e "$TMP/aged/other-20200101T000001Z-i0000000001.rlrec" \
    -a -e "$TMP/aged/$NAME-x-20200101T000001Z-i0000000001.rlrec" ]
check "--max-age keeps the new files" [ "$(ls "$TMP/aged" | grep "^$NAME-" | grep -vc "^$NAME-2020")" -gt 0 ]

# A full disk: exit 1 naming the file and the reason and what was not
# saved; the files already there stay readable.
if [ "$(id -u)" -eq 0 ] && mkdir "$TMP/full" && mount -t tmpfs -o size=512k tmpfs "$TMP/full" 2>/dev/null; then
    "$RL" rm --force "$NAME" >/dev/null 2>&1
    "$ORDERS" "$NAME" 0 >/dev/null
    rm -f "$TMP/rec.err"
    "$RL" record "$NAME" --dir "$TMP/full" --continuous --max-file-size 128K --flush 0.02 --no-snapshots \
        >"$TMP/rec.out" 2>"$TMP/rec.err" &
    recpid=$!
    started "$TMP/rec.err"
    for k in 1 2 3 4 5 6 7 8 9 10; do "$ORDERS" "$NAME" 20000 >/dev/null; sleep 0.05; done
    wait_rec 200
    rc=$?
    check "a full disk stops recording with exit 1" [ "$rc" -eq 1 ]
    grep -q "$TMP/full/.*No space left on device" "$TMP/rec.err" && ok "a full disk: the file and the reason are named" ||
        { bad "a full disk: the file and the reason are named"; cat "$TMP/rec.err"; }
    grep -q "could not be saved" "$TMP/rec.err" && ok "a full disk: what could not be saved is counted" ||
        { bad "a full disk: what could not be saved is counted"; cat "$TMP/rec.err"; }
    allok=1
    for f in "$TMP/full"/*.rlrec; do "$RL" dump "$f" >/dev/null 2>"$TMP/err" || { allok=0; cat "$TMP/err"; }; done
    check "a full disk: every file written reads whole" [ $allok -eq 1 ]
    umount "$TMP/full"
else
    ok "# skip full disk (needs root to mount a tmpfs)"
fi

# The directory removed while recording.
"$RL" rm --force "$NAME" >/dev/null 2>&1
"$ORDERS" "$NAME" 0 >/dev/null
rm -f "$TMP/rec.err"
"$RL" record "$NAME" --dir "$TMP/gone" --continuous --flush 0.02 --no-snapshots >"$TMP/rec.out" 2>"$TMP/rec.err" &
recpid=$!
started "$TMP/rec.err"
rm -rf "$TMP/gone"
for k in 1 2 3 4 5 6 7 8 9 10; do
    kill -0 "$recpid" 2>/dev/null || break
    "$ORDERS" "$NAME" 1000 >/dev/null
    sleep 0.1
done
wait_rec 100
rc=$?
check "a removed directory stops recording with exit 1" [ "$rc" -eq 1 ]
grep -q "removed while being written" "$TMP/rec.err" && ok "a removed directory is said clearly" ||
    { bad "a removed directory is said clearly"; cat "$TMP/rec.err"; }

# Usage errors.
"$RL" record "$NAME" --dir "$TMP/u" --max-files 2 >/dev/null 2>"$TMP/err"
check "--max-files without --continuous is a usage error" [ $? -eq 2 ]
"$RL" record "$NAME" --dir "$TMP/u" --continuous --compress lz4 >/dev/null 2>"$TMP/err"
[ $? -eq 2 ] && grep -q "expected zstd" "$TMP/err" && ok "--compress lz4 is refused" || bad "--compress lz4 is refused"
"$RL" record "$NAME" --dir "$TMP/u" --continuous --max-file-size 10 >/dev/null 2>"$TMP/err"
check "--max-file-size 10 is refused" [ $? -eq 2 ]
printf 'RLREC001 but not really' >"$TMP/fake.rlrec"
"$RL" dump "$TMP/fake.rlrec" >/dev/null 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "cut short" "$TMP/err" && ok "a truncated recording header is refused clearly" ||
    { bad "a truncated recording header is refused clearly"; cat "$TMP/err"; }

echo "record: $fails failed"
[ $fails -eq 0 ]
