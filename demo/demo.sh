#!/usr/bin/env bash
# make demo: the whole idea in one command.
#  1. verify the repository's own reference record against the repository's key cards;
#  2. in a temporary archive: make a key, register the reference telegram, verify it;
#  3. change one byte of a copy, verify again, and read the failure report.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/provenance-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Bold headings on a terminal only: piped (make demo | less, a CI log) the text has no escape codes.
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
# Each command shown quoted as the shell needs it, so that it can be copied and pasted as is.
quoted() { if [[ $1 =~ ^[A-Za-z0-9@%+=:,./_-]+$ ]]; then printf ' %s' "$1"; else printf " '%s'" "${1//\'/\'\\\'\'}"; fi; }
show() { printf '$'; for arg in "$@"; do quoted "$arg"; done; printf '\n'; "$@"; }

say "1. The reference record in this repository, checked against the key cards in keys/"
show provenance verify records/telegram-23256 --archive "$repo"

say "1b. The same record as a page for readers: one HTML file, made from what was just verified"
mkdir -p "$repo/demo-out"
rm -f "$repo/demo-out/telegram-23256.html"
show provenance page telegram-23256 --archive "$repo" --out "$repo/demo-out/telegram-23256.html"
printf 'page of the reference record: %s\n' "$repo/demo-out/telegram-23256.html"

say "2. A new archive: an archivist's key, then the telegram registered and signed"
export PROVENANCE_HOME="$work/home"              # private keys live here, never in the archive
export PROVENANCE_PASSPHRASE="demo passphrase"   # a demo only: normally you are prompted
show provenance init "$work/archive"
export PROVENANCE_ARCHIVE="$work/archive"
show provenance keys generate --name "A. Archivist" --role archivist
show provenance ingest tests/data/corpus/telegram-23256.txt --title "Mao Zedong to Filippov [Stalin], 27 August 1951"
show provenance show telegram-23256
show provenance verify "$work/archive/records/telegram-23256"

say "3. Redistributed as a BagIt bundle: a publisher verifies the .zip against its own trust store"
show provenance export telegram-23256 --out "$work/telegram-23256.zip"
show provenance verify "$work/telegram-23256.zip" --trust "$work/archive/keys"

say "4. One byte changed in a copy of the record: the verifier says what, where, and how"
mkdir -p "$work/copy"
cp -r "$work/archive/records/telegram-23256" "$work/copy/"
python3 - "$work/copy/telegram-23256/files/telegram-23256.txt" <<'PY'
import sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
at = data.index(b"Kaesong")
data[at] = ord("X")          # Kaesong -> Xaesong
open(path, "wb").write(bytes(data))
print(f"changed byte {at} of {path}")
PY
set +e
show provenance verify "$work/copy/telegram-23256" --trust "$work/archive/keys"
code=$?
set -e
printf '\nexit code %s (1 = invalid: something was altered)\n' "$code"
[ "$code" -eq 1 ]

say "5. A transparency log: a reader with a state folder catches a rollback to an older bundle"
show provenance tlog init --origin demo.example/archive
show provenance export telegram-23256 --out "$work/old.zip"
show provenance note telegram-23256 --quote "Syngmann Rhee" --text "A later note: only the newest version has it."
show provenance export telegram-23256 --out "$work/new.zip" --log-tiles
show provenance verify "$work/old.zip" --trust "$work/archive/keys" --state "$work/reader-state"
show provenance verify "$work/new.zip" --trust "$work/archive/keys" --state "$work/reader-state"
set +e
show provenance verify "$work/old.zip" --trust "$work/archive/keys" --state "$work/reader-state"
code=$?
set -e
printf '\nexit code %s (1 = invalid: log.rollback, an older version than this reader already saw)\n' "$code"
[ "$code" -eq 1 ]
