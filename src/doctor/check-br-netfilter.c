/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "backend/netlink/netlink.h"
#include "doctor/doctor.h"

/*
 * br_netfilter (loaded by Docker, Kubernetes, some firewalls) sends frames
 * that a bridge merely switches through the IPv4/IPv6 hooks, so a drop at
 * forward in an ip, ip6 or inet table also cuts guests off from each other
 * on one bridge and from the LAN of a bridged network. The sysctls exist
 * only while the module is loaded, per network namespace.
 */

static const struct {
        const char *key;
        const char *family; /* nftables family whose forward hook it feeds, besides inet */
} keys[] = {
        { "net.bridge.bridge-nf-call-iptables", "ip" },
        { "net.bridge.bridge-nf-call-ip6tables", "ip6" },
};

static gboolean run(VmnetDoctor *doc, char **skipped)
{
        for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
                g_autofree char *v = vmnet_sysctl_read(keys[i].key, NULL);

                /* Absent: the module is not loaded and bridged frames bypass the IP hooks. */
                if (!v || !g_str_equal(v, "1"))
                        continue;
                if (!doc->foreign_drops) {
                        *skipped = g_strdup_printf("%s = 1, but the nftables chains could not be "
                                                   "listed: %s",
                                                   keys[i].key, doc->foreign_drops_error);
                        return FALSE;
                }
                for (guint j = 0; j < doc->foreign_drops->len; j++) {
                        const VmnetNftForeignChain *c = g_ptr_array_index(doc->foreign_drops, j);
                        g_autofree char *d = NULL;
                        g_autofree char *args = NULL;
                        g_autofree char *off = NULL;

                        if (!g_str_equal(c->hook, "forward") ||
                            (!g_str_equal(c->family, keys[i].family) && !g_str_equal(c->family, "inet")))
                                continue;
                        d = vmnet_nft_foreign_chain_describe(c);
                        args = g_strdup_printf("sysctl -w %s=0", keys[i].key);
                        off = vmnet_doctor_cmd_in_ns(doc, args);
                        vmnet_doctor_add(doc,
                                         c->policy_drop ? VMNET_SEVERITY_ERROR : VMNET_SEVERITY_WARNING,
                                         g_strdup_printf("sysctl %s", keys[i].key),
                                         g_strdup_printf("%s and keep it in /etc/sysctl.d/ (unless "
                                                         "Docker or Kubernetes on this host need "
                                                         "it), or accept vmnet's bridges in that "
                                                         "chain (see foreign-drops)",
                                                         off),
                                         "br_netfilter sends bridged frames through the forward "
                                         "hook (%s = 1), where %s drops them: guests lose each "
                                         "other on one bridge and the LAN of bridged networks",
                                         keys[i].key, d);
                }
        }
        return TRUE;
}

const VmnetDoctorCheck vmnet_doctor_check_br_netfilter = {
        .name = "br-netfilter",
        .summary = "br_netfilter does not send bridged frames into a dropping chain",
        .needs_plan = FALSE,
        .run = run,
};
