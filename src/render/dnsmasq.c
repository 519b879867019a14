/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "render/render.h"
#include "util/error.h"
#include "util/mutant.h"

/*
 * The configuration of the dnsmasq vmnet runs for one network: the same
 * server libvirt runs for its own networks, but started by vmnet (libvirt
 * only has a named handle on vmnet's bridge, see libvirt-network.c), one
 * process per network, reading this file and nothing else (it is started
 * with --conf-file=THIS, so /etc/dnsmasq.conf and /etc/dnsmasq.d are not
 * read).
 *
 * Like libvirt's (src/network/bridge_driver.c networkDnsmasqConfContents()):
 *  - bound to the bridge only: interface= with bind-dynamic (dnsmasq binds
 *    the bridge's addresses as they appear and leaves every other
 *    interface's port 53 alone, so it coexists with libvirt's dnsmasq and a
 *    host resolver), except-interface=lo;
 *  - no /etc/hosts (no-hosts): guests must not learn the host's private names;
 *  - strict-order, and upstream DNS from the host's /etc/resolv.conf;
 *  - host-only networks get an empty router option, so guests do not take
 *    the host, which forwards nothing for them, as their default route.
 * Static leases come from the network's <reservation>s and from IPAM (the
 * plan's interfaces); named ones also get a host-record, so their names
 * resolve before they have ever leased.
 */

/*
 * Every value is checked before it is written: dnsmasq reads one option per
 * line, splits values at ',', takes '"' and '\\' as quoting and a '#' after
 * white space as a comment, and '*' in interface= as a wildcard, so a value
 * with any of them would add or widen an option (bridge="n,up0" once bound
 * DNS to the uplink). The validator refuses such names in a plan; this is
 * the second line, for values that come from elsewhere (paths built from
 * --netns and the state directory).
 */
static const char *unsafe_value(const char *v)
{
        if (!v || !*v)
                return "is empty";
        for (const char *p = v; *p; p++) {
                unsigned char c = (unsigned char)*p;

                if (c < 0x21 || c == 0x7f)
                        return "contains white space or a control character";
                if (strchr(",\"\\#*", c))
                        return "contains one of , \" \\ # *";
        }
        return NULL;
}

static gboolean check_value(const VmnetNetwork *net, const char *field, const char *v,
                            const char *why, GError **error)
{
        g_autofree char *shown = NULL;
        g_autofree char *net_name = NULL;

        if (!why)
                why = unsafe_value(v);
        if (!why)
                return TRUE;
        shown = g_strescape(v ? v : "", NULL);
        net_name = g_strescape(net->name ? net->name : "", NULL);
        g_set_error(error, VMNET_ERROR, VMNET_ERROR_INVALID,
                    "network '%s': %s '%s' cannot be written into dnsmasq's configuration: it %s",
                    net_name, field, shown, why);
        return FALSE;
}

/* A DNS label as DHCP host names must be (RFC 952/1123); anything else is left out. */
static gboolean valid_label(const char *s, gsize len)
{
        if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
                return FALSE;
        for (gsize i = 0; i < len; i++)
                if (!g_ascii_isalnum(s[i]) && s[i] != '-')
                        return FALSE;
        return TRUE;
}

/*
 * names: host names already given, so that one name never points at two
 * hosts. A reservation's name may be a FQDN ("web1.lab.example"): DHCP
 * gets its first label, DNS both.
 */
static void append_host(GString *out, const VmnetNetwork *net, const VmnetReservation *r,
                        GHashTable *names, const char *tags)
{
        g_autofree char *mac = vmnet_mac_to_string(&r->mac);
        g_autofree char *ip = vmnet_addr_to_string(&r->ip);
        gboolean v6 = r->ip.family == AF_INET6;
        const char *dot = r->name ? strchr(r->name, '.') : NULL;
        g_autofree char *label = r->name ? g_strndup(r->name, dot ? (gsize)(dot - r->name)
                                                                  : strlen(r->name))
                                         : NULL;
        g_autofree char *fqdn = NULL;

        if (!label || !valid_label(label, strlen(label)) || g_hash_table_contains(names, label))
                g_clear_pointer(&label, g_free);
        g_string_append_printf(out, "dhcp-host=%s,%s%s%s%s", mac, tags ? tags : "", v6 ? "[" : "",
                               ip, v6 ? "]" : "");
        if (label)
                g_string_append_printf(out, ",%s", label);
        g_string_append_c(out, '\n');
        if (!label)
                return;
        g_hash_table_add(names, g_strdup(label));
        fqdn = dot ? g_strdup(r->name)
                   : net->dns_domain ? g_strconcat(label, ".", net->dns_domain, NULL) : NULL;
        /* A domain's name may have '_' ("web_1.lab"): DNS gets it, dnsmasq's syntax no more. */
        if (fqdn && vmnet_dns_name_invalid_reason(fqdn, TRUE))
                g_clear_pointer(&fqdn, g_free);
        if (fqdn)
                g_string_append_printf(out, "host-record=%s,%s,%s\n", fqdn, label, ip);
        else
                g_string_append_printf(out, "host-record=%s,%s\n", label, ip);
}

