/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>

#include "cli/cli.h"
#include "diff/engine.h"
#include "render/render.h"

typedef struct {
        gboolean libvirt;
        gboolean nft;
        char *network;
        char *domain;
} RenderOpts;

static void section(VmnetCli *cli, gboolean headers, const char *title, const char *text)
{
        if (headers)
                printf("==> %s <==\n", title);
        fputs(text, stdout);
        if (headers)
                putchar('\n');
}

static void json_domain(JsonBuilder *j, const VmnetPlan *plan, const VmnetDomain *d)
{
        json_builder_set_member_name(j, d->name);
        json_builder_begin_array(j);
        for (guint k = 0; k < d->interfaces->len; k++) {
                g_autofree char *xml =
                        vmnet_render_domain_interface(plan, d, g_ptr_array_index(d->interfaces, k));

                json_builder_add_string_value(j, xml);
        }
        json_builder_end_array(j);
}

int vmnet_cmd_render(VmnetCli *cli, int argc, char **argv)
{
        const VmnetCommand *cmd = vmnet_cli_command("render");
        RenderOpts o = { 0 };
        const GOptionEntry entries[] = {
                { "libvirt", 0, 0, G_OPTION_ARG_NONE, &o.libvirt, "libvirt network XML", NULL },
                { "network", 0, 0, G_OPTION_ARG_STRING, &o.network,
                  "only this network's libvirt XML (implies --libvirt)", "NAME" },
                { "nft", 0, 0, G_OPTION_ARG_NONE, &o.nft, "the nftables ruleset (nft -f script)", NULL },
                { "domain", 0, 0, G_OPTION_ARG_STRING, &o.domain,
                  "libvirt <interface> XML of one domain's interfaces", "NAME" },
                G_OPTION_ENTRY_NULL
        };
        g_autoptr(VmnetPlan) plan = NULL;
        g_autoptr(VmnetIpam) ipam = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(VmnetDiags) warnings = vmnet_diags_new();
        g_autofree char *network = NULL, *domain = NULL;
        gboolean all, headers;
        int selected;

        if (!vmnet_cli_parse(cli, cmd, entries, &argc, &argv))
                return VMNET_EXIT_FAILURE;
        network = o.network;
        domain = o.domain;
        if (argc != 2) {
                return vmnet_cli_usage(cli, "render",
                                       "expected exactly one PLAN (or '-' for standard input)");
        }
        plan = vmnet_cli_load_plan(cli, "render", argv[1]);
        if (!plan)
                return VMNET_EXIT_FAILURE;
        if (network && !vmnet_plan_find_network(plan, network)) {
                g_autoptr(GError) e = g_error_new(VMNET_ERROR, VMNET_ERROR_NOT_FOUND,
                                                  "%s: no network '%s' in the plan", plan->file, network);
                return vmnet_cli_fail(cli, "render", e);
        }
        if (domain && !vmnet_plan_find_domain(plan, domain)) {
                g_autoptr(GError) e = g_error_new(VMNET_ERROR, VMNET_ERROR_NOT_FOUND,
                                                  "%s: no domain '%s' in the plan", plan->file, domain);
                return vmnet_cli_fail(cli, "render", e);
        }
        o.libvirt |= network != NULL;
        all = !o.libvirt && !o.nft && !domain;
        selected = !!o.libvirt + !!o.nft + !!domain;
        /*
         * The bridge table binds the addresses vmnet's IPAM keeps (its state,
         * dnsmasq's leases) to guest ports: the same as apply would load.
         */
        if ((all || o.nft) && !vmnet_engine_ipam(plan, NULL, cli->netns, &ipam, &error)) {
                /*
                 * render needs no privilege: without the record (a user who
                 * cannot read /var/lib/vmnet) it renders what a first apply
                 * would allocate, and says so.
                 */
                vmnet_diags_add(warnings, plan->file, 0,
                                "%s; guest addresses are rendered as a first apply would "
                                "allocate them",
                                error->message);
                g_clear_error(&error);
                if (!vmnet_engine_ipam_fresh(plan, &ipam, &error))
                        return vmnet_cli_fail(cli, "render", error);
        }
        /* One kind of output alone is printed bare, so it can be piped into virsh or nft -f. */
        headers = all || selected > 1 || (o.libvirt && !network && plan->networks->len > 1);

        if (cli->json) {
                g_autoptr(JsonBuilder) j = vmnet_cli_json_begin("render", FALSE, FALSE);

                if (all || o.libvirt) {
                        json_builder_set_member_name(j, "networks");
                        json_builder_begin_object(j);
                        for (guint i = 0; i < plan->networks->len; i++) {
                                VmnetNetwork *n = g_ptr_array_index(plan->networks, i);
                                g_autofree char *xml = NULL;

                                if (network && !g_str_equal(network, n->name))
                                        continue;
                                xml = vmnet_render_libvirt_network(plan, n);
                                json_builder_set_member_name(j, n->name);
                                json_builder_add_string_value(j, xml);
                        }
                        json_builder_end_object(j);
                }
                if (all || o.nft) {
                        g_autofree char *nft = vmnet_render_nft(plan, ipam);

                        vmnet_json_member_string(j, "nft", nft);
                }
                if (all || domain) {
                        json_builder_set_member_name(j, "domains");
                        json_builder_begin_object(j);
                        for (guint i = 0; i < plan->domains->len; i++) {
                                VmnetDomain *d = g_ptr_array_index(plan->domains, i);

                                if (!domain || g_str_equal(domain, d->name))
                                        json_domain(j, plan, d);
                        }
                        json_builder_end_object(j);
                }
                vmnet_cli_json_diags(j, "warnings", warnings);
                json_builder_end_object(j);
                vmnet_cli_json_print(j);
                return VMNET_EXIT_OK;
        }
        for (guint i = 0; i < warnings->items->len; i++) {
                g_autofree char *w = vmnet_diag_format(g_ptr_array_index(warnings->items, i));

                g_printerr("warning: %s\n", w);
        }
        /* -q: nothing on stdout; the exit status says whether the plan renders. */
        if (cli->quiet)
                return VMNET_EXIT_OK;

        if (all || o.libvirt) {
                for (guint i = 0; i < plan->networks->len; i++) {
                        VmnetNetwork *n = g_ptr_array_index(plan->networks, i);
                        g_autofree char *xml = NULL;
                        g_autofree char *title = NULL;

                        if (network && !g_str_equal(network, n->name))
                                continue;
                        xml = vmnet_render_libvirt_network(plan, n);
                        title = g_strdup_printf("libvirt network %s", n->name);
                        section(cli, headers, title, xml);
                }
        }
        if (all || o.nft) {
                g_autofree char *nft = vmnet_render_nft(plan, ipam);

                section(cli, headers, "nftables table inet vmnet", nft);
        }
        for (guint i = 0; (all || domain) && i < plan->domains->len; i++) {
                VmnetDomain *d = g_ptr_array_index(plan->domains, i);

                if (domain && !g_str_equal(domain, d->name))
                        continue;
                for (guint k = 0; k < d->interfaces->len; k++) {
                        VmnetInterface *ifc = g_ptr_array_index(d->interfaces, k);
                        g_autofree char *xml = vmnet_render_domain_interface(plan, d, ifc);
                        g_autofree char *title = g_strdup_printf("domain %s interface %u (network %s)",
                                                                 d->name, k + 1, ifc->network);

                        section(cli, headers || d->interfaces->len > 1, title, xml);
                }
        }
        return VMNET_EXIT_OK;
}
