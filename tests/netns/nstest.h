/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Helpers for Check tests that touch the kernel. Every such test runs in its
 * own forked process (the suites force CK_FORK) and first moves that process
 * into a fresh network namespace, so nothing reaches the machine's own
 * network. State is read back independently of vmnet with iproute2's JSON
 * output, filtered by jq.
 */

#include <check.h>
#include <glib.h>

/* Can this process create network namespaces (root, unshare allowed)? Probed in a child. */
gboolean vmnet_nstest_available(void);

/* Moves the calling (forked test) process into a new, empty network namespace with lo up. */
void vmnet_nstest_enter(void);

/* Runs `sh -c cmd`; fails the test unless it exits 0. Returns stdout, trailing space stripped. */
char *vmnet_nstest_sh(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* Runs `sh -c cmd` and returns its exit status (stdout discarded). */
int vmnet_nstest_sh_status(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/*
 * Runs a suite with forking forced. With need_netns, returns 77 (automake's
 * SKIP) without running anything when namespaces are unavailable.
 */
int vmnet_nstest_run(Suite *s, gboolean need_netns);
