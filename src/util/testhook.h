/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Test-only switches in the environment (tests/README, "Test builds";
 * vmnet(8), ENVIRONMENT). vmnet runs as root, so what its environment says
 * must not change what it does: only a build configured with
 * --enable-test-hooks (VMNET_TEST_HOOKS 1, `vmnet --version` says "test
 * build") reads them. In any other build vmnet_test_hook() is the constant
 * NULL, so no code path reads them; main() calls
 * vmnet_test_hooks_warn_ignored() to say once on stderr that a variable set
 * there is ignored, so a confused user is not misled.
 */

#include <glib.h>

typedef enum {
        VMNET_HOOK_FAIL_AT,        /* VMNET_TEST_FAIL_AT=N: action N fails instead of running */
        VMNET_HOOK_PAUSE_AT,       /* VMNET_TEST_PAUSE_AT=N: a run stops before action N until a signal */
        VMNET_HOOK_DNSMASQ,        /* VMNET_DNSMASQ=PATH: the dnsmasq binary to run */
        VMNET_HOOK_STATE_DIR,      /* VMNET_STATE_DIR=DIR: instead of /var/lib/vmnet */
        VMNET_HOOK_RUN_DIR,        /* VMNET_RUN_DIR=DIR: instead of /run/vmnet */
        VMNET_HOOK_UNPLUG_TIMEOUT, /* VMNET_UNPLUG_TIMEOUT=S: the default of --unplug-timeout */
        VMNET_HOOK_DNSMASQ_SUPERVISOR, /* VMNET_DNSMASQ_SUPERVISOR=fork|systemd: who runs dnsmasq */
        VMNET_HOOK_N
} VmnetTestHook;

/* The variable's name ("VMNET_TEST_FAIL_AT"). */
const char *vmnet_test_hook_name(VmnetTestHook h);

#if VMNET_TEST_HOOKS
/* The variable's value when set and not empty, else NULL. */
const char *vmnet_test_hook(VmnetTestHook h);
#else
static inline const char *vmnet_test_hook(VmnetTestHook h)
{
        return NULL;
}
#endif

/*
 * In a build without test hooks: one line on stderr naming the variables of
 * the list above that are set, and saying that they are ignored (once per
 * process). Nothing in a test build.
 */
void vmnet_test_hooks_warn_ignored(void);
