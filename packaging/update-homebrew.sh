#!/usr/bin/env bash
# Prints the Homebrew formula of a release: packaging/homebrew/influxctl-cred.rb with its
# "BEGIN source" .. "END source" block replaced by the release's homepage, url and sha256 (the
# sha256 read from the release's SHA256SUMS, by the url's file name) and a head at the same
# repository. Run by .github/workflows/release.yml; see docs/platforms.md.
#
#   packaging/update-homebrew.sh VERSION URL SHA256SUMS HOMEPAGE [FORMULA] > influxctl-cred.rb
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

fail() { echo "update-homebrew: $*" >&2; exit 1; }
if [ $# -lt 4 ] || [ $# -gt 5 ]; then
  fail "usage: $0 VERSION URL SHA256SUMS HOMEPAGE [FORMULA]"
fi
version=$1 url=$2 sums=$3 homepage=$4 formula=${5:-$here/homebrew/influxctl-cred.rb}

[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] || fail "version '$version' is not X.Y.Z"
[[ $url =~ ^https://[^[:space:]\"\\#]+$ ]] || fail "url '$url' is not an https URL"
[[ $homepage =~ ^https://[^[:space:]\"\\#]+$ ]] || fail "homepage '$homepage' is not an https URL"
[[ $url == *"$version"* ]] || fail "url '$url' does not name version $version"
[ -f "$sums" ] || fail "$sums is missing"
[ -f "$formula" ] || fail "$formula is missing"

file=${url##*/}
# sha256sum lines: "<64 hex>  <name>" (or " *<name>" in binary mode).
matches=$(awk -v f="$file" '$2 == f || $2 == "*" f { print $1 }' "$sums")
[ -n "$matches" ] || fail "$sums has no line for $file"
[ "$(wc -l <<<"$matches")" = 1 ] || fail "$sums has more than one line for $file"
sha=$matches
[[ $sha =~ ^[0-9a-f]{64}$ ]] || fail "the checksum of $file in $sums is not a SHA-256: '$sha'"

if [ "$(grep -c '^  # BEGIN source' "$formula")" != 1 ] || [ "$(grep -c '^  # END source$' "$formula")" != 1 ]; then
  fail "$formula needs exactly one '# BEGIN source' .. '# END source' block"
fi

awk -v homepage="$homepage" -v url="$url" -v sha="$sha" -v version="$version" '
  /^  # BEGIN source/ { skip = 1
    print "  # Release " version " (written by packaging/update-homebrew.sh)."
    print "  homepage \"" homepage "\""
    print "  url \"" url "\""
    print "  sha256 \"" sha "\""
    print "  head \"" homepage ".git\""
    next }
  /^  # END source$/ { skip = 0; next }
  !skip { print }
' "$formula"