static void append_range(GString *out, const VmnetSubnet *s, gboolean has_static)
{
        g_autofree char *lease = s->lease_seconds ? g_strdup_printf(",%u", s->lease_seconds)
                                                  : g_strdup("");

        if (VMNET_MUTANT_IS(NO_DHCP_RANGE))
                return;
        if (s->cidr.addr.family == AF_INET) {
                VmnetAddr mask;
                g_autofree char *ms = NULL;

                vmnet_prefix_netmask(&s->cidr, &mask);
                ms = vmnet_addr_to_string(&mask);
                if (s->has_dhcp) {
                        g_autofree char *a = vmnet_addr_to_string(&s->dhcp_start);
                        g_autofree char *b = vmnet_addr_to_string(&s->dhcp_end);

                        g_string_append_printf(out, "dhcp-range=%s,%s,%s%s\n", a, b, ms, lease);
                } else if (has_static) {
                        /* Only the static leases: no dynamic pool. */
                        g_autofree char *a = vmnet_addr_to_string(&s->cidr.addr);

                        g_string_append_printf(out, "dhcp-range=%s,static,%s%s\n", a, ms, lease);
                }
                return;
        }
        if (s->has_dhcp) {
                g_autofree char *a = vmnet_addr_to_string(&s->dhcp_start);
                g_autofree char *b = vmnet_addr_to_string(&s->dhcp_end);

                g_string_append_printf(out, "dhcp-range=%s,%s,%u%s\n", a, b, s->cidr.prefix, lease);
        } else {
                /* Router advertisements for SLAAC; no DHCPv6 pool. */
                g_autofree char *a = vmnet_addr_to_string(&s->cidr.addr);

                g_string_append_printf(out, "dhcp-range=%s,ra-only,%u\n", a, s->cidr.prefix);
        }
}

/* "a,b,c" of the items' addresses of family (IPv6 in brackets, as dnsmasq's option6 wants). */
static char *join_addrs(const GPtrArray *items, int family)
{
        g_autoptr(GString) s = g_string_new(NULL);
        gboolean empty;

        for (guint i = 0; i < items->len; i++) {
                const VmnetDhcpItem *it = g_ptr_array_index(items, i);
                g_autofree char *a = NULL;

                if (it->addr.family != family)
                        continue;
                a = vmnet_addr_to_string(&it->addr);
                g_string_append_printf(s, "%s%s%s%s", s->len ? "," : "",
                                       family == AF_INET6 ? "[" : "", a,
                                       family == AF_INET6 ? "]" : "");
        }
        empty = s->len == 0;
        return g_string_free(g_steal_pointer(&s), empty);
}

/*
 * The dnsmasq tag of x86-64 UEFI clients: client-arch (option 93) 7 and 9
 * (RFC 4578, IANA "Processor Architecture Types": EFI x86-64, EFI BC).
 * Every other client, BIOS PXE (0) included, gets the BIOS file.
 */
#define UEFI_TAG "vmnet-efi64"

/* Set on the reservations that have a boot file of their own: the network's is not theirs. */
#define OWN_BOOT_TAG "vmnet-own-boot"

/*
 * One <dhcp-options>: the network's (tag NULL), or a reservation's, sent
 * only to the client dhcp-host set tag on. dnsmasq sends an option only to
 * clients that ask for it (option 55), as RFC 2131 wants, and prefers a
 * tagged option to an untagged one of the same number; the boot file and
 * next server are BOOTP header fields, chosen by tags that exclude each
 * other (own_boot: some reservation has its own), whatever the order.
 */
