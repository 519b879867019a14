#!/bin/bash
# The Debian package (README, "Debian package"), built and installed as a
# user would, away from the checkout:
#   1. the files `make distdir` puts in the tarball are copied to a temporary
#      directory (so a file debian/ needs but the tarball lacks fails here),
#      and `dpkg-buildpackage -us -uc -b` builds the package there (its
#      dh_auto_test runs the unit and CLI tests);
#   2. lintian on the .changes (the .deb, its -dbgsym and the .buildinfo):
#      no error or warning; the info and pedantic tags are printed;
#   3. the control fields: the version is configure's, Depends names
#      dnsmasq-base, nftables and libvirt0 (which vmnet dlopen()s: no shlibs
#      entry finds it) besides the linked libraries, and this machine's
#      installed packages satisfy it; the hook is a conffile; every
#      Build-Depends is a package build-aux/deps.sh installs;
#   4. `dpkg --root` installs it into a throwaway root: every file dpkg
#      lists is there, every path vmnet(8) FILES names under /usr or /etc is
#      there, the program is /usr/sbin/vmnet, the schema and the examples are
#      the source's, the hook runs /usr/sbin/vmnet; and the installed
#      `vmnet --version` and `vmnet validate` of an installed example run;
#      the Ansible collection vmnet.host is every file of ansible/, in the
#      directory of ansible-core's default COLLECTIONS_PATHS that is not the
#      user's, where ansible-doc (module and role) and ansible-galaxy
#      collection list find it, and without which they do not;
#   5. the systemd unit: installed, enabled and started by the maintainer
#      scripts, and `systemd-analyze verify` finds nothing to say about it,
#      alone and in a boot transaction with libvirtd, libvirt-guests and
#      nftables (an ordering cycle would be reported there).
# Nothing is written to the checkout or the build tree but make distdir's
# built sources. Prints "N passed, N failed"; exits 0 only if all passed.
#
# Environment: top_srcdir, top_builddir (a configured build tree).
# VMNET_DEB_FAULT=NAME breaks the copy on purpose, to see the checks fail
# (tests/README, "Mutants"): bin (vmnet in /usr/bin, as before), no-libvirt-dep
# (libvirt0 left out of Depends), unit-cycle (vmnet.service also ordered
# after libvirtd: an ordering cycle), man-adjust (vmnet-plan(5)'s tables
# justified again: groff warns, so lintian does), no-examples (make install
# without the example plans), collection-path (the collection installed one
# level too high, without ansible_collections/).
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "$top_builddir" && pwd)
for t in dpkg-buildpackage dh lintian dpkg dpkg-deb dpkg-query perl systemd-analyze \
        ansible-config ansible-doc ansible-galaxy; do
        command -v "$t" >/dev/null || { echo "SKIP: needs $t (sh build-aux/deps.sh installs it)"; exit 77; }
done
[ -f "$top_builddir/Makefile" ] || { echo "FAIL: $top_builddir is not a configured build tree"; exit 1; }
version=$(sed -n 's/^PACKAGE_VERSION = //p' "$top_builddir/Makefile")
[ -n "$version" ] || { echo "FAIL: no PACKAGE_VERSION in $top_builddir/Makefile"; exit 1; }

