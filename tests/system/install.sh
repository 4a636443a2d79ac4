#!/usr/bin/env bash
# Install the Debian packages that tests drive as real peers (tests/system/packages.txt), when missing.
# Never fails the build: a package that cannot be installed is reported here, and the tests that need it
# skip with a visible reason.
set -u
list="$(dirname "$0")/packages.txt"
missing=()
while IFS= read -r line; do
  line="${line%%#*}"; line="$(echo "$line" | tr -d '[:space:]')"
  [ -z "$line" ] && continue
  bin="${line%%:*}"; pkg="${line#*:}"
  command -v "$bin" >/dev/null 2>&1 || missing+=("$pkg")
done < "$list"
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null 2>&1; then
  echo "sysdeps: not root; tests needing ${missing[*]} will skip" >&2; exit 0
fi
SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo -n"
echo "sysdeps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null 2>&1 || echo "sysdeps: apt-get update failed" >&2
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
  || echo "sysdeps: could not install some of ${missing[*]}; the tests that need them will skip" >&2
exit 0