static gboolean append_options(GString *out, const VmnetNetwork *net, const VmnetDhcpOptions *o,
                               const char *tag, gboolean own_boot, GError **error)
{
        const VmnetSubnet *s4 = vmnet_network_first_subnet(net, AF_INET);
        g_autofree char *dns4 = join_addrs(o->dns_servers, AF_INET);
        g_autofree char *dns6 = join_addrs(o->dns_servers, AF_INET6);
        g_autofree char *ntp = join_addrs(o->ntp_servers, AF_INET);
        g_autofree char *tagp = tag ? g_strdup_printf("tag:%s,", tag) : g_strdup("");
        const char *excl = !tag && own_boot ? "tag:!" OWN_BOOT_TAG "," : "";
        g_autoptr(GString) search = g_string_new(NULL);

        if (dns4)
                g_string_append_printf(out, "dhcp-option=%soption:dns-server,%s\n", tagp, dns4);
        if (dns6 && !tag)
                g_string_append_printf(out, "dhcp-option=option6:dns-server,%s\n", dns6);
        for (guint i = 0; i < o->search->len; i++) {
                const VmnetDhcpItem *it = g_ptr_array_index(o->search, i);

                if (!check_value(net, "search domain", it->name,
                                 vmnet_dns_name_invalid_reason(it->name, TRUE), error))
                        return FALSE;
                g_string_append_printf(search, ",%s", it->name);
        }
        if (search->len) {
                if (s4)
                        g_string_append_printf(out, "dhcp-option=%soption:domain-search%s\n", tagp,
                                               search->str);
                if (!tag && vmnet_network_first_subnet(net, AF_INET6))
                        g_string_append_printf(out, "dhcp-option=option6:domain-search%s\n",
                                               search->str);
        }
        if (ntp && !VMNET_MUTANT_IS(DHCP_NO_NTP))
                g_string_append_printf(out, "dhcp-option=%soption:ntp-server,%s\n", tagp, ntp);
        if (o->routes->len) {
                g_string_append_printf(out, "dhcp-option=%soption:classless-static-route", tagp);
                for (guint i = 0; i < o->routes->len; i++) {
                        const VmnetRoute *r = g_ptr_array_index(o->routes, i);
                        g_autofree char *to = vmnet_prefix_to_string(&r->to);
                        g_autofree char *via = vmnet_addr_to_string(&r->via);

                        g_string_append_printf(out, ",%s,%s", to, via);
                }
                /*
                 * A client that gets option 121 ignores the router option
                 * (RFC 3442), so the default route through the host goes in
                 * too where the host routes (nat, routed; not host-only).
                 */
                if (net->mode != VMNET_MODE_HOST_ONLY && s4 && s4->has_gateway) {
                        g_autofree char *gw = vmnet_addr_to_string(&s4->gateway);

                        g_string_append_printf(out, ",0.0.0.0/0,%s", gw);
                }
                g_string_append_c(out, '\n');
        }
        if (o->boot_line) {
                g_autofree char *ns = vmnet_addr_to_string(&o->next_server);

                if ((o->boot_bios && !check_value(net, "boot file", o->boot_bios, NULL, error)) ||
                    (o->boot_uefi && !check_value(net, "boot file", o->boot_uefi, NULL, error)))
                        return FALSE;
                if (o->boot_uefi)
                        g_string_append_printf(out, "dhcp-boot=%s%stag:" UEFI_TAG ",%s,,%s\n", tagp,
                                               excl, o->boot_uefi, ns);
                if (o->boot_bios)
                        g_string_append_printf(out, "dhcp-boot=%s%s%s%s,,%s\n", tagp, excl,
                                               o->boot_uefi ? "tag:!" UEFI_TAG "," : "",
                                               o->boot_bios, ns);
        }
        return TRUE;
}

/* The reservation's own options, NULL when it has none. */
static const VmnetDhcpOptions *host_options(const VmnetReservation *r)
{
        return r->dhcp_options && r->dhcp_options->line ? r->dhcp_options : NULL;
}

/*
 * The network's <dhcp-options> and the static leases, each reservation
 * with options of its own tagged vmnet-host-N (N: its rank among them).
 */