pass=0 fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmnet-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
ok() { pass=$((pass + 1)); echo "PASS: $1"; }
ko() { fail=$((fail + 1)); echo "FAIL: $1"; }
check() { # NAME CMD...: PASS when CMD succeeds
        local name=$1
        shift
        if "$@"; then ok "$name"; else ko "$name"; fi
}
finish() {
        echo "$pass passed, $fail failed"
        [ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
        exit
}
t0=$(date +%s)

# --- 1. build, from a copy of the tarball's files --------------------------------
src=$tmp/vmnet-$version
if ! make -s -C "$top_builddir" distdir distdir="$src" >"$tmp/distdir.log" 2>&1; then
        ko "make distdir into $src"
        tail -20 "$tmp/distdir.log"
        finish
fi
case ${VMNET_DEB_FAULT:-} in
"") ;;
bin) sed -i 's/^sbin_PROGRAMS = vmnet$/bin_PROGRAMS = vmnet/; s|$(sbindir)/vmnet hook|$(bindir)/vmnet hook|' "$src/Makefile.am" ;;
no-libvirt-dep) sed -i '/^ *libvirt0 (>= [0-9.]*),$/d' "$src/debian/control" ;;
man-adjust) sed -i '/^\.na$/d' "$src/man/vmnet-plan.5" ;;
no-examples) sed -i '/examples\/\*\.xml/d' "$src/Makefile.am" ;;
unit-cycle) sed -i 's/^After=network.target nftables.service$/& libvirtd.service/' "$src/backend/systemd/vmnet.service.in" ;;
collection-path) sed -i 's|^\(vmnethostdir = .*/collections/\)ansible_collections/|\1|' "$src/Makefile.am" ;;
*) echo "FAIL: unknown VMNET_DEB_FAULT '$VMNET_DEB_FAULT'"; exit 1 ;;
esac
[ -n "${VMNET_DEB_FAULT:-}" ] && echo "note: VMNET_DEB_FAULT=$VMNET_DEB_FAULT: the copy is broken on purpose"
if (cd "$src" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
        ok "dpkg-buildpackage -us -uc -b builds the package from the tarball's files ($(($(date +%s) - t0))s)"
else
        ko "dpkg-buildpackage -us -uc -b (the log's end:)"
        tail -25 "$tmp/build.log" | sed 's/^/  | /'
        finish
fi
grep -E '^(PASS|FAIL|SKIP|ERROR|# TOTAL)' "$tmp/build.log" | sed 's/^/  dh_auto_test: /'
deb=$tmp/vmnet_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).deb
changes=${deb%.deb}.changes
check "the package is $(basename "$deb")" test -f "$deb"
[ -f "$deb" ] || finish

# --- 2. lintian --------------------------------------------------------------------
# --fail-on error,warning: an I: or P: tag would be printed, not failed
# (there is none: lintian 2.116 of Debian 12 finds nothing at all).
if lintian -I --pedantic --fail-on error,warning "$changes" >"$tmp/lintian.out" 2>"$tmp/lintian.err"; then
        ok "lintian: no error, no warning ($(grep -c '^[IP]: ' "$tmp/lintian.out") info/pedantic tags)"
else
        ko "lintian: errors or warnings"
fi
sed 's/^/  lintian: /' "$tmp/lintian.out"
grep -v 'running with root privileges' "$tmp/lintian.err" | sed 's/^/  lintian (stderr): /'

# --- 3. the control fields -----------------------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
check "Package: vmnet" test "$(field Package)" = vmnet
check "Version: $version, configure's (debian/changelog follows configure.ac)" test "$(field Version)" = "$version"
depends=$(field Depends)
echo "  Depends: $depends"
for p in dnsmasq-base nftables libvirt0 libglib2.0-0 libjson-glib-1.0-0 libxml2; do
        check "Depends names $p" grep -qE "(^|, )$p( |,|$)" <<<"$depends"
