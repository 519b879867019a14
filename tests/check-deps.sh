#!/bin/bash
# Every external command the tests and scripts use comes from a package that
# build-aux/deps.sh installs, or from a package every Debian 12 system has
# (Essential: yes or Priority: required): what makes `sh build-aux/test.sh`
# pass on a fresh machine and not only on one where something was installed
# by hand.
#
# The commands: a static scan (tests/scan-commands.py) of the shell scripts
# under tests/, build-aux/, bench/ and .ci/run, plus the list below of what a
# scan cannot see. Each is resolved with `command -v` (a path is taken as it
# is), its file looked up with `dpkg -S` (following symlinks such as
# /etc/alternatives, and /bin <-> /usr/bin), and the owning package must be
# in `sh build-aux/deps.sh --list` or in the base set computed from dpkg's
# database: Essential: yes or Priority: required. Nothing is accepted for
# being installed. Each command not covered is named, with where it is used.
#
# Environment: top_srcdir (default: this checkout).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
cd "$top_srcdir" || exit 1

for t in dpkg dpkg-query /usr/bin/python3; do
        command -v "$t" >/dev/null || { echo "SKIP: needs $t (a Debian system)"; exit 77; }
done

# What a scan cannot see: KIND NAME WHERE. KIND is cmd (a command name),
# file (a path), python (a module the repository's own Python imports, as
# /usr/bin/python3 finds it) or ignore (a scanned name that is no dependency).
read -r -d '' EXPLICIT <<'LIST'
cmd qemu-system-x86_64 tests/vm/vm-run (its qemu=(...) command line)
cmd setpriv tests/vm/vm-run (reaper=(setpriv ...))
cmd cpio tests/vm/vm-run (for tool in ...: the initramfs)
cmd depmod tests/vm/vm-run (for tool in ...)
cmd apt-get tests/vm/vm-run (the kernel: apt-get download)
cmd apt-cache tests/vm/vm-run (the kernel version)
cmd dpkg-deb tests/vm/vm-run (the kernel package)
cmd flock tests/vm/vm-run (for tool in ...)
cmd timeout tests/vm/vm-run (for tool in ...)
cmd xz tests/vm/vm-run (extract_vmlinux: "$tool" -dc, Debian's kernel is xz)
cmd zstd tests/vm/vm-run (extract_vmlinux, *.ko.zst modules)
cmd gzip tests/vm/vm-run (extract_vmlinux, *.ko.gz modules)
cmd dnsmasq src/backend/dnsmasq/dnsmasq.c (vmnet starts it), tests/unit/check-dnsmasq.c (dnsmasq --test)
cmd nft tests/unit/check-nft.c, tests/netns/check-nft-netns.c (nft -c, nft -f)
cmd ip tests/netns/nstest.c (/bin/sh -c "ip ...")
cmd sh tests/unit/check-dnsmasq.c, tests/unit/check-nft.c, tests/netns/nstest.c (/bin/sh -c)
cmd unshare tests/unit/check-dnsmasq.c (unshare -n sleep 120)
cmd sleep tests/unit/check-dnsmasq.c
cmd busybox tests/unit/check-dnsmasq.c (busybox udhcpc, the DHCP client)
cmd virt-xml-validate tests/unit/check-render.c (configure.ac AC_PATH_PROG)
cmd xmllint configure.ac (AC_PATH_PROG)
cmd gcc configure (the C compiler, build-aux/build.sh)
cmd make build-aux/build.sh, build-aux/test.sh
cmd clang build-aux/test.sh (CC=clang, the fuzzer build)
cmd pkg-config configure.ac (PKG_CHECK_MODULES)
cmd aclocal build-aux/build.sh (autoreconf -fi)
cmd automake build-aux/build.sh (autoreconf -fi)
cmd autoconf build-aux/build.sh (autoreconf -fi)
cmd libtoolize build-aux/build.sh (autoreconf -fi)
cmd valgrind build-aux/deps.sh (the unit tests' leak checks)
cmd libvirtd tests/vm/lib.sh (vm_libvirt_start)
file /lib/systemd/systemd tests/vm/vm-run (--systemd: exec /lib/systemd/systemd)
cmd virtlogd tests/vm/lib.sh (vm_libvirt_start)
cmd ansible-playbook tests/ansible/run.sh
cmd ansible-galaxy tests/ansible/run.sh (collection build, install), Makefile.am (ansible-collection)
cmd ansible-doc tests/ansible/run.sh
cmd ansible-test tests/ansible/sanity.sh
cmd dh debian/rules (dh $@, dh_auto_test), tests/deb/run.sh (dpkg-buildpackage runs debian/rules)
cmd dh_autoreconf debian/rules (dh's sequence of debhelper-compat 13)
file /usr/bin/python3 tests/ansible/run.sh (ansible.cfg interpreter_python; ansible-playbook's #!)
python json tests/ansible/callback_plugins/vmnet_json.py
python jsonschema tests/lib/jschema.py (tests/netns/t-json.sh)
python ansible.plugins.callback tests/ansible/callback_plugins/vmnet_json.py
python ansible.plugins.callback.default tests/ansible/run.sh (play default: the default stdout callback)
python ansible.plugins.connection.local tests/ansible/run.sh (ansible_connection: local)
python ansible.modules.command examples/ansible/command.yml (ansible.builtin.command)
python ansible.plugins.action.debug ansible/roles/hypervisor/tasks/main.yml, examples/ansible/command.yml (ansible.builtin.debug)
python ansible.plugins.lookup.template ansible/roles/hypervisor/tasks/main.yml, tests/ansible/finish.yml (lookup template)
python ansible.module_utils.basic ansible/plugins/modules/network.py (AnsibleModule)
python ansible.modules.validate_argument_spec ansible/roles/hypervisor/meta/argument_specs.yml (the role's argument validation)
ignore /nonexistent/command tests/lib/check-jcheck.sh (a command that is not there, on purpose)
ignore /usr/sbin/vmnet tests/vm/reboot/setup.sh (vmnet itself, as setup.sh installs it in the test VM)
LIST

# --- the packages that count ----------------------------------------------------
deps=$(sh build-aux/deps.sh --list) || { echo "FAIL: sh build-aux/deps.sh --list failed"; exit 1; }
[ -n "$deps" ] || { echo "FAIL: sh build-aux/deps.sh --list printed nothing"; exit 1; }
base=$(dpkg-query -W -f='${Package}\t${Essential}\t${Priority}\n' | awk -F'\t' '$2 == "yes" || $3 == "required" { print $1 }')
[ -n "$base" ] || { echo "FAIL: no Essential or required package in dpkg's database"; exit 1; }
declare -A why=()
for p in $base; do why[$p]="Essential/required"; done
for p in $deps; do why[$p]="build-aux/deps.sh"; done

# --- what is used, and where ----------------------------------------------------
# tests/: every shell script (by name or #! line); build-aux/: the project's
# *.sh (not the files autoreconf installs there); bench/*.sh; .ci/run.
mapfile -t scripts < <({
        find tests -type f ! -path '*/data/*' ! -path '*/corpus/*' | while read -r f; do
                case $f in
                *.sh) echo "$f" ;;
                *) head -n1 "$f" 2>/dev/null | grep -qE '^#!.*/(env )?(ba)?sh( |$)' && echo "$f" ;;
                esac
        done
        ls build-aux/*.sh bench/*.sh .ci/run 2>/dev/null
} | LC_ALL=C sort -u)
declare -A used=() kind=()
scan=$(/usr/bin/python3 tests/scan-commands.py "${scripts[@]}") || { echo "FAIL: the scan failed"; exit 1; }
[ -n "$scan" ] || { echo "FAIL: the scan found no command at all"; exit 1; }
# A scan that lost its way would find little and pass: commands the tests are
# known to run must be among what it found.
for n in ip jq nft bridge sysctl busybox ansible-playbook; do
        grep -q "^$n	" <<<"$scan" || { echo "FAIL: the scan did not find '$n', which the tests run"; exit 1; }
done
while IFS=$'\t' read -r name where; do
        used[$name]+="${used[$name]:+, }$where"
        kind[$name]=cmd
done <<<"$scan"
declare -A ignored=()
while read -r k name where; do
        [ -n "$k" ] || continue
        case $k in
        ignore) ignored[$name]=$where; continue ;;
        esac
        used[$name]+="${used[$name]:+, }$where"
        kind[$name]=$k
done <<<"$EXPLICIT"

# --- which file, which package ---------------------------------------------------
# resolve KIND NAME: the paths NAME stands for, best first.
resolve() {
        case $1 in
        cmd) # each file once: /bin/ip and /usr/bin/ip are one (/bin -> usr/bin)
                type -aP "$2" | while read -r p; do
                        echo "$(cd "$(dirname "$p")" && pwd -P)/${p##*/}"
                done | awk '!seen[$0]++' ;;
        file) [ -e "$2" ] && echo "$2" ;;
        python) printf '%s' "${pyfile[$2]:-}" ;;
        esac
}
# The Python modules' files, in one interpreter (importing ansible is slow).
declare -A pyfile=()
mapfile -t pymods < <(for n in "${!kind[@]}"; do [ "${kind[$n]}" = python ] && echo "$n"; done)
if [ ${#pymods[@]} -gt 0 ]; then
        while IFS=$'\t' read -r mod file; do
                pyfile[$mod]=$file
        done < <(/usr/bin/python3 -c '
import importlib, sys
for name in sys.argv[1:]:
    try:
        print(name + "\t" + importlib.import_module(name).__file__)
    except Exception:
        pass' "${pymods[@]}" 2>/dev/null)
fi
# chain PATH: PATH, then each symlink it goes through, each also under the
# other half of the merged /usr (dpkg knows /bin/ip, PATH finds /usr/bin/ip).
chain() {
        local p=$1 alt i
        for ((i = 0; i < 10; i++)); do
                case $p in
                /usr/bin/* | /usr/sbin/* | /usr/lib/* | /usr/lib64/*) echo "$p"; echo "${p#/usr}" ;;
                /bin/* | /sbin/* | /lib/* | /lib64/*) echo "$p"; echo "/usr$p" ;;
                *) echo "$p" ;;
                esac
                [ -L "$p" ] || return 0
                alt=$(readlink "$p")
                case $alt in /*) p=$alt ;; *) p=$(dirname "$p")/$alt ;; esac
                p=$(realpath -s -- "$p")
        done
}
declare -A paths_of=() chain_of=() pkg_of=()
all=()
for name in "${!used[@]}"; do
        [ -n "${ignored[$name]:-}" ] && continue
        paths_of[$name]=$(resolve "${kind[$name]}" "$name")
        while read -r path; do
                [ -n "$path" ] || continue
                chain_of[$path]=$(chain "$path")
                mapfile -t -O "${#all[@]}" all <<<"${chain_of[$path]}"
        done <<<"${paths_of[$name]}"
done
# One dpkg -S for every path ("PKG[, PKG...]: PATH" for the ones dpkg knows).
if [ ${#all[@]} -gt 0 ]; then
        while IFS= read -r line; do
                case $line in diversion\ *) continue ;; esac
                pkg_of[${line#*: }]=$(echo "${line%%: *}" | sed 's/, .*//; s/:[a-z0-9]*$//')
        done < <(dpkg -S $(printf '%s\n' "${all[@]}" | LC_ALL=C sort -u) 2>/dev/null)
fi
# owner PATH: the package owning PATH or the first file of its chain that dpkg knows.
owner() {
        local q
        while read -r q; do
                [ -n "${pkg_of[$q]:-}" ] && { echo "${pkg_of[$q]}"; return 0; }
        done <<<"${chain_of[$1]}"
        return 1
}

pass=0 fail=0 notes=()
for name in $(printf '%s\n' "${!used[@]}" | LC_ALL=C sort); do
        [ -n "${ignored[$name]:-}" ] && continue
        k=${kind[$name]}
        where=${used[$name]}
        mapfile -t paths < <(printf '%s' "${paths_of[$name]}" | sed '/^$/d')
        if [ ${#paths[@]} -eq 0 ]; then
                fail=$((fail + 1))
                echo "FAIL: $name is not installed (used in $where)"
                continue
        fi
        ok= seen=
        for path in "${paths[@]}"; do
                pkg=$(owner "$path") || pkg=
                seen+="${seen:+; }$path (${pkg:-no package})"
                if [ -n "$pkg" ] && [ -n "${why[$pkg]:-}" ]; then
                        ok="$path from $pkg (${why[$pkg]})"
                        [ "$path" != "${paths[0]}" ] &&
                                notes+=("note: $name: the first on PATH is ${paths[0]}, not from a package; $ok is")
                        break
                fi
        done
        if [ -n "$ok" ]; then
                pass=$((pass + 1))
                echo "PASS: $name: $ok"
        else
                fail=$((fail + 1))
                echo "FAIL: $name: $seen: in neither build-aux/deps.sh nor an Essential/required package (used in $where)"
        fi
done
for n in "${notes[@]}"; do echo "$n"; done
[ $((pass + fail)) -gt 0 ] || { echo "FAIL: nothing checked"; fail=1; }
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