static gboolean append_options_and_hosts(GString *out, const VmnetNetwork *net,
                                         const GPtrArray *hosts, GError **error)
{
        g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        gboolean uefi = net->dhcp_options->line && net->dhcp_options->boot_uefi;
        gboolean own_boot = FALSE;
        guint k = 0;

        for (guint i = 0; i < net->subnets->len; i++) {
                const VmnetSubnet *s = g_ptr_array_index(net->subnets, i);

                for (guint j = 0; j < s->reservations->len; j++) {
                        const VmnetDhcpOptions *o = host_options(g_ptr_array_index(s->reservations, j));

                        uefi |= o && o->boot_uefi;
                        own_boot |= o && o->boot_line;
                }
        }
        if (uefi) {
                g_string_append(out, "dhcp-match=set:" UEFI_TAG ",option:client-arch,7\n");
                g_string_append(out, "dhcp-match=set:" UEFI_TAG ",option:client-arch,9\n");
        }
        if (net->dhcp_options->line &&
            !append_options(out, net, net->dhcp_options, NULL, own_boot, error))
                return FALSE;
        for (guint i = 0; i < net->subnets->len; i++) {
                const VmnetSubnet *s = g_ptr_array_index(net->subnets, i);

                for (guint j = 0; j < s->reservations->len; j++) {
                        const VmnetReservation *r = g_ptr_array_index(s->reservations, j);
                        const VmnetDhcpOptions *o = host_options(r);
                        g_autofree char *tag = o ? g_strdup_printf("vmnet-host-%u", k++) : NULL;
                        g_autofree char *tags = o ? g_strdup_printf("set:%s,%s", tag,
                                                                    o->boot_line ? "set:" OWN_BOOT_TAG ","
                                                                                 : "")
                                                  : NULL;

                        append_host(out, net, r, names, tags);
                        if (o && !append_options(out, net, o, tag, FALSE, error))
                                return FALSE;
                }
        }
        for (guint i = 0; hosts && i < hosts->len; i++)
                append_host(out, net, g_ptr_array_index(hosts, i), names, NULL);
        return TRUE;
}

/* Leases dnsmasq may hand out at once: the dynamic ranges plus the static hosts. */
static guint64 lease_max(const VmnetNetwork *net, guint n_static)
{
        guint64 total = n_static;

        for (guint i = 0; i < net->subnets->len; i++) {
                const VmnetSubnet *s = g_ptr_array_index(net->subnets, i);

                if (s->has_dhcp && s->cidr.addr.family == AF_INET)
                        total += (guint64)(((guint32)s->dhcp_end.bytes[0] << 24 |
                                            (guint32)s->dhcp_end.bytes[1] << 16 |
                                            (guint32)s->dhcp_end.bytes[2] << 8 |
                                            s->dhcp_end.bytes[3]) -
                                           ((guint32)s->dhcp_start.bytes[0] << 24 |
                                            (guint32)s->dhcp_start.bytes[1] << 16 |
                                            (guint32)s->dhcp_start.bytes[2] << 8 |
                                            s->dhcp_start.bytes[3])) + 1;
                else if (s->has_dhcp)
                        total += 65536; /* IPv6 ranges are huge; dnsmasq's own cap applies */
        }
        return MAX(total, 1);
}

/*
 * Renders the dnsmasq configuration of net. hosts (VmnetReservation*, may be
 * NULL) are the IPAM static leases; the network's own <reservation>s are
 * taken from the model. Returns a newly allocated string the caller frees.
 */
