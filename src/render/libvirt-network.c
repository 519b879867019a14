/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "render/render.h"

/*
 * libvirt network XML for one vmnet network.
 *
 * vmnet creates every bridge itself (netlink) and runs its own dnsmasq and
 * nftables table, so whatever the plan mode, the libvirt network is only a
 * named handle on vmnet's bridge: <forward mode='bridge'/> + <bridge name=/>.
 * libvirt then neither creates a second bridge nor adds firewall rules
 * (libvirtd 9.0's net-start of such a network adds no link and no nft or
 * iptables rule), and guests are attached with <interface type='network'>,
 * which keeps port groups and per-port bandwidth working.
 *
 * What libvirt 9.0 accepts with forward mode='bridge', read in libvirt's
 * src/conf/network_conf.c virNetworkDefParseXML() (the parser, also used by
 * the test driver in tests/unit/check-render.c) and
 * src/network/bridge_driver.c networkValidate() (libvirtd only), and
 * confirmed with virsh net-define against libvirtd 9.0 in a private
 * network namespace:
 *  - <mtu>: rejected by the parser ("mtu size only allowed in open, route,
 *    nat, and isolated mode, not in bridge"), so never emitted here. vmnet
 *    sets the bridge MTU itself and the domain <interface> carries <mtu> so
 *    the tap matches (vmnet_render_domain_interface()).
 *  - <bridge stp=/delay=/zone=>: rejected by the parser in bridge mode;
 *    vmnet programs STP and the forward delay through netlink.
 *  - <mac>, <ip>, <dns> records, <domain>: rejected by networkValidate() in
 *    bridge mode; addresses, DHCP and DNS are vmnet's own dnsmasq's job.
 *  - <bandwidth> (network-wide or in a <portgroup>): accepted in bridge mode
 *    only because a bridge name is given (networkValidate() sets
 *    bandwidthAllowed when def->bridge != NULL). The model has no
 *    network-wide rate, so only port groups carry one.
 *  - <vlan> (network or portgroup): only allowed for hostdev/passthrough or
 *    a bridge with an Open vSwitch <virtualport>; on a plain Linux bridge
 *    networkValidate() fails with "<vlan> element specified for network ...,
 *    whose type doesn't support vlan configuration". So portgroup VLANs are
 *    not rendered: vmnet programs the taps' VLAN membership itself.
 */

/* uuid5(NAMESPACE_URL, "urn:vmnet:libvirt:1"): 7537d38f-34e2-59aa-a084-52b5061b0843. */
static const guint8 vmnet_uuid_namespace[16] = {
        0x75, 0x37, 0xd3, 0x8f, 0x34, 0xe2, 0x59, 0xaa,
        0xa0, 0x84, 0x52, 0xb5, 0x06, 0x1b, 0x08, 0x43,
};

/*
 * RFC 4122 name-based (SHA-1, version 5) UUID of "PLAN/NETWORK". Stable
 * across renders, so re-defining a network never changes its UUID, and
 * distinct per plan. Both names are [A-Za-z0-9_.-], so '/' cannot make two
 * pairs collide.
 */
static char *network_uuid(const char *plan_name, const char *net_name)
{
        g_autoptr(GChecksum) sha1 = g_checksum_new(G_CHECKSUM_SHA1);
        g_autofree char *name = g_strconcat(plan_name, "/", net_name, NULL);
        guint8 digest[20];
        gsize len = sizeof(digest);

        g_checksum_update(sha1, vmnet_uuid_namespace, sizeof(vmnet_uuid_namespace));
        g_checksum_update(sha1, (const guchar *)name, strlen(name));
        g_checksum_get_digest(sha1, digest, &len);
        digest[6] = (digest[6] & 0x0f) | 0x50; /* version 5 */
        digest[8] = (digest[8] & 0x3f) | 0x80; /* RFC 4122 variant */
        return g_strdup_printf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                               "%02x%02x%02x%02x%02x%02x",
                               digest[0], digest[1], digest[2], digest[3], digest[4],
                               digest[5], digest[6], digest[7], digest[8], digest[9],
                               digest[10], digest[11], digest[12], digest[13],
                               digest[14], digest[15]);
}

/* Appends name='value' with value escaped for a single-quoted attribute. */
static void append_attr(GString *out, const char *name, const char *value)
{
        g_autofree char *esc = g_markup_escape_text(value, -1);

        g_string_append_printf(out, " %s='%s'", name, esc);
}

