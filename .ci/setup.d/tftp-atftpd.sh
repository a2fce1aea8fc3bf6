#!/usr/bin/env bash
# Unpacks Debian's atftpd into .bench/bin/ (git-ignored) for `npm run bench -- tftp`.
# atftpd conflicts with tftpd-hpa as a package, so it is not installed, only unpacked.
# The tests do not need it: a failure here warns and does not stop CI.
set -uo pipefail
cd "$(dirname "$0")/../.."
dest=.bench/bin
[ -x "$dest/atftpd" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(
  cd "$tmp" && { apt-get download atftpd >/dev/null 2>&1 || { apt-get update -qq && apt-get download atftpd >/dev/null 2>&1; }; } \
    && dpkg -x atftpd_*.deb x
) || { echo "warning: could not fetch atftpd; the TFTP bench will skip that peer" >&2; exit 0; }
mkdir -p "$dest" && install -m 0755 "$tmp/x/usr/sbin/atftpd" "$dest/atftpd" && echo "atftpd unpacked into $dest"