char *vmnet_render_dnsmasq(const VmnetPlan *plan, const VmnetNetwork *net, const GPtrArray *hosts,
                           const char *lease_file, const char *pid_file, GError **error)
{
        g_autoptr(GString) out = g_string_new(NULL);
        g_autofree char *bridge = NULL;
        guint n_static = hosts ? hosts->len : 0;
        gboolean has_v4_static, has_v6 = FALSE;

        g_return_val_if_fail(plan && net && lease_file && pid_file, NULL);

        bridge = net->bridge ? g_strdup(net->bridge) : g_strconcat("vm-", net->name, NULL);
        if (!check_value(net, "plan name", plan->name, NULL, error) ||
            !check_value(net, "network name", net->name, NULL, error) ||
            !check_value(net, "bridge", bridge, vmnet_ifname_invalid_reason(bridge), error) ||
            !check_value(net, "pid file", pid_file, NULL, error) ||
            !check_value(net, "lease file", lease_file, NULL, error) ||
            (net->dns_domain &&
             !check_value(net, "domain", net->dns_domain,
                          vmnet_dns_name_invalid_reason(net->dns_domain, TRUE), error)))
                return NULL;
        for (guint i = 0; i < net->subnets->len; i++) {
                const VmnetSubnet *s = g_ptr_array_index(net->subnets, i);

                n_static += s->reservations->len;
                has_v6 |= s->cidr.addr.family == AF_INET6;
        }
        has_v4_static = n_static > 0;

        g_string_append_printf(out,
                               "# dnsmasq for network %s of vmnet plan %s: generated by vmnet, "
                               "overwritten on every apply.\n",
                               net->name, plan->name);
        g_string_append_printf(out, "interface=%s\n", bridge);
        g_string_append(out, "except-interface=lo\n");
        g_string_append(out, "bind-dynamic\n");
        g_string_append(out, "strict-order\n");
        g_string_append(out, "no-hosts\n");
        g_string_append(out, "domain-needed\n");
        g_string_append(out, "bogus-priv\n");
        g_string_append_printf(out, "pid-file=%s\n", pid_file);
        if (net->dns_domain) {
                g_string_append_printf(out, "domain=%s\n", net->dns_domain);
                /* Names in the domain are answered here and never forwarded upstream. */
                g_string_append_printf(out, "local=/%s/\n", net->dns_domain);
                g_string_append(out, "expand-hosts\n");
        }
        for (guint i = 0; i < net->subnets->len; i++) {
                const VmnetSubnet *s = g_ptr_array_index(net->subnets, i);

                append_range(out, s, s->cidr.addr.family == AF_INET && has_v4_static);
        }
        if (has_v6)
                g_string_append(out, "enable-ra\n");
        /*
         * Host-only: the host is no router, in IPv6 as in IPv4 (no
         * option:router below). A router lifetime of 0 keeps the prefix
         * information (SLAAC, on-link) but tells guests not to use the
         * host as a default router; 0 as the interval keeps dnsmasq's own.
         */
        if (has_v6 && net->mode == VMNET_MODE_HOST_ONLY && !VMNET_MUTANT_IS(HOSTONLY_ROUTER))
                g_string_append_printf(out, "ra-param=%s,0,0\n", bridge);
        g_string_append(out, "dhcp-no-override\n");
        g_string_append(out, "dhcp-authoritative\n");
        g_string_append_printf(out, "dhcp-lease-max=%" G_GUINT64_FORMAT "\n",
                               lease_max(net, n_static));
        g_string_append_printf(out, "dhcp-leasefile=%s\n", lease_file);
        if (net->mode == VMNET_MODE_HOST_ONLY)
                g_string_append(out, "dhcp-option=option:router\n");
        if (!append_options_and_hosts(out, net, hosts, error))
                return NULL;
        return g_string_free(g_steal_pointer(&out), FALSE);
}

GVariant *vmnet_render_dnsmasq_unit(const char *description, const char *binary,
                                    const char *conf_path, const char *pid_file,
                                    const char *netns)
{
        g_autofree char *conf_arg = g_strconcat("--conf-file=", conf_path, NULL);
        const char *const argv[] = { binary, conf_arg, NULL };
        const char *const docs[] = { "man:vmnet(8)", NULL };
        GVariantBuilder exec, props;

        g_variant_builder_init(&exec, G_VARIANT_TYPE("a(sasb)"));
        /* (path, argv, ignore a failure): a failed dnsmasq is a failed start. */
        g_variant_builder_add(&exec, "(s^asb)", binary, argv, FALSE);
        g_variant_builder_init(&props, G_VARIANT_TYPE("a(sv)"));
        g_variant_builder_add(&props, "(sv)", "Description", g_variant_new_string(description));
        g_variant_builder_add(&props, "(sv)", "Documentation", g_variant_new_strv(docs, -1));
        g_variant_builder_add(&props, "(sv)", "Slice", g_variant_new_string("system-vmnet.slice"));
        /* A failed instance leaves no unit behind whose name the next start would find taken. */
        g_variant_builder_add(&props, "(sv)", "CollectMode",
                              g_variant_new_string("inactive-or-failed"));
        g_variant_builder_add(&props, "(sv)", "Type", g_variant_new_string("forking"));
        g_variant_builder_add(&props, "(sv)", "PIDFile", g_variant_new_string(pid_file));
        g_variant_builder_add(&props, "(sv)", "ExecStart", g_variant_builder_end(&exec));
        if (!VMNET_MUTANT_IS(DNSMASQ_UNIT_NO_RESTART))
                g_variant_builder_add(&props, "(sv)", "Restart", g_variant_new_string("always"));
        g_variant_builder_add(&props, "(sv)", "RestartUSec", g_variant_new_uint64(G_USEC_PER_SEC));
        if (netns) {
                g_autofree char *path = g_build_filename("/run/netns", netns, NULL);

                g_variant_builder_add(&props, "(sv)", "NetworkNamespacePath",
                                      g_variant_new_string(path));
        }
        return g_variant_ref_sink(g_variant_builder_end(&props));
}
