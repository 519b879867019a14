/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "backend/nftables/ir.h"
#include "render/render.h"

/*
 * The IR as an `nft -f` script. Every construct is written the way nft
 * 1.0.6 parses it into exactly the expressions src/backend/nftables/encode.c builds
 * (see the comment at the top of ir.h), and the script begins with
 * "add table; delete table" so that loading it replaces the table in one
 * transaction, like vmnet_nft_replace() does.
 */

/* interval: the value is part of an interval set's key, where addresses are prefixes. */
static void append_value(GString *out, const VmnetNftValue *v, gboolean interval)
{
        g_autofree char *s = NULL;

        switch (v->type) {
        case VMNET_NFT_DT_IFNAME:
                /*
                 * A trailing '*' makes nft match a name prefix; vmnet means
                 * the literal name (as the netlink side compares all 16
                 * bytes), which nft spells "\*". A '"' cannot be written in
                 * nft syntax at all: the validator must refuse such names.
                 */
                if (g_str_has_suffix(v->ifname, "*"))
                        g_string_append_printf(out, "\"%.*s\\*\"", (int)strlen(v->ifname) - 1,
                                               v->ifname);
                else
                        g_string_append_printf(out, "\"%s\"", v->ifname);
                return;
        case VMNET_NFT_DT_IPV4_ADDR:
        case VMNET_NFT_DT_IPV6_ADDR:
                s = vmnet_addr_to_string(&v->addr);
                g_string_append(out, s);
                if (interval && v->prefix < vmnet_addr_len(&v->addr) * 8)
                        g_string_append_printf(out, "/%u", v->prefix);
                return;
        case VMNET_NFT_DT_INET_PROTO:
                if (v->num == VMNET_PROTO_TCP)
                        g_string_append(out, "tcp");
                else if (v->num == VMNET_PROTO_UDP)
                        g_string_append(out, "udp");
                else if (v->num == 1)
                        g_string_append(out, "icmp");
                else if (v->num == 58)
                        g_string_append(out, "ipv6-icmp");
                else
                        g_string_append_printf(out, "%u", v->num);
                return;
        case VMNET_NFT_DT_INET_SERVICE:
                g_string_append_printf(out, "%u", v->num);
                return;
        case VMNET_NFT_DT_NFPROTO:
                g_string_append(out, v->num == 10 ? "ipv6" : "ipv4");
                return;
        case VMNET_NFT_DT_FIB_ADDRTYPE:
                if (v->num == 2)
                        g_string_append(out, "local");
                else
                        g_string_append_printf(out, "%u", v->num);
                return;
        case VMNET_NFT_DT_CT_STATE:
        case VMNET_NFT_DT_CT_STATUS:
                g_string_append_printf(out, "0x%x", v->num);
                return;
        case VMNET_NFT_DT_ETHER_ADDR:
                s = vmnet_mac_to_string(&v->mac);
                g_string_append(out, s);
                return;
        case VMNET_NFT_DT_ETHER_TYPE:
                if (v->num == 0x0800)
                        g_string_append(out, "ip");
                else if (v->num == 0x0806)
                        g_string_append(out, "arp");
                else if (v->num == 0x86dd)
                        g_string_append(out, "ip6");
                else
                        g_string_append_printf(out, "0x%04x", v->num);
                return;
        case VMNET_NFT_DT_ICMPV6_TYPE:
                if (v->num == 134)
                        g_string_append(out, "nd-router-advert");
                else if (v->num == 137)
                        g_string_append(out, "nd-redirect");
                else
                        g_string_append_printf(out, "%u", v->num);
                return;
        }
}

static void append_values(GString *out, const VmnetNftValue *v, guint n, gboolean interval)
{
        for (guint i = 0; i < n; i++) {
                if (i)
                        g_string_append(out, " . ");
                append_value(out, &v[i], interval);
        }
}

static void append_types(GString *out, const VmnetNftDatatype *t, guint n)
{
        for (guint i = 0; i < n; i++) {
                if (i)
                        g_string_append(out, " . ");
                g_string_append(out, vmnet_nft_datatype_name(t[i]));
        }
}

static void append_selectors(GString *out, const VmnetNftSelector *sel, guint n)
{
        for (guint i = 0; i < n; i++) {
                if (i)
                        g_string_append(out, " . ");
                g_string_append(out, vmnet_nft_selector_text(sel[i]));
        }
}