static void append_text_element(GString *out, const char *indent, const char *name,
                                const char *text)
{
        g_autofree char *esc = g_markup_escape_text(text, -1);

        g_string_append_printf(out, "%s<%s>%s</%s>\n", indent, name, esc, name);
}

static void append_portgroup(GString *out, const VmnetPortgroup *pg)
{
        gboolean has_bw = pg->has_bandwidth && (pg->bandwidth.inbound || pg->bandwidth.outbound);

        g_string_append(out, "  <portgroup");
        append_attr(out, "name", pg->name);
        if (pg->is_default)
                append_attr(out, "default", "yes");
        /* pg->vlan is deliberately not rendered: see the comment at the top. */
        if (!has_bw) {
                g_string_append(out, "/>\n");
                return;
        }
        g_string_append(out, ">\n");
        vmnet_render_bandwidth(out, "    ", &pg->bandwidth);
        g_string_append(out, "  </portgroup>\n");
}

/*
 * On a VLAN-aware bridge, the VLAN of the network's guest ports and of each
 * port group that has its own (a trunk group: its tagged VLANs and native
 * one), for the network hook (vmnet(8), hook): libvirt
 * refuses <vlan> here (see the top), and the hook is handed this XML, not
 * the plan. Closes the <vmnet:network> element.
 */
static void append_port_vlans(GString *out, const VmnetNetwork *net)
{
        gboolean groups = FALSE;

        if (!net->vlan_aware) {
                g_string_append(out, "/>\n");
                return;
        }
        g_string_append_printf(out, " vlan='%u'", net->uplink->vlan);
        for (guint i = 0; i < net->portgroups->len; i++) {
                const VmnetPortgroup *pg = g_ptr_array_index(net->portgroups, i);

                if (!pg->vlan && !pg->has_trunk)
                        continue;
                g_string_append(out, groups ? "" : ">\n");
                groups = TRUE;
                g_string_append(out, "      <vmnet:portgroup");
                append_attr(out, "name", pg->name);
                if (pg->has_trunk) {
                        g_autofree char *list = vmnet_vlan_list_format(&pg->trunk);

                        append_attr(out, "trunk", list);
                        if (pg->trunk.untagged)
                                g_string_append_printf(out, " native='%u'", pg->trunk.untagged);
                        g_string_append(out, "/>\n");
                        continue;
                }
                g_string_append_printf(out, " vlan='%u'/>\n", pg->vlan);
        }
        g_string_append(out, groups ? "    </vmnet:network>\n" : "/>\n");
}

/*
 * Renders net of plan as libvirt network XML (virNetworkDefineXML input).
 * Returns a newly allocated string the caller frees.
 */
char *vmnet_render_libvirt_network(const VmnetPlan *plan, const VmnetNetwork *net)
{
        g_autoptr(GString) out = g_string_new(NULL);
        g_autofree char *uuid = NULL;
        g_autofree char *bridge = NULL;

        g_return_val_if_fail(plan && plan->name && net && net->name, NULL);

        uuid = network_uuid(plan->name, net->name);
        /* The plan is normally finalized; fall back to the documented default. */
        bridge = net->bridge ? g_strdup(net->bridge) : g_strconcat("vm-", net->name, NULL);

        g_string_append(out, "<network>\n");
        append_text_element(out, "  ", "name", net->name);
        append_text_element(out, "  ", "uuid", uuid);
        /*
         * libvirt keeps foreign-namespace elements of <metadata> verbatim;
         * this is how vmnet recognises the networks it owns (libvirt 9.0 has
         * no virNetworkSetMetadata(), so it is set at define time).
         */
        g_string_append(out, "  <metadata>\n");
        g_string_append(out, "    <vmnet:network");
        append_attr(out, "xmlns:vmnet", VMNET_LIBVIRT_METADATA_NS);
        append_attr(out, "plan", plan->name);
        append_attr(out, "mode", vmnet_mode_to_string(net->mode));
        append_port_vlans(out, net);
        g_string_append(out, "  </metadata>\n");
        g_string_append(out, "  <forward mode='bridge'/>\n");
        g_string_append(out, "  <bridge");
        append_attr(out, "name", bridge);
        g_string_append(out, "/>\n");
        for (guint i = 0; net->portgroups && i < net->portgroups->len; i++)
                append_portgroup(out, g_ptr_array_index(net->portgroups, i));
        g_string_append(out, "</network>\n");
        return g_string_free(g_steal_pointer(&out), FALSE);
}
