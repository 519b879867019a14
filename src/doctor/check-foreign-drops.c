/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "doctor/doctor.h"

/*
 * Other tables' base chains that drop at a hook vmnet's traffic passes
 * (field notes 1, 2, 4). In nftables a packet must be accepted by every
 * base chain at a hook, so vmnet's own accept cannot save it from Docker's
 * `table ip filter chain FORWARD policy drop` or a firewalld zone. vmnet
 * never touches those tables: the finding says what to add there.
 *
 * Legacy iptables (x_tables) tables are invisible to nftables; their
 * existence is reported so that the user looks at them too.
 */

/* Does the plan (or, without one, anything) route guests' traffic through the host? */
static gboolean routes_guests(const VmnetDoctor *doc)
{
        if (!doc->plan)
                return TRUE;
        for (guint i = 0; i < doc->plan->networks->len; i++) {
                const VmnetNetwork *net = g_ptr_array_index(doc->plan->networks, i);

                if (net->mode == VMNET_MODE_NAT || net->mode == VMNET_MODE_ROUTED)
                        return TRUE;
        }
        return FALSE;
}

static gboolean talks_to_host(const VmnetDoctor *doc)
{
        if (!doc->plan)
                return TRUE;
        for (guint i = 0; i < doc->plan->networks->len; i++) {
                const VmnetNetwork *net = g_ptr_array_index(doc->plan->networks, i);

                if (vmnet_mode_has_host_address(net->mode))
                        return TRUE;
        }
        return FALSE;
}

/* "vm-lab" or "{ vm-lab, vm-dev }" for nft; "BRIDGE" when vmnet has none here. */
static char *nft_names(GPtrArray *bridges)
{
        g_autoptr(GString) s = g_string_new(NULL);

        if (!bridges->len)
                return g_strdup("BRIDGE");
        if (bridges->len == 1)
                return g_strdup(g_ptr_array_index(bridges, 0));
        g_string_append(s, "{ ");
        for (guint i = 0; i < bridges->len; i++)
                g_string_append_printf(s, "%s%s", i ? ", " : "", (char *)g_ptr_array_index(bridges, i));
        g_string_append(s, " }");
        return g_string_free(g_steal_pointer(&s), FALSE);
}

static char *fix_for(const VmnetDoctor *doc, const VmnetNftForeignChain *c, GPtrArray *bridges)
{
        g_autoptr(GString) s = g_string_new(NULL);
        g_autofree char *names = nft_names(bridges);
        gboolean forward = g_str_equal(c->hook, "forward");

        if (g_strcmp0(c->hint, "docker") == 0 && forward) {
                /* Docker rewrites its own chains; DOCKER-USER is the one it leaves to the admin. */
                for (guint i = 0; i < MAX(bridges->len, 1); i++) {
                        const char *b = bridges->len ? g_ptr_array_index(bridges, i) : "BRIDGE";
                        g_autofree char *a1 = g_strdup_printf("iptables -I DOCKER-USER -i %s -j ACCEPT", b);
                        g_autofree char *a2 = g_strdup_printf("iptables -I DOCKER-USER -o %s -j ACCEPT", b);
                        g_autofree char *c1 = vmnet_doctor_cmd_in_ns(doc, a1);
                        g_autofree char *c2 = vmnet_doctor_cmd_in_ns(doc, a2);

                        g_string_append_printf(s, "%s%s; %s", i ? "; " : "", c1, c2);
                }
                g_string_append(s, " (Docker keeps DOCKER-USER; make it persistent with your "
                                   "firewall service)");
                return g_string_free(g_steal_pointer(&s), FALSE);
        }
        if (g_strcmp0(c->hint, "firewalld") == 0) {
                g_string_append(s, "put vmnet's bridges in a zone that lets them through: ");
                for (guint i = 0; i < MAX(bridges->len, 1); i++) {
                        const char *b = bridges->len ? g_ptr_array_index(bridges, i) : "BRIDGE";

                        g_string_append_printf(s, "firewall-cmd --permanent --zone=trusted "
                                                  "--add-interface=%s && ",
                                               b);
                }
                g_string_append(s, "firewall-cmd --reload");
                return g_string_free(g_steal_pointer(&s), FALSE);
        }
        if (g_strcmp0(c->hint, "libvirt") == 0 && !c->policy_drop) {
                g_autofree char *args = g_strdup_printf("nft list chain %s %s %s", c->family, c->table,
                                                        c->chain);
                g_autofree char *list = vmnet_doctor_cmd_in_ns(doc, args);

                return g_strdup_printf("libvirt's own rules usually only reject traffic of "
                                       "libvirt's bridges (virbr*); check that none names vmnet's: "
                                       "%s",
                                       list);
        }
        {
                g_autofree char *in = g_strdup_printf("nft insert rule %s %s %s iifname %s accept",
                                                      c->family, c->table, c->chain, names);
                g_autofree char *out = g_strdup_printf("nft insert rule %s %s %s oifname %s accept",
                                                       c->family, c->table, c->chain, names);
                g_autofree char *cin = vmnet_doctor_cmd_in_ns(doc, in);
                g_autofree char *cout = vmnet_doctor_cmd_in_ns(doc, out);

                if (forward)
                        return g_strdup_printf("accept vmnet's bridges in that chain before it "
                                               "drops (in the tool or file that owns it): %s; %s",
                                               cin, cout);
                return g_strdup_printf("accept vmnet's bridges in that chain before it drops (in "
                                       "the tool or file that owns it): %s",
                                       cin);
        }
}