static void append_flags(GString *out, VmnetNftSelector sel, guint32 mask)
{
        static const struct {
                guint32 bit;
                const char *name;
        } state[] = {
                { 0x01, "invalid" }, { 0x02, "established" }, { 0x04, "related" },
                { 0x08, "new" }, { 0x40, "untracked" },
        }, status[] = {
                { 0x01, "expected" }, { 0x02, "seen-reply" }, { 0x04, "assured" },
                { 0x08, "confirmed" }, { 0x10, "snat" }, { 0x20, "dnat" }, { 0x200, "dying" },
        };
        gboolean is_state = sel == VMNET_NFT_SEL_CT_STATE;
        guint n = is_state ? G_N_ELEMENTS(state) : G_N_ELEMENTS(status);
        gboolean first = TRUE;

        for (guint i = 0; i < n; i++) {
                guint32 bit = is_state ? state[i].bit : status[i].bit;

                if (!(mask & bit))
                        continue;
                g_string_append_printf(out, "%s%s", first ? "" : ",",
                                       is_state ? state[i].name : status[i].name);
                first = FALSE;
                mask &= ~bit;
        }
        if (mask)
                g_string_append_printf(out, "%s0x%x", first ? "" : ",", mask);
}

static void append_match(GString *out, const VmnetNftMatch *m)
{
        g_autofree char *s = NULL;

        switch (m->kind) {
        case VMNET_NFT_MATCH_CMP:
                g_string_append_printf(out, "%s %s", vmnet_nft_selector_text(m->sel[0]),
                                       m->negate ? "!= " : "");
                append_value(out, &m->value, FALSE);
                return;
        case VMNET_NFT_MATCH_PREFIX:
                s = vmnet_addr_to_string(&m->prefix.addr);
                g_string_append_printf(out, "%s %s%s", vmnet_nft_selector_text(m->sel[0]),
                                       m->negate ? "!= " : "", s);
                if (m->prefix.prefix != vmnet_addr_len(&m->prefix.addr) * 8)
                        g_string_append_printf(out, "/%u", m->prefix.prefix);
                return;
        case VMNET_NFT_MATCH_FLAGS:
                g_string_append_printf(out, "%s ", vmnet_nft_selector_text(m->sel[0]));
                append_flags(out, m->sel[0], m->mask);
                return;
        case VMNET_NFT_MATCH_LOOKUP:
                append_selectors(out, m->sel, m->n_sel);
                g_string_append_printf(out, " %s@%s", m->negate ? "!= " : "", m->set);
                return;
        }
}

static void append_rule_body(GString *out, const VmnetNftRule *r)
{
        for (guint i = 0; i < r->matches->len; i++) {
                append_match(out, &g_array_index(r->matches, VmnetNftMatch, i));
                g_string_append_c(out, ' ');
        }
        if (r->counter)
                g_string_append(out, "counter ");
        switch (r->stmt) {
        case VMNET_NFT_STMT_NONE:
                /* A rule without a statement only matches; keep the text honest. */
                if (out->len > 0 && out->str[out->len - 1] == ' ')
                        g_string_truncate(out, out->len - 1);
                break;
        case VMNET_NFT_STMT_ACCEPT:
                g_string_append(out, "accept");
                break;
        case VMNET_NFT_STMT_DROP:
                g_string_append(out, "drop");
                break;
        case VMNET_NFT_STMT_MASQUERADE:
                g_string_append(out, "masquerade");
                break;
        case VMNET_NFT_STMT_DNAT_MAP:
                g_string_append_printf(out, "dnat %s to ",
                                       r->nat_family == AF_INET6 ? "ip6" : "ip");
                append_selectors(out, r->nat_key, r->n_nat_key);
                g_string_append_printf(out, " map @%s", r->nat_map);
                break;
        case VMNET_NFT_STMT_REJECT_TCP_RESET:
                g_string_append(out, "reject with tcp reset");
                break;
        case VMNET_NFT_STMT_REJECT_ADMIN:
                g_string_append(out, "reject with icmpx admin-prohibited");
                break;
        }
        /* validated text only: vmnet's own fixed comments */
        if (r->comment)
                g_string_append_printf(out, " comment \"%s\"", r->comment);
}

static void append_rule(GString *out, const VmnetNftRule *r)
{
        g_string_append(out, "\t\t");
        append_rule_body(out, r);
        g_string_append_c(out, '\n');
}

char *vmnet_nft_values_to_text(const VmnetNftValue *v, guint n, gboolean interval)
{
        GString *out = g_string_new(NULL);

        append_values(out, v, n, interval);
        return g_string_free(out, FALSE);
}

char *vmnet_nft_rule_to_text(const VmnetNftRule *rule)
{
        GString *out = g_string_new(NULL);

        append_rule_body(out, rule);
        return g_string_free(out, FALSE);
}

static const char *hook_name(VmnetNftHook hook)
{
        switch (hook) {
        case VMNET_NFT_HOOK_PREROUTING:
                return "prerouting";
        case VMNET_NFT_HOOK_INPUT:
                return "input";
        case VMNET_NFT_HOOK_FORWARD:
                return "forward";
        case VMNET_NFT_HOOK_OUTPUT:
                return "output";
        case VMNET_NFT_HOOK_POSTROUTING:
                return "postrouting";
        }
        return "?";
}