done
substituted() { ! grep -qF '${' <<<"$depends"; }
check "Depends has no unsubstituted \${...}" substituted
# Dpkg::Deps against dpkg's database: what is left of Depends once the
# installed packages are taken out (nothing, if this machine satisfies it).
unmet=$(perl - "$depends" <<'PERL'
use strict;
use warnings;
use Dpkg::Deps;
my $facts = Dpkg::Deps::KnownFacts->new();
open(my $q, '-|', 'dpkg-query', '-W', '-f',
     '${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\t${Multi-Arch}\n') or die "dpkg-query: $!\n";
while (<$q>) {
        chomp;
        my ($st, $p, $v, $a, $m) = split /\t/;
        $facts->add_installed_package($p, $v, $a, $m || 'no') if $st =~ /^ii/;
}
close($q) or die "dpkg-query failed\n";
my $dep = deps_parse($ARGV[0]) or die "cannot parse Depends\n";
$dep->simplify_deps($facts);
print $dep->output(), "\n";
PERL
) || unmet="(the check failed)"
check "this machine's packages satisfy Depends${unmet:+ (unmet: $unmet)}" test -z "$unmet"
dpkg-deb -e "$deb" "$tmp/control"
check "conffiles: /etc/libvirt/hooks/network.d/50-vmnet" grep -qx /etc/libvirt/hooks/network.d/50-vmnet "$tmp/control/conffiles"
builddeps=$(cd "$src" && perl -MDpkg::Control::Info -MDpkg::Deps -e '
        my $dep = deps_parse(Dpkg::Control::Info->new("debian/control")->get_source()->{"Build-Depends"},
                             build_dep => 1, reduce_profiles => 0) or die "cannot parse Build-Depends\n";
        deps_iterate($dep, sub { print $_[0]->{package}, "\n"; 1 });') || builddeps=
check "Build-Depends parsed" test -n "$builddeps"
deps=$(sh "$top_srcdir/build-aux/deps.sh" --list)
for p in $builddeps; do
        [ "$p" = debhelper-compat ] && p=debhelper # a virtual package of debhelper's
        check "Build-Depends $p is in build-aux/deps.sh" grep -qx "$p" <<<"$deps"
done

# --- 4. installed into a throwaway root ------------------------------------------------
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
: >"$root/var/lib/dpkg/status"
# --force-depends: the root has no other package (Depends is checked above).
# The maintainer scripts (dh_installsystemd's: enable and start vmnet.service)
# run chrooted into the root: it gets a shell (busybox) and stand-ins for
# deb-systemd-helper, deb-systemd-invoke and systemctl in /sbin that only log
# how they were called, /dev/null, and /run/systemd/system, so that the
# scripts take the branch of a host booted with systemd.
busybox=$(command -v busybox)
mkdir -p "$root/bin" "$root/sbin" "$root/dev" "$root/run/systemd/system" "$root/var/log"
cp "$busybox" "$root/bin/sh"
mknod -m 666 "$root/dev/null" c 1 3
for stub in deb-systemd-helper deb-systemd-invoke systemctl; do
        printf '#!/bin/sh\necho "${0##*/} $*" >>/var/log/maintscript-calls\n' >"$root/sbin/$stub"
        chmod +x "$root/sbin/$stub"
done
if dpkg --root="$root" --force-depends --force-not-root -i "$deb" >"$tmp/dpkg.log" 2>&1; then
        ok "dpkg --root installs it (its postinst ran)"
else
        ko "dpkg --root installs it"
        sed 's/^/  | /' "$tmp/dpkg.log"
        finish
fi
check "dpkg: vmnet install ok installed" \
        test "$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Status}' vmnet)" = "install ok installed"
missing=0
while read -r f; do
        [ -e "$root$f" ] || { missing=$((missing + 1)); echo "  not in the root: $f"; }
done < <(dpkg --root="$root" -L vmnet | grep -v '^/\.$')
check "every file dpkg lists is in the root ($(dpkg --root="$root" -L vmnet | wc -l) paths)" test "$missing" = 0

# in_root PATH: the installed file, PATH or PATH.gz (dh_compress).
in_root() { [ -e "$root$1" ] || [ -e "$root$1.gz" ]; }
# The paths under /usr or /etc in the tags of vmnet(8) FILES (the line after
# each .TP), as the man page spells them.
files=$(awk '/^\.SH FILES/ { f = 1; next } /^\.SH / { f = 0 } f && tp { print } { tp = f && /^\.TP/ }' \
        "$top_srcdir/man/vmnet.8" | sed 's/\\-/-/g' | grep -o '/\(usr\|etc\)/[^ "]*')
check "vmnet(8) FILES names paths under /usr and /etc" test -n "$files"
for f in $files; do
        check "vmnet(8) FILES: $f is installed" in_root "$f"
done
check "the program is /usr/sbin/vmnet, executable" test -x "$root/usr/sbin/vmnet"
check "nothing in /usr/bin" test ! -e "$root/usr/bin"
check "the schema is the source's" cmp -s "$root/usr/share/vmnet/schemas/vmnet-plan.rng" "$top_srcdir/schemas/vmnet-plan.rng"
check "vmnet(8) and vmnet-plan(5)" test -f "$root/usr/share/man/man8/vmnet.8.gz" -a -f "$root/usr/share/man/man5/vmnet-plan.5.gz"
check "the copyright file (DEP-5)" grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' \
        "$root/usr/share/doc/vmnet/copyright"
for x in "$top_srcdir"/examples/*.xml; do
        check "example $(basename "$x"), uncompressed, the source's" \
                cmp -s "$x" "$root/usr/share/doc/vmnet/examples/$(basename "$x")"
done
hook=$root/etc/libvirt/hooks/network.d/50-vmnet
check "the hook is executable" test -x "$hook"
check "the hook runs /usr/sbin/vmnet" grep -qx 'exec /usr/sbin/vmnet hook network "$@"' "$hook"

# The Ansible collection, where ansible-core finds it. ansible-* run with a
# clean environment: no configuration file but an empty one, HOME and
# ANSIBLE_HOME in $tmp, so that ansible-core's own defaults decide.
coll=/usr/share/ansible/collections/ansible_collections/vmnet/host
collfiles() { (cd "$1" 2>/dev/null && find . -type f | LC_ALL=C sort); }
srcfiles=$(collfiles "$top_srcdir/ansible")
check "the collection vmnet.host is in $coll: the files of ansible/ ($(wc -l <<<"$srcfiles")), no other" \
        test "$(collfiles "$root$coll")" = "$srcfiles"
differ=
for f in $srcfiles; do
        cmp -s "$top_srcdir/ansible/$f" "$root$coll/$f" || differ="$differ ${f#./}"
done
check "  each the source's${differ:+ (differ or missing:$differ)}" test -z "$differ"
mkdir -p "$tmp/home" "$tmp/ansible-home"
: >"$tmp/ansible.cfg"
ansible_env() {
        (cd "$tmp" && env -i PATH="$PATH" LANG=C.UTF-8 HOME="$tmp/home" ANSIBLE_HOME="$tmp/ansible-home" \
                ANSIBLE_CONFIG="$tmp/ansible.cfg" ANSIBLE_NOCOLOR=1 "$@")
}
# COLLECTIONS_PATHS(default) = ['/tmp/.../ansible-home/collections', '/usr/share/ansible/collections']
paths=$(ansible_env ansible-config dump | sed -n 's/^COLLECTIONS_PATHS(default) = \[\(.*\)\]$/\1/p' | tr -d "' " | tr , ' ')
echo "  ansible-core's default COLLECTIONS_PATHS: $paths"
case " $paths " in
*" /usr/share/ansible/collections "*) ok "ansible-core's default COLLECTIONS_PATHS has /usr/share/ansible/collections" ;;
*) ko "ansible-core's default COLLECTIONS_PATHS has /usr/share/ansible/collections" ;;
esac
# The same paths, each in the root: as if the package were installed in /.
rooted=
for p in $paths; do rooted="$rooted${rooted:+:}$root$p"; done
ansible_env ANSIBLE_COLLECTIONS_PATH="$rooted" ansible-doc vmnet.host.network >"$tmp/doc" 2>&1
check "ansible-doc vmnet.host.network finds the module in $coll" \
        sh -c "grep -q 'VMNET.HOST.NETWORK' '$tmp/doc' && grep -qF '$root$coll/plugins/modules/network.py' '$tmp/doc'"
check "  with its options, examples and return values" \
        sh -c "grep -q unplug_timeout '$tmp/doc' && grep -q '^EXAMPLES' '$tmp/doc' && grep -q '^RETURN VALUES' '$tmp/doc'"
grep -q 'VMNET.HOST.NETWORK' "$tmp/doc" || sed 's/^/  | /' "$tmp/doc" | head -20
ansible_env ANSIBLE_COLLECTIONS_PATH="$rooted" ansible-doc -t role vmnet.host.hypervisor >"$tmp/doc-role" 2>&1
check "ansible-doc -t role vmnet.host.hypervisor finds the role" grep -q "vmnet.host.network" "$tmp/doc-role"
version_coll=$(sed -n 's/^version: //p' "$top_srcdir/ansible/galaxy.yml")
ansible_env ANSIBLE_COLLECTIONS_PATH="$rooted" ansible-galaxy collection list vmnet.host >"$tmp/list" 2>&1
check "ansible-galaxy collection list: vmnet.host $version_coll (galaxy.yml's version)" \
        grep -qE "^vmnet\.host +$version_coll *\$" "$tmp/list"
# ... and without the package, on these paths, no such module: what found it is the package
ansible_env ANSIBLE_COLLECTIONS_PATH="$tmp/ansible-home/collections" ansible-doc vmnet.host.network >"$tmp/doc-none" 2>&1
check "without the package's files, ansible-doc does not find vmnet.host.network" \
        sh -c "! grep -q 'VMNET.HOST.NETWORK' '$tmp/doc-none'"

out=$("$root/usr/sbin/vmnet" --version 2>&1)
check "the installed vmnet --version says vmnet $version (it said: $out)" grep -qx "vmnet $version" <<<"$out"
check "the installed vmnet validates the installed quickstart.xml" \
        "$root/usr/sbin/vmnet" --quiet validate "$root/usr/share/doc/vmnet/examples/quickstart.xml"
# The installed hook, pointed at the installed program: an operation it
# does not act on exits 0 (a failing hook would make libvirt refuse a guest).
sed "s|/usr/sbin/vmnet|$root/usr/sbin/vmnet|" "$hook" >"$tmp/hook"
check "the installed hook runs the installed vmnet (exit 0)" sh "$tmp/hook" default started begin - </dev/null

# --- 5. the systemd unit ------------------------------------------------------------------
unit=/lib/systemd/system/vmnet.service
check "the unit $unit is installed" test -f "$root$unit"
sed 's/^/  maintainer scripts called: /' "$root/var/log/maintscript-calls" 2>/dev/null
check "the postinst enabled vmnet.service" grep -qx "deb-systemd-helper enable vmnet.service" "$root/var/log/maintscript-calls"
check "the postinst started vmnet.service (systemd running)" grep -qx "deb-systemd-invoke start vmnet.service" "$root/var/log/maintscript-calls"
check "the unit runs /usr/sbin/vmnet reapply --watch" grep -q '^ExecStart=/usr/sbin/vmnet reapply --watch ' "$root$unit"
# systemd-analyze verify, on this machine's units (libvirtd's and nftables'
# among them), with the unit's program pointed at the installed one; the man
# page is checked above (verify's own check would run this machine's man).
# verify exits 0 after a warning or an ordering cycle too: it must say nothing.
mkdir -p "$tmp/units"
sed "s|/usr/sbin/vmnet|$root/usr/sbin/vmnet|" "$root$unit" >"$tmp/units/vmnet.service"
# The units it is ordered against that this machine has (libvirt-daemon-system's, nftables').
peers=
for u in libvirtd.service libvirt-guests.service nftables.service; do
        [ -f "/lib/systemd/system/$u" ] && peers="$peers $u"
done
echo "  the boot transaction has: vmnet.service network.target$peers"
printf '[Unit]\nDescription=a boot transaction: vmnet with what it is ordered against\nWants=vmnet.service network.target%s\n' \
        "$peers" >"$tmp/units/vmnet-boot-check.target"
verify() { # NAME UNIT...: systemd-analyze verify exits 0 and prints nothing
        local name=$1
        shift
        if (cd "$tmp/units" && systemd-analyze verify --man=no "$@") >"$tmp/verify.out" 2>&1 &&
                ! grep -q . "$tmp/verify.out"; then
                ok "$name"
        else
                ko "$name"
                sed 's/^/  | /' "$tmp/verify.out"
        fi
}
verify "systemd-analyze verify vmnet.service: nothing to say" vmnet.service
verify "systemd-analyze verify of a boot with${peers:- none of libvirtd, libvirt-guests, nftables}: no ordering cycle" \
        vmnet-boot-check.target vmnet.service

echo "  took $(($(date +%s) - t0))s"
finish