static void report(VmnetDoctor *doc, const VmnetNftForeignChain *c, GPtrArray *bridges)
{
        g_autofree char *d = vmnet_nft_foreign_chain_describe(c);
        VmnetSeverity sev;
        const char *effect;

        if (g_str_equal(c->hook, "forward")) {
                gboolean matters = routes_guests(doc);

                sev = !matters ? VMNET_SEVERITY_INFO
                               : c->policy_drop ? VMNET_SEVERITY_ERROR : VMNET_SEVERITY_WARNING;
                /* field note 1 */
                effect = matters ? "guests of NAT and routed networks lose everything beyond the "
                                   "host"
                                 : "the plan routes nothing through the host, so only bridged "
                                   "frames are at risk (see br-netfilter)";
        } else if (g_str_equal(c->hook, "input")) {
                gboolean matters = talks_to_host(doc);

                sev = matters && c->policy_drop ? VMNET_SEVERITY_WARNING : VMNET_SEVERITY_INFO;
                /* field note 4 */
                effect = "guests may not reach vmnet's DHCP and DNS on the host unless that chain "
                         "accepts them";
        } else {
                sev = c->policy_drop ? VMNET_SEVERITY_WARNING : VMNET_SEVERITY_INFO;
                effect = "it may drop guests' packets before vmnet sees them";
        }
        /* every base chain at a hook must accept: field note 2 */
        vmnet_doctor_add(doc, sev,
                         g_strdup_printf("table %s %s chain %s", c->family, c->table, c->chain),
                         sev == VMNET_SEVERITY_INFO && !c->policy_drop ? NULL : fix_for(doc, c, bridges),
                         "%s can drop what vmnet accepts: a packet must be accepted by every base "
                         "chain at a hook; %s",
                         d, effect);
}

static void legacy_iptables(VmnetDoctor *doc)
{
        static const struct {
                const char *file;
                const char *tool;
        } procs[] = {
                { "/proc/self/net/ip_tables_names", "iptables-legacy" },
                { "/proc/self/net/ip6_tables_names", "ip6tables-legacy" },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(procs); i++) {
                g_autofree char *names = NULL;
                g_autofree char *args = NULL;
                g_auto(GStrv) list = NULL;
                g_autofree char *joined = NULL;

                if (!g_file_get_contents(procs[i].file, &names, NULL, NULL))
                        continue;
                g_strstrip(names);
                if (!*names)
                        continue;
                list = g_strsplit(names, "\n", -1);
                joined = g_strjoinv(", ", list);
                args = g_strdup_printf("%s -S FORWARD; %s -S INPUT", procs[i].tool, procs[i].tool);
                vmnet_doctor_add(doc, VMNET_SEVERITY_INFO,
                                 g_strdup_printf("%s tables", procs[i].tool),
                                 vmnet_doctor_cmd_in_ns(doc, args),
                                 "legacy x_tables tables exist (%s): nftables cannot see them, so "
                                 "vmnet could not check them for a DROP policy",
                                 joined);
        }
}

static gboolean run(VmnetDoctor *doc, char **skipped)
{
        g_autoptr(GPtrArray) bridges = NULL;

        legacy_iptables(doc);
        if (!doc->foreign_drops) {
                *skipped = g_strdup_printf("could not list the nftables chains: %s",
                                           doc->foreign_drops_error);
                return FALSE;
        }
        bridges = vmnet_doctor_bridges(doc);
        for (guint i = 0; i < doc->foreign_drops->len; i++)
                report(doc, g_ptr_array_index(doc->foreign_drops, i), bridges);
        return TRUE;
}

const VmnetDoctorCheck vmnet_doctor_check_foreign_drops = {
        .name = "foreign-drops",
        .summary = "no other nftables table drops vmnet's traffic at the same hook",
        .needs_plan = FALSE,
        .run = run,
};