/* The symbolic names nft accepts (and prints) for these hooks, else the number. */
static void append_priority(GString *out, const VmnetNftIr *ir, const VmnetNftChain *c)
{
        if (ir->family == VMNET_NFT_FAMILY_BRIDGE)
                g_string_append_printf(out, "%d", c->priority); /* "filter" is -200 there */
        else if (c->type == VMNET_NFT_CHAIN_FILTER && c->priority == 0)
                g_string_append(out, "filter");
        else if (c->type == VMNET_NFT_CHAIN_NAT && c->hook == VMNET_NFT_HOOK_PREROUTING &&
                 c->priority == -100)
                g_string_append(out, "dstnat");
        else if (c->type == VMNET_NFT_CHAIN_NAT && c->hook == VMNET_NFT_HOOK_POSTROUTING &&
                 c->priority == 100)
                g_string_append(out, "srcnat");
        else
                g_string_append_printf(out, "%d", c->priority);
}

static void append_set(GString *out, const VmnetNftSet *s)
{
        guint n = vmnet_nft_set_n_elements(s);

        g_string_append_printf(out, "\t%s %s {\n\t\ttype ", s->n_data ? "map" : "set", s->name);
        append_types(out, s->key, s->n_key);
        if (s->n_data) {
                g_string_append(out, " : ");
                append_types(out, s->data, s->n_data);
        }
        g_string_append_c(out, '\n');
        if (s->interval)
                g_string_append(out, "\t\tflags interval\n");
        if (n > 0) {
                g_string_append(out, "\t\telements = {");
                for (guint i = 0; i < n; i++) {
                        const VmnetNftValue *v = vmnet_nft_set_element(s, i);

                        g_string_append(out, i ? ",\n\t\t\t     " : " ");
                        append_values(out, v, s->n_key, s->interval);
                        if (s->n_data) {
                                g_string_append(out, " : ");
                                append_values(out, v + s->n_key, s->n_data, FALSE);
                        }
                }
                g_string_append(out, " }\n");
        }
        g_string_append(out, "\t}\n");
}

static void append_chain(GString *out, const VmnetNftIr *ir, const VmnetNftChain *c)
{
        g_string_append_printf(out, "\tchain %s {\n\t\ttype %s hook %s priority ", c->name,
                               c->type == VMNET_NFT_CHAIN_NAT ? "nat" : "filter",
                               hook_name(c->hook));
        append_priority(out, ir, c);
        g_string_append_printf(out, "; policy %s;\n", c->policy_drop ? "drop" : "accept");
        for (guint i = 0; i < c->rules->len; i++)
                append_rule(out, g_ptr_array_index(c->rules, i));
        g_string_append(out, "\t}\n");
}

static void append_table(GString *out, const VmnetNftIr *ir)
{
        gboolean first = TRUE;

        g_string_append_printf(out, "table %s " VMNET_NFT_TABLE " {\n",
                               vmnet_nft_family_name(ir->family));
        if (ir->comment) {
                g_string_append_printf(out, "\tcomment \"%s\"\n", ir->comment);
                first = FALSE;
        }
        for (guint i = 0; i < ir->sets->len; i++) {
                if (!first)
                        g_string_append_c(out, '\n');
                append_set(out, g_ptr_array_index(ir->sets, i));
                first = FALSE;
        }
        for (guint i = 0; i < ir->chains->len; i++) {
                if (!first)
                        g_string_append_c(out, '\n');
                append_chain(out, ir, g_ptr_array_index(ir->chains, i));
                first = FALSE;
        }
        g_string_append(out, "}\n");
}

char *vmnet_nft_ir_to_text(const VmnetNftIr *ir)
{
        GString *out = g_string_new(NULL);

        if (ir->bridge)
                g_string_append(out,
                                "# table inet " VMNET_NFT_TABLE " and table bridge " VMNET_NFT_TABLE
                                ", generated by vmnet: do not edit.\n"
                                "# Loading this file replaces both tables in one transaction;\n"
                                "# vmnet never touches any other table.\n");
        else
                g_string_append(out,
                                "# table inet " VMNET_NFT_TABLE ", generated by vmnet: do not edit.\n"
                                "# Loading this file replaces the whole table in one transaction;\n"
                                "# vmnet never touches any other table.\n");
        g_string_append(out, "add table inet " VMNET_NFT_TABLE "\n"
                             "delete table inet " VMNET_NFT_TABLE "\n");
        if (ir->bridge)
                g_string_append(out, "add table bridge " VMNET_NFT_TABLE "\n"
                                     "delete table bridge " VMNET_NFT_TABLE "\n");
        g_string_append_c(out, '\n');
        append_table(out, ir);
        if (ir->bridge) {
                g_string_append_c(out, '\n');
                append_table(out, ir->bridge);
        }
        return g_string_free(out, FALSE);
}

char *vmnet_render_nft(const VmnetPlan *plan, const VmnetIpam *ipam)
{
        g_autoptr(VmnetNftIr) ir = vmnet_nft_ir_from_plan(plan, ipam);

        return vmnet_nft_ir_to_text(ir);
}
