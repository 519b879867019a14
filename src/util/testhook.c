/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>

#include "util/testhook.h"

static const char *const names[VMNET_HOOK_N] = {
        [VMNET_HOOK_FAIL_AT] = "VMNET_TEST_FAIL_AT",
        [VMNET_HOOK_PAUSE_AT] = "VMNET_TEST_PAUSE_AT",
        [VMNET_HOOK_DNSMASQ] = "VMNET_DNSMASQ",
        [VMNET_HOOK_STATE_DIR] = "VMNET_STATE_DIR",
        [VMNET_HOOK_RUN_DIR] = "VMNET_RUN_DIR",
        [VMNET_HOOK_UNPLUG_TIMEOUT] = "VMNET_UNPLUG_TIMEOUT",
        [VMNET_HOOK_DNSMASQ_SUPERVISOR] = "VMNET_DNSMASQ_SUPERVISOR",
};

const char *vmnet_test_hook_name(VmnetTestHook h)
{
        g_return_val_if_fail(h < VMNET_HOOK_N, NULL);
        return names[h];
}

#if VMNET_TEST_HOOKS
const char *vmnet_test_hook(VmnetTestHook h)
{
        const char *v;

        g_return_val_if_fail(h < VMNET_HOOK_N, NULL);
        v = g_getenv(names[h]);
        return v && *v ? v : NULL;
}

void vmnet_test_hooks_warn_ignored(void)
{
}
#else
void vmnet_test_hooks_warn_ignored(void)
{
        static gsize once;
        g_autoptr(GString) set = NULL;

        if (!g_once_init_enter(&once))
                return;
        set = g_string_new(NULL);
        for (guint i = 0; i < VMNET_HOOK_N; i++)
                if (g_getenv(names[i]))
                        g_string_append_printf(set, "%s%s", set->len ? ", " : "", names[i]);
        if (set->len)
                fprintf(stderr,
                        "vmnet: ignoring %s: only a test build reads %s (vmnet(8), ENVIRONMENT)\n",
                        set->str, g_strrstr(set->str, ",") ? "them" : "it");
        g_once_init_leave(&once, 1);
}
#endif
