#!/bin/sh
# The README's second command (and CI's): install what is missing, build, and
# run the whole test suite:
#   1. make check          unit tests, CLI tests, fuzz corpus replay, namespace tests
#                          (a test build: --enable-test-hooks, tests/README)
#   2. a mutant            vmnet built with one deliberate fault (no-forward): t-nat must fail
#   3. production build    a build without test hooks ignores every test switch
#   4. make check-deb      the Debian package: built from the tarball's files, lintian, installed
#   5. make check-vm       the VM suite: Debian's stock kernel, real libvirtd and guests;
#                          the reboot test (systemd as PID 1, two boots on one disk)
#   6. sanitizers          make check under AddressSanitizer + UBSan (leaks included)
#   7. fuzzing             the libFuzzer target for a bounded time (FUZZ_SECONDS, default 60)
#   8. make distcheck      the tarball builds and passes its own tests
# Each step prints its own summary; the script stops at the first failure.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
sh build-aux/deps.sh

# Each step's header says how long the run has taken so far (the budget: 20 minutes).
t0=$(date +%s)
step() { printf '\n==== %s (at %ds) ====\n' "$*" $(($(date +%s) - t0)); }

step "build and make check"
# A test build: the suite steers vmnet through switches only it reads (tests/README).
BUILDDIR=$src/build sh build-aux/build.sh --enable-test-hooks
make -C build check -j"$(nproc)" || { cat build/test-suite.log; exit 1; }

step "a mutant the tests must catch (tests/README, Mutants)"
# vmnet with port forwards left out of the kernel's ruleset: t-nat must fail.
bash tests/mutant/run-mutant.sh no-forward tests/netns/t-nat.sh

step "the production build reads no test switch (tests/netns/t-production.sh)"
# A plain build (what is installed), in its own directory, reused when there.
BUILDDIR=$src/build-prod sh build-aux/build.sh
top_srcdir=$src VMNET=$src/build-prod/vmnet bash tests/netns/t-production.sh
step "the Debian package (dpkg-buildpackage, lintian, dpkg --root)"
# Built outside the checkout from the files make dist ships (tests/deb/run.sh).
make -C build check-deb

step "the VM suite (stock kernel, libvirtd, guests)"
make -C build check-vm

step "make check under AddressSanitizer + UBSan"
BUILDDIR=$src/build-asan sh build-aux/build.sh --enable-test-hooks --enable-sanitizers CFLAGS="-O1 -g"
# Check forks each test by default; in-process runs let LeakSanitizer see leaks.
CK_FORK=no ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        make -C build-asan check -j"$(nproc)" || { cat build-asan/test-suite.log; exit 1; }

step "fuzzing the plan parser for ${FUZZ_SECONDS:-60}s"
BUILDDIR=$src/build-fuzz sh build-aux/build.sh --enable-fuzzer CC=clang \
        CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" LDFLAGS="-fsanitize=address,undefined"
make -C build-fuzz tests/fuzz/fuzz-plan >/dev/null
tests/fuzz/run-fuzzer build-fuzz "${FUZZ_SECONDS:-60}"

step "make distcheck"
make -C build distcheck >/dev/null
echo "distcheck: OK"

# Every step above stops the script on failure, so reaching here means all passed.
echo
echo "all steps took $(($(date +%s) - t0))s"
echo "steps: $(grep -c '^step "' "$src/build-aux/test.sh") passed, 0 failed"
