#!/usr/bin/env bash
# Builds packaging/rpm/pam-oauth2.spec with rpmbuild -bb from a release tarball (git archive of HEAD:
# exactly the committed tree a release is cut from, nothing from build directories or uncommitted
# edits), then checks that the package declares the true floors and holds the same files as the CPack
# .rpm given as $1. Debian has neither RHEL's BuildRequires names nor its SELinux devel Makefile, so
# the build runs with --nodeps --without selinux and Fedora's cmake/systemd macros come from
# packaging/rpm/macros.debian; everything it builds and installs goes to a temporary %_topdir.
set -euo pipefail
cd "$(dirname "$0")/.."
cpack_rpm=${1:?usage: check-rpm-spec.sh <the CPack .rpm>}
spec=packaging/rpm/pam-oauth2.spec

# One source of truth for the version: the spec must say what project() says.
version=$(sed -n 's/^project(pam_oauth2 VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
spec_version=$(sed -n 's/^Version: *//p' "$spec")
if [ -z "$version" ] || [ "$spec_version" != "$version" ]; then
    echo "$spec says Version $spec_version, CMakeLists.txt says $version" >&2
    exit 1
fi

# The -selinux subpackage is declared (its build needs RHEL's policy Makefile: not built here), and
# without selinux-policy-devel's macros the spec refuses to parse rather than ship raw scriptlets.
stubs=(--define 'selinux_modules_install(s:p:) :' --define 'selinux_modules_uninstall(s:p:) :'
       --define 'selinux_relabel_pre(s:) :' --define 'selinux_relabel_post(s:) :')
packages=$(rpmspec -q --qf '%{name}\n' --load packaging/rpm/macros.debian "${stubs[@]}" "$spec" | sort -u | tr '\n' ' ')
[ "$packages" = "pam-oauth2 pam-oauth2-selinux " ] || { echo "the spec declares: $packages" >&2; exit 1; }
if rpmspec -P --load packaging/rpm/macros.debian "$spec" >/dev/null 2>&1; then
    echo "the spec parses with selinux on but without the SELinux macros" >&2
    exit 1
fi

top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT
mkdir -p "$top/SOURCES"
git archive --format=tar.gz --prefix="pam-oauth2-$version/" -o "$top/SOURCES/pam-oauth2-$version.tar.gz" HEAD

echo "== rpmbuild -bb $spec (--nodeps --without selinux)"
rpmbuild -bb --nodeps --without selinux --load packaging/rpm/macros.debian \
    --define "_topdir $top" --define '_smp_mflags -j2' --define '_build_id_links none' \
    "$spec" > "$top/rpmbuild.log" 2>&1 || { tail -n 60 "$top/rpmbuild.log" >&2; exit 1; }
grep -q 'tests passed' "$top/rpmbuild.log" || { echo "%check ran no unit tests" >&2; exit 1; }
built=$(ls "$top"/RPMS/*/pam-oauth2-"$version"-*.rpm)

# The declared floors, in RHEL's names.
rpm -qp --requires "$built" > "$top/requires.txt"
for wanted in 'libcurl >= 7.76' 'openssl-libs >= 3.0' 'hiredis' 'pam'; do
    grep -qxF "$wanted" "$top/requires.txt" || { echo "the spec's rpm does not require $wanted" >&2; exit 1; }
done

# The same files as the CPack package. Legitimate differences, filtered by name: CPack also lists
# /usr/share/man (the filesystem package owns it), and the spec ships LICENSE under
# /usr/share/licenses as %license wants.
rpm -qlp "$cpack_rpm" | grep -vx '/usr/share/man' | sort > "$top/cpack-files.txt"
rpm -qlp "$built" | grep -v '^/usr/share/licenses/pam-oauth2' | sort > "$top/spec-files.txt"
diff -u "$top/cpack-files.txt" "$top/spec-files.txt" || { echo "the spec's file list differs from CPack's" >&2; exit 1; }
rpm -qlp "$built" | grep -qx /usr/share/licenses/pam-oauth2/LICENSE || { echo "no %license LICENSE" >&2; exit 1; }

# The same scriptlets: the spec's %post and %postun hold rpm-post.sh and rpm-postun.sh verbatim.
rpm -qp --scripts "$built" > "$top/scripts.txt"
for script in packaging/rpm-post.sh packaging/rpm-postun.sh; do
    python3 - "$script" "$top/scripts.txt" <<'PY' || { echo "the spec's scriptlets lack $script" >&2; exit 1; }
import sys
sys.exit(0 if open(sys.argv[1]).read().strip() in open(sys.argv[2]).read() else 1)
PY
done
echo "spec build: $(basename "$built") matches $(basename "$cpack_rpm")"
