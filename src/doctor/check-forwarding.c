/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "diff/links.h"
#include "doctor/doctor.h"

/*
 * NAT and routed networks need the host to forward. Without a plan, the
 * state files say whether vmnet turned forwarding on for a plan (a foreign
 * change is recorded with the previous value): if it is off now, something
 * else turned it off.
 */

static const struct {
        const char *key;
        int family;
        const char *name;
} keys[] = {
        { "net.ipv4.ip_forward", AF_INET, "IPv4" },
        { "net.ipv6.conf.all.forwarding", AF_INET6, "IPv6" },
};

/* The first nat/routed network with a subnet of family, NULL when none. */
static const VmnetNetwork *network_needing(const VmnetPlan *plan, int family)
{
        for (guint i = 0; i < plan->networks->len; i++) {
                const VmnetNetwork *net = g_ptr_array_index(plan->networks, i);

                if (net->mode != VMNET_MODE_NAT && net->mode != VMNET_MODE_ROUTED)
                        continue;
                if (vmnet_network_first_subnet(net, family))
                        return net;
        }
        return NULL;
}

/* apply: how to re-apply the plan (NULL: the plan is only known by name). */
static char *fix_for(const VmnetDoctor *doc, const char *key, const char *apply)
{
        g_autofree char *args = g_strdup_printf("sysctl -w %s=1", key);
        g_autofree char *sysctl = vmnet_doctor_cmd_in_ns(doc, args);

        return g_strdup_printf("%s (or: %s); find what turned it off (a firewall or network "
                               "service restart, /etc/sysctl.d)",
                               apply, sysctl);
}

static void with_plan(VmnetDoctor *doc)
{
        for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
                const VmnetNetwork *net = network_needing(doc->plan, keys[i].family);
                const char *cur = vmnet_host_sysctl(doc->host, keys[i].key);
                g_autofree char *apply = NULL;

                if (!net || g_strcmp0(cur, "1") == 0)
                        continue;
                if (!cur) {
                        vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR,
                                         g_strdup_printf("sysctl %s", keys[i].key), NULL,
                                         "%s is not available (%s disabled on this host?): network "
                                         "'%s' (%s) cannot forward %s",
                                         keys[i].key, keys[i].name, net->name,
                                         vmnet_mode_to_string(net->mode), keys[i].name);
                        continue;
                }
                apply = vmnet_doctor_cmd_apply(doc);
                vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR, g_strdup_printf("sysctl %s", keys[i].key),
                                 fix_for(doc, keys[i].key, apply),
                                 "%s is %s: guests of network '%s' (%s) cannot reach beyond the "
                                 "host over %s",
                                 keys[i].key, cur, net->name, vmnet_mode_to_string(net->mode),
                                 keys[i].name);
        }
}

static void without_plan(VmnetDoctor *doc)
{
        g_autoptr(GHashTable) plans = vmnet_doctor_state_plans(doc);
        GHashTableIter it;
        gpointer name, path;
        gboolean reported[G_N_ELEMENTS(keys)] = { FALSE };

        g_hash_table_iter_init(&it, plans);
        while (g_hash_table_iter_next(&it, &name, &path)) {
                g_autoptr(GKeyFile) kf = g_key_file_new();
                g_autoptr(VmnetForeignState) st = NULL;

                if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL) ||
                    !(st = vmnet_foreign_state_from_keyfile(kf, NULL)))
                        continue;
                for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
                        const char *cur = vmnet_host_sysctl(doc->host, keys[i].key);
                        g_autofree char *apply = NULL;

                        if (reported[i] || !vmnet_foreign_state_find(st, keys[i].key, "sysctl") ||
                            !cur || g_str_equal(cur, "1"))
                                continue;
                        reported[i] = TRUE;
                        apply = vmnet_doctor_cmd_apply_state(doc, name, path);
                        vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR,
                                         g_strdup_printf("sysctl %s", keys[i].key),
                                         fix_for(doc, keys[i].key, apply),
                                         "vmnet turned %s on for plan '%s', and it is %s now: its "
                                         "NAT and routed networks no longer forward",
                                         keys[i].key, (const char *)name, cur);
                }
        }
        /* vmnet runs here but no record says whether its plan needs forwarding. */
        if (!reported[0] && doc->nft->exists && g_strcmp0(vmnet_host_sysctl(doc->host, keys[0].key), "0") == 0)
                vmnet_doctor_add(doc, VMNET_SEVERITY_INFO, g_strdup("sysctl net.ipv4.ip_forward"),
                                 vmnet_doctor_cmd_vmnet(doc, "doctor PLAN"),
                                 "IPv4 forwarding is off; NAT and routed networks need it (give "
                                 "the plan to tell whether it has any)");
}

static gboolean run(VmnetDoctor *doc, G_GNUC_UNUSED char **skipped)
{
        if (doc->plan)
                with_plan(doc);
        else
                without_plan(doc);
        return TRUE;
}

const VmnetDoctorCheck vmnet_doctor_check_forwarding = {
        .name = "forwarding",
        .summary = "IP forwarding is on where NAT and routed networks need it",
        .needs_plan = FALSE,
        .run = run,
};
