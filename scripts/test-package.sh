#!/usr/bin/env bash
# Builds the .deb and .rpm, checks them (lintian, rpm -qlp/-qRp), installs the .deb with apt, runs
# the PostgreSQL end-to-end suite against the installed module (pam.d naming pam_oauth2.so without a
# path), then purges it and checks that nothing is left.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

scripts/package.sh
deb=$(ls build-release/pam-oauth2_*_*.deb)
rpm=$(ls build-release/pam-oauth2-*.rpm)

echo "== lintian $deb"
lintian --fail-on error,warning "$deb"

echo "== rpm file list and dependencies"
rpm -qlp "$rpm" | tee build-release/rpm-files.txt
rpm -qRp "$rpm" > build-release/rpm-requires.txt
for wanted in /usr/lib64/security/pam_oauth2.so /usr/lib64/pam_oauth2/pam_oauth2_transport.so \
              /usr/lib64/pam_oauth2/pam_oauth2_inprocess.so /usr/sbin/pam_oauth2d /usr/lib/systemd/system/pam_oauth2d.service \
              /usr/lib/systemd/system/pam_oauth2d.socket /usr/share/man/man8/pam_oauth2d.8.gz \
              /usr/bin/pam_oauth2_check /usr/bin/pam_oauth2_token /usr/share/man/man1/pam_oauth2_token.1.gz \
              /usr/share/man/man8/pam_oauth2.8.gz \
              /usr/share/doc/pam-oauth2/examples/pg_auth.jwt /usr/share/doc/pam-oauth2/copyright; do
    grep -qx "$wanted" build-release/rpm-files.txt || { echo "rpm lacks $wanted" >&2; exit 1; }
done
for wanted in 'libcurl.so.4()(64bit)' 'libpam.so.0()(64bit)' 'libcrypto.so.3()(64bit)' 'pam' 'libcurl >= 7.76' \
              'hiredis'; do
    grep -qxF "$wanted" build-release/rpm-requires.txt || { echo "rpm does not require $wanted" >&2; exit 1; }
done
# The .deb names the same floor (libcurl 7.76) and the Redis client the daemon links.
depends=$(dpkg-deb -f "$deb" Depends)
for wanted in 'libcurl4 (>= 7.76)' 'libhiredis0.14'; do
    case "$depends" in *"$wanted"*) ;; *) echo "the .deb does not depend on $wanted: $depends" >&2; exit 1 ;; esac
done

echo "== apt-get install $deb"
dpkg -s pam-oauth2 >/dev/null 2>&1 && apt-get purge -y -q pam-oauth2 >/dev/null
apt-get install -y -q "./$deb" >/dev/null
dpkg -L pam-oauth2 > build-release/installed-files.txt
pam_dir=$(dirname "$(grep '/security/pam_oauth2.so$' build-release/installed-files.txt)")
[ "$(stat -c %a /var/cache/pam_oauth2)" = 1733 ] || { echo "/var/cache/pam_oauth2 is not 1733" >&2; exit 1; }
# The postgres user's private cache directory exists from installation on, so no one can squat it.
postgres_cache=/var/cache/pam_oauth2/$(id -u postgres)
[ "$(stat -c %U:%a "$postgres_cache")" = postgres:700 ] || { echo "$postgres_cache is not postgres:700" >&2; exit 1; }
man -w pam_oauth2 >/dev/null
man -w pam_oauth2d >/dev/null
man -w pam_oauth2_token >/dev/null
pam_oauth2_token --version
# The broker: its user exists, its units are valid and shipped disabled, the binary runs.
getent passwd pam_oauth2 >/dev/null || { echo "no pam_oauth2 system user" >&2; exit 1; }
pam_oauth2d --version
systemd-analyze verify /lib/systemd/system/pam_oauth2d.socket /lib/systemd/system/pam_oauth2d.service
# Shipped disabled: nothing starts the broker until an administrator enables it.
[ "$(systemctl is-enabled pam_oauth2d.socket 2>/dev/null || true)" != enabled ] || { echo "pam_oauth2d.socket is enabled" >&2; exit 1; }
echo "installed: $pam_dir/pam_oauth2.so"

echo "== end to end against the installed module"
python3 tests/e2e/test_postgres.py --module pam_oauth2.so

echo "== apt-get purge pam-oauth2"
apt-get purge -y -q pam-oauth2 >/dev/null
left=0
while read -r path; do
    # Directories the package shared with the system (/lib is a symlink on merged-/usr systems) stay.
    [ -d "$path" ] && continue
    if [ -f "$path" ] || [ -L "$path" ]; then echo "left behind: $path" >&2; left=1; fi
done < build-release/installed-files.txt
[ -e /var/cache/pam_oauth2 ] && { echo "left behind: /var/cache/pam_oauth2" >&2; left=1; }
getent passwd pam_oauth2 >/dev/null && { echo "left behind: the pam_oauth2 user" >&2; left=1; }
[ "$left" = 0 ]
echo "== the spec file: rpmbuild -bb from the release tarball, compared with the CPack rpm"
scripts/check-rpm-spec.sh "$rpm"
echo "== package checks passed"
