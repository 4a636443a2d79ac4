#!/usr/bin/env bash
# How records/telegram-23256 and keys/ of this repository were made (run once; kept for the record).
# The private keys live in a throwaway $PROVENANCE_HOME that is deleted at the end: only the key cards
# (public halves) enter the repository. Running it again makes new keys and a new record.
set -euo pipefail
cd "$(dirname "$0")/.."
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export PROVENANCE_HOME="$home" PROVENANCE_PASSPHRASE="throwaway" PROVENANCE_ARCHIVE="$(pwd)"
rm -rf records/telegram-23256 keys/*.json
at() { export PROVENANCE_NOW="$1"; }

at 2026-11-26T09:00:00Z
provenance keys generate --name "Reference Archivist" --role archivist --kdf-rounds 1 >/dev/null
provenance keys generate --name "Reference Translator" --role translator --kdf-rounds 1 >/dev/null
provenance keys generate --name "Reference Reviewer" --role reviewer --kdf-rounds 1 >/dev/null
provenance keys generate --name "Reference Publisher" --role publisher --kdf-rounds 1 >/dev/null
at 2026-11-26T09:10:00Z
provenance ingest tests/data/corpus/telegram-23256.txt --key "Reference Archivist" \
  --title "Ciphered telegram from Mao Zedong to Filippov [Stalin], 27 August 1951" \
  --original-language ru \
  --source "Archive of the President of the Russian Federation (APRF); English translation published by the Wilson Center Digital Archive"
at 2026-11-26T09:20:00Z
provenance note telegram-23256 --key "Reference Translator" --quote "Kim II Sung" \
  --text "OCR-like misreading: the name is Kim Il Sung (capital I for lower-case l)."
at 2026-11-26T09:21:00Z
provenance note telegram-23256 --key "Reference Translator" --quote "Syngmann Rhee" \
  --text "Usually romanised Syngman Rhee."
at 2026-11-26T09:22:00Z
provenance note telegram-23256 --key "Reference Translator" --quote "Gaeseong [Kaesong]" \
  --text "Gaeseong, Kaeseong and Kaesong are romanisations of one city; the translator's insertion gives the usual one."
at 2026-11-26T09:30:00Z
provenance custody telegram-23256 --key "Reference Archivist" --from "Transcription desk" --to "Reading room archive"
at 2026-11-26T09:40:00Z
sed 's/Kim II Sung/Kim Il Sung/' tests/data/corpus/telegram-23256.txt > "$home/revised.txt"
provenance revise telegram-23256 "$home/revised.txt" --key "Reference Archivist" --reason "Correct 'Kim II Sung' to 'Kim Il Sung'"
at 2026-11-26T09:50:00Z
provenance review telegram-23256 --key "Reference Reviewer" --note "Checked against the published translation"
at 2026-11-26T10:00:00Z
provenance release telegram-23256 --key "Reference Publisher"
unset PROVENANCE_NOW
provenance verify records/telegram-23256
# Issue 10: the transparency log of records/ (log/ and the log key's card in keys/), made afterwards with
# the same throwaway home, at 2026-11-30T08:00:00Z; its private key was discarded like the others.
at 2026-11-30T08:00:00Z
provenance tlog init --origin provenance.example/reference-archive --kdf-rounds 1
