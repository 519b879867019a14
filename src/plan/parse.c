/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "model/fleet.h"
#include "plan/plan.h"
#include "util/autoptr.h"
#include "util/mutant.h"

/*
 * A plan file -> the model: safe XML parsing, the compiled-in RelaxNG
 * schema, one converter per element, and precise messages for unknown
 * names.
 *
 * Why one file of ~1 100 lines: it is the one place that reads a plan
 * document, every part writes its diagnostics through the one Loader, and
 * the converters (conv_*(), one per element of schemas/vmnet-plan.rng)
 * share the attribute helpers (attr(), req(), conv_addr(), conv_uint(),
 * ...), so each element reads as a short list of its attributes.
 */

#define VMNET_PLAN_NS "urn:vmnet:plan:1"
/* schemas/vmnet-plan.rng as a C string, generated at build time (Makefile.am). */
extern const char vmnet_plan_schema[];
extern const gsize vmnet_plan_schema_len;

/* State of one load: where diagnostics go and which file they name. */
typedef struct {
        const char *file;
        VmnetDiags *diags;
        VmnetDiags *schema_diags; /* collected apart, see merge_schema_diags() */
        gboolean rejected_dtd;
} Loader;

const char *vmnet_plan_schema_text(gsize *len)
{
        if (len)
                *len = vmnet_plan_schema_len;
        return vmnet_plan_schema;
}

/* ---------------------------------------------------------------- parsing */

/*
 * A DOCTYPE is the door to entity expansion and external fetches; a plan
 * never needs one, so the parser is stopped as soon as one appears, before
 * any entity can be declared.
 */
static void reject_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
                          const xmlChar *system_id)
{
        xmlParserCtxtPtr ctxt = ctx;
        Loader *l = ctxt->_private;

        l->rejected_dtd = TRUE;
        vmnet_diags_add(l->diags, l->file, (guint)xmlSAX2GetLineNumber(ctxt),
                        "document type declarations (DOCTYPE) are not allowed in a plan");
        xmlStopParser(ctxt);
}

static char *strip(const char *msg)
{
        char *s = g_strdup(msg ? msg : "unknown error");

        return g_strstrip(s);
}

static xmlDoc *parse_xml(Loader *l, const char *data, gsize len)
{
        g_autoptr(xmlParserCtxt) ctxt = NULL;
        g_autoptr(xmlDoc) doc = NULL;
        gsize blank = 0;

        if (len > VMNET_PLAN_MAX_BYTES) {
                vmnet_diags_add(l->diags, l->file, 0, "plan is larger than %d bytes",
                                VMNET_PLAN_MAX_BYTES);
                return NULL;
        }
        while (blank < len && g_ascii_isspace(data[blank]))
                blank++;
        if (blank == len) {
                vmnet_diags_add(l->diags, l->file, 0, "plan is empty");
                return NULL;
        }
        if (memchr(data, '\0', len)) {
                vmnet_diags_add(l->diags, l->file, 0, "plan contains a NUL byte");
                return NULL;
        }
        if (!g_utf8_validate(data, (gssize)len, NULL)) {
                const char *end = NULL;
                guint line = 1;

                g_utf8_validate(data, (gssize)len, &end);
                for (const char *p = data; p < end; p++)
                        line += *p == '\n';
                vmnet_diags_add(l->diags, l->file, line, "plan is not valid UTF-8");
                return NULL;
        }

        ctxt = xmlCreateMemoryParserCtxt(data, (int)len);
        if (!ctxt) {
                vmnet_diags_add(l->diags, l->file, 0, "out of memory creating the XML parser");
                return NULL;
        }
        ctxt->_private = l;
        ctxt->sax->internalSubset = reject_subset;
        ctxt->sax->externalSubset = reject_subset;
        /*
         * NONET: never fetch anything. No NOENT (entities are not substituted),
         * no DTDLOAD/DTDATTR, no XINCLUDE; HUGE is not set, so libxml2's own
         * limits stay on. Errors are collected, not printed.
         */
        xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                        XML_PARSE_BIG_LINES | XML_PARSE_NOCDATA);
        xmlParseDocument(ctxt);
        doc = ctxt->myDoc;
        ctxt->myDoc = NULL;
        if (l->rejected_dtd)
                return NULL;
        if (doc && doc->encoding && g_ascii_strcasecmp((const char *)doc->encoding, "UTF-8") != 0) {
                vmnet_diags_add(l->diags, l->file, 1,
                                "plan declares encoding '%s'; plans must be UTF-8",
                                (const char *)doc->encoding);
                return NULL;
        }
        if (!ctxt->wellFormed || !doc) {
                const xmlError *e = xmlCtxtGetLastError(ctxt);
                g_autofree char *msg = strip(e ? e->message : NULL);

                vmnet_diags_add(l->diags, l->file, e ? (guint)e->line : 0,
                                "not well-formed XML: %s", msg);
                return NULL;
        }
        return g_steal_pointer(&doc);
}

static void schema_error(void *data, const xmlError *e)
{
        Loader *l = data;
        g_autofree char *msg = strip(e->message);

        vmnet_diags_add(l->schema_diags, l->file, (guint)MAX(e->line, 0), "%s", msg);
}

/*
 * libxml2's RelaxNG validator reports a wrong value as a cascade of generic
 * messages ("Element network failed to validate attributes", "Extra element
 * network in interleave", ...) that name no field. The converter runs even on
 * a plan that fails the schema and names the field precisely, so the generic
 * lines are kept only when nothing more precise was said.
 */
static gboolean schema_message_is_generic(const char *m)
{
        return g_str_has_suffix(m, "failed to validate attributes") ||
               g_str_has_suffix(m, "failed to validate content") ||
               g_str_has_prefix(m, "Extra element ") || g_str_equal(m, "failed to compare type string") ||
               g_str_has_prefix(m, "Error validating value") ||
               g_str_has_prefix(m, "Type ");
}

static void merge_schema_diags(Loader *l, guint converter_count)
{
        guint specific = 0;

        for (guint i = 0; i < l->schema_diags->items->len; i++) {
                VmnetDiag *d = g_ptr_array_index(l->schema_diags->items, i);

                specific += !schema_message_is_generic(d->message);
        }
        for (guint i = 0; i < l->schema_diags->items->len; i++) {
                VmnetDiag *d = g_ptr_array_index(l->schema_diags->items, i);

                gboolean same_line = FALSE;

                if (specific + converter_count > 0 && schema_message_is_generic(d->message))
                        continue;
                /* "Invalid attribute mac" also means "bad value": the converter said which. */
                for (guint j = 0; j < l->diags->items->len && d->line; j++)
                        same_line |= ((VmnetDiag *)g_ptr_array_index(l->diags->items, j))->line ==
                                     d->line;
                if (same_line || (converter_count > 0 && strstr(d->message, "has extra content")))
                        continue;
                vmnet_diags_add(l->diags, d->file, d->line, "schema: %s", d->message);
        }
}

static void schema_parse_error(void *data, const xmlError *e)
{
        /* Only reached when the compiled-in schema itself is broken. */
        g_error("the compiled-in plan schema does not parse: %s", e->message);
}

static gboolean validate_schema(Loader *l, xmlDoc *doc)
{
        gsize len;
        const char *text = vmnet_plan_schema_text(&len);
        g_autoptr(xmlRelaxNGParserCtxt) pctxt = xmlRelaxNGNewMemParserCtxt(text, (int)len);
        g_autoptr(xmlRelaxNG) schema = NULL;
        g_autoptr(xmlRelaxNGValidCtxt) vctxt = NULL;
        int rc;

        xmlRelaxNGSetParserStructuredErrors(pctxt, (xmlStructuredErrorFunc)schema_parse_error, l);
        schema = xmlRelaxNGParse(pctxt);
        g_assert(schema);
        vctxt = xmlRelaxNGNewValidCtxt(schema);
        xmlRelaxNGSetValidStructuredErrors(vctxt, (xmlStructuredErrorFunc)schema_error, l);
        rc = xmlRelaxNGValidateDoc(vctxt, doc);
        if (rc != 0 && vmnet_diags_count(l->schema_diags) == 0)
                vmnet_diags_add(l->schema_diags, l->file, 0, "the plan does not match the schema");
        return rc == 0;
}

/* ---------------------------------------------------------------- conversion */

static guint line_of(xmlNode *node)
{
        long line = xmlGetLineNo(node);

        return line > 0 ? (guint)line : 0;
}

static char *attr(xmlNode *node, const char *name)
{
        g_autoptr(VmnetXmlStr) v = xmlGetNoNsProp(node, (const xmlChar *)name);

        return v ? g_strdup((const char *)v) : NULL;
}

/* A required attribute: reports its absence (the schema's message would not name it). */
static char *req(Loader *l, xmlNode *node, const char *what, const char *name)
{
        char *v = attr(node, name);

        if (!v)
                vmnet_diags_add(l->diags, l->file, line_of(node), "%s: <%s> needs the attribute %s=",
                                what, (const char *)node->name, name);
        return v;
}

/* An enumerated attribute; returns its index in values, or -1 (reported when present). */
static int conv_enum(Loader *l, xmlNode *node, const char *what, const char *name,
                     const char *const *values, gboolean required)
{
        g_autofree char *v = required ? req(l, node, what, name) : attr(node, name);
        g_autofree char *list = NULL;

        if (!v)
                return -1;
        for (int i = 0; values[i]; i++)
                if (g_str_equal(v, values[i]))
                        return i;
        list = g_strjoinv(", ", (char **)values);
        vmnet_diags_add(l->diags, l->file, line_of(node), "%s: %s '%s' is not one of: %s", what,
                        name, v, list);
        return -1;
}

/* An element name in namespace ns. */
static gboolean is_ns_el(const xmlNode *node, const char *ns, const char *name)
{
        return node->type == XML_ELEMENT_NODE && node->ns &&
               g_str_equal((const char *)node->ns->href, ns) &&
               g_str_equal((const char *)node->name, name);
}

static gboolean is_el(xmlNode *node, const char *name)
{
        return is_ns_el(node, VMNET_PLAN_NS, name);
}

#define FOREACH_CHILD(child, parent, elname)                                   \
        for (xmlNode *child = (parent)->children; child; child = child->next) \
                if (is_el(child, elname))

/* Each converter names the object and field in its message ("network 'lab': subnet gateway ..."). */

static void conv_addr(Loader *l, xmlNode *n, const char *what, const char *name, VmnetAddr *out,
                      gboolean *has)
{
        g_autofree char *v = attr(n, name);

        if (has)
                *has = FALSE;
        if (!v)
                return;
        if (!vmnet_addr_parse(v, out)) {
                vmnet_diags_add(l->diags, l->file, line_of(n), "%s: %s '%s' is not an IP address",
                                what, name, v);
                return;
        }
        if (has)
                *has = TRUE;
}

static gboolean conv_prefix(Loader *l, xmlNode *n, const char *what, const char *name,
                            VmnetPrefix *out)
{
        g_autofree char *v = attr(n, name);
        gboolean host_bits = FALSE;

        if (!v)
                return FALSE;
        if (!vmnet_prefix_parse(v, out, &host_bits)) {
                vmnet_diags_add(l->diags, l->file, line_of(n),
                                "%s: %s '%s' is not an address prefix (address/length)", what,
                                name, v);
                return FALSE;
        }
        if (host_bits) {
                g_autofree char *fixed = vmnet_prefix_to_string(out);

                vmnet_diags_add(l->diags, l->file, line_of(n),
                                "%s: %s '%s' has host bits set (did you mean %s?)", what, name, v,
                                fixed);
                return FALSE;
        }
        return TRUE;
}

static gboolean conv_mac(Loader *l, xmlNode *n, const char *what, const char *name, VmnetMac *out)
{
        g_autofree char *v = attr(n, name);

        if (!v)
                return FALSE;
        if (!vmnet_mac_parse(v, out)) {
                vmnet_diags_add(l->diags, l->file, line_of(n),
                                "%s: %s '%s' is not a MAC address (xx:xx:xx:xx:xx:xx)", what, name,
                                v);
                return FALSE;
        }
        return TRUE;
}

static gboolean conv_uint(Loader *l, xmlNode *n, const char *what, const char *name, guint64 min,
                          guint64 max, guint64 *out)
{
        g_autofree char *v = attr(n, name);
        guint64 x;

        if (!v)
                return FALSE;
        if (!g_ascii_string_to_unsigned(v, 10, min, max, &x, NULL)) {
                vmnet_diags_add(l->diags, l->file, line_of(n),
                                "%s: %s '%s' is not a whole number from %" G_GUINT64_FORMAT
                                " to %" G_GUINT64_FORMAT,
                                what, name, v, min, max);
                return FALSE;
        }
        *out = x;
        return TRUE;
}

static int conv_bool(Loader *l, xmlNode *n, const char *what, const char *name)
{
        g_autofree char *v = attr(n, name);

        if (!v)
                return -1;
        if (g_str_equal(v, "yes"))
                return 1;
        if (g_str_equal(v, "no"))
                return 0;
        vmnet_diags_add(l->diags, l->file, line_of(n), "%s: %s '%s' must be 'yes' or 'no'", what,
                        name, v);
        return -1;
}

/*
 * A DNS name (network domain=, reservation name=): the schema refuses a bad
 * one too, but without saying which value; this names it. Both are written
 * into dnsmasq's configuration, where ',' and a newline would start another
 * field or option.
 */
static char *conv_dns_name(Loader *l, xmlNode *n, const char *what, const char *name,
                           const char *kinds, gboolean underscore)
{
        g_autofree char *v = attr(n, name);
        const char *why = v ? vmnet_dns_name_invalid_reason(v, underscore) : NULL;

        if (why) {
                g_autofree char *shown = g_strescape(v, NULL);

                vmnet_diags_add(l->diags, l->file, line_of(n),
                                "%s: %s '%s' %s (%s are labels of 1-63 characters of A-Z a-z 0-9 %s- separated by '.', at most 253 in all)",
                                what, name, shown, why, kinds, underscore ? "_ " : "");
                return NULL;
        }
        return g_steal_pointer(&v);
}

/* A <bandwidth> rate (size: a burst size in bytes instead), with the value named when refused. */
static void conv_amount(Loader *l, xmlNode *n, const char *what, const char *name, guint64 *out,
                        gboolean size)
{
        g_autofree char *v = attr(n, name);

        if (!v)
                return;
        switch (size ? vmnet_size_parse_status(v, out) : vmnet_rate_parse_status(v, out)) {
        case VMNET_RATE_OK:
                break;
        case VMNET_RATE_ZERO:
                vmnet_diags_add(l->diags, l->file, line_of(n),
                                "%s: bandwidth %s '%s' is zero (leave %s= out for %s)", what,
                                name, v, name, size ? "the default" : "no limit");
                break;
        case VMNET_RATE_OVERFLOW:
                vmnet_diags_add(l->diags, l->file, line_of(n),
                                "%s: bandwidth %s '%s' is too large (at most %" G_GUINT64_FORMAT
                                " %s)",
                                what, name, v, G_MAXUINT64, size ? "bytes" : "bit/s");
                break;
        case VMNET_RATE_MALFORMED:
        default:
                vmnet_diags_add(l->diags, l->file, line_of(n), "%s: bandwidth %s '%s' is not a %s",
                                what, name, v,
                                size ? "size (e.g. 250kb, 1mb, 1500b)"
                                     : "rate (e.g. 100mbit, 1gbit, 500kbps)");
                break;
        }
}

static gboolean conv_bandwidth(Loader *l, xmlNode *parent, const char *what, VmnetBandwidth *bw)
{
        gboolean found = FALSE;

        FOREACH_CHILD(n, parent, "bandwidth")
        {
                bw->line = line_of(n);
                conv_amount(l, n, what, "inbound", &bw->inbound, FALSE);
                conv_amount(l, n, what, "outbound", &bw->outbound, FALSE);
                conv_amount(l, n, what, "inbound-peak", &bw->inbound_peak, FALSE);
                conv_amount(l, n, what, "inbound-floor", &bw->inbound_floor, FALSE);
                conv_amount(l, n, what, "outbound-peak", &bw->outbound_peak, FALSE);
                conv_amount(l, n, what, "inbound-burst", &bw->inbound_burst, TRUE);
                conv_amount(l, n, what, "outbound-burst", &bw->outbound_burst, TRUE);
                found = TRUE;
        }
        return found;
}

/* <security mac-spoofing= ip-spoofing= dhcp-server= router-advertisement=/>; each deny|allow. */
static void conv_security(Loader *l, xmlNode *parent, const char *what, VmnetSecurity *sec)
{
        static const char *const values[] = { "deny", "allow", NULL };

        FOREACH_CHILD(n, parent, "security")
        {
                g_autofree char *swhat = g_strdup_printf("%s security", what);

                sec->line = line_of(n);
                for (int k = 0; k < VMNET_SEC_LAST; k++) {
                        int v = conv_enum(l, n, swhat, vmnet_sec_knob_name(k), values, FALSE);

                        if (v >= 0)
                                sec->v[k] = v == 0 ? VMNET_SEC_DENY : VMNET_SEC_ALLOW;
                }
        }
}

/*
 * <mirror direction= domain= interface= link=/>: the validator checks the
 * destination (validate/mirrors.c); here only its shape.
 */
static VmnetMirror *conv_mirror(Loader *l, xmlNode *parent, const char *what)
{
        static const char *const dirs[] = { "ingress", "egress", "both", NULL };
        VmnetMirror *m = NULL;

        FOREACH_CHILD(n, parent, "mirror")
        {
                g_autofree char *mwhat = g_strdup_printf("%s mirror", what);
                guint64 idx = 1;
                int d;

                vmnet_mirror_free(m);
                m = vmnet_mirror_new();
                m->line = line_of(n);
                d = conv_enum(l, n, mwhat, "direction", dirs, FALSE);
                if (d >= 0)
                        m->direction = (guint)d + 1;
                m->to_domain = attr(n, "domain");
                m->to_link = attr(n, "link");
                if (conv_uint(l, n, mwhat, "interface", 1, 4096, &idx))
                        m->to_interface = (guint)idx;
        }
        return m;
}

static guint conv_vlan(Loader *l, xmlNode *n, const char *what)
{
        guint64 v = 0;

        conv_uint(l, n, what, "vlan", 1, 4094, &v);
        return (guint)v;
}

/* <portgroup trunk="100,200" native="300">: the VLANs of a trunk port group (vmnet-plan(5)). */
static void conv_trunk(Loader *l, xmlNode *n, const char *what, VmnetPortgroup *pg)
{
        g_autofree char *list = attr(n, "trunk");
        g_autofree char *why = NULL;
        guint64 native = 0;

        conv_uint(l, n, what, "native", 1, 4094, &native);
        pg->trunk.untagged = (guint)native;
        if (!list)
                return;
        if (!vmnet_vlan_list_parse(list, &pg->trunk, &why)) {
                vmnet_diags_add(l->diags, l->file, line_of(n), "%s: trunk '%s': %s", what, list,
                                why);
                return;
        }
        if (VMNET_MUTANT_IS(TRUNK_DROP_VLAN) && pg->trunk.n_tagged > 1)
                pg->trunk.n_tagged--;
        pg->has_trunk = TRUE;
}

/* --- fleet plans: <host>, hosts= and <vxlan> of a network, host= of a domain --- */

/* Space-separated names (hosts=, members=), empty ones dropped. */
static char **conv_names(const char *list)
{
        g_auto(GStrv) parts = g_strsplit_set(list, " \t\r\n", -1);
        GPtrArray *names = g_ptr_array_new();

        for (guint i = 0; parts[i]; i++)
                if (*parts[i]) /* spaces in a row */
                        g_ptr_array_add(names, g_strdup(parts[i]));
        g_ptr_array_add(names, NULL);
        return (char **)g_ptr_array_free(names, FALSE);
}

static VmnetBond *conv_bond(Loader *l, xmlNode *n, VmnetPlan *plan)
{
        static const char *const modes[] = { "802.3ad", "active-backup", "balance-xor", NULL };
        static const int mode_values[] = { 4, 1, 2 }; /* BOND_MODE_* */
        static const char *const rates[] = { "slow", "fast", NULL };
        static const char *const hashes[] = { "layer2", "layer3+4", "layer2+3", NULL };
        VmnetBond *b = vmnet_bond_new();
        g_autofree char *what = NULL, *members = NULL;
        guint64 u;
        int m;

        g_ptr_array_add(plan->bonds, b);
        b->line = line_of(n);
        b->name = req(l, n, "bond", "name");
        what = g_strdup_printf("bond '%s'", b->name ? b->name : "?");
        m = conv_enum(l, n, what, "mode", modes, TRUE);
        b->mode = m >= 0 ? mode_values[m] : -1;
        members = req(l, n, what, "members");
        b->members = conv_names(members ? members : "");
        if (conv_uint(l, n, what, "miimon", 0, 60000, &u))
                b->miimon = (int)u;
        b->lacp_rate = conv_enum(l, n, what, "lacp-rate", rates, FALSE);
        b->xmit_hash_policy = conv_enum(l, n, what, "xmit-hash-policy", hashes, FALSE);
        return b;
}

static void conv_host(Loader *l, xmlNode *n, VmnetPlan *plan)
{
        VmnetFleetHost *h = vmnet_fleet_host_new();
        g_autofree char *what = NULL;
        gboolean has;
        guint64 u;

        g_ptr_array_add(plan->hosts, h);
        h->line = line_of(n);
        h->name = req(l, n, "host", "name");
        what = g_strdup_printf("host '%s'", h->name ? h->name : "?");
        conv_addr(l, n, what, "underlay", &h->underlay, &has);
        h->underlay_dev = attr(n, "underlay-dev");
        if (conv_uint(l, n, what, "underlay-mtu", 68, 65535, &u))
                h->underlay_mtu = (guint)u;
        FOREACH_CHILD(c, n, "uplink-dev")
        {
                VmnetHostUplink *hu = vmnet_host_uplink_new();

                hu->line = line_of(c);
                hu->network = req(l, c, what, "network");
                hu->dev = req(l, c, what, "dev");
                g_ptr_array_add(h->uplinks, hu);
        }
        FOREACH_CHILD(c, n, "bond")
        g_ptr_array_add(h->bonds, conv_bond(l, c, plan));
}

static void conv_fleet_network(Loader *l, xmlNode *n, VmnetNetwork *net, const char *what)
{
        g_autofree char *hosts = attr(n, "hosts");
        guint64 u;

        if (hosts)
                net->hosts = conv_names(hosts);
        FOREACH_CHILD(c, n, "vxlan")
        {
                VmnetVxlan *vx;

                if (net->vxlan) /* the schema allows one; keep the first */
                        continue;
                vx = vmnet_vxlan_new();
                vx->line = line_of(c);
                g_free(req(l, c, what, "vni"));
                if (conv_uint(l, c, what, "vni", 1, 16777215, &u))
                        vx->vni = (guint32)u;
                if (conv_uint(l, c, what, "port", 1, 65535, &u))
                        vx->port = (guint16)u;
                vx->name = attr(c, "name");
                if (!vx->name)
                        vx->name = g_strdup_printf("vx%u", vx->vni);
                vx->gateway_host = attr(c, "gateway-host");
                net->vxlan = vx;
        }
}

/*
 * A boot file name (<boot bios= uefi=>): it goes into dnsmasq's dhcp-boot=
 * line and the 128-byte BOOTP file field, so only the characters of a
 * path on a TFTP server, and nothing dnsmasq would read as syntax.
 */
static char *conv_boot_file(Loader *l, xmlNode *n, const char *what, const char *name)
{
        g_autofree char *v = attr(n, name);
        gsize len = v ? strlen(v) : 0;
        gboolean ok = len > 0 && len <= 127 && v[0] != '-';

        for (gsize i = 0; ok && i < len; i++)
                ok = g_ascii_isalnum(v[i]) || strchr("._+/-", v[i]);
        if (v && !ok) {
                g_autofree char *shown = g_strescape(v, NULL);

                vmnet_diags_add(l->diags, l->file, line_of(n),
                                "%s: %s '%s' is not a boot file name (1-127 characters of A-Z a-z 0-9 . _ + / -, not starting with '-')",
                                what, name, shown);
                return NULL;
        }
        return g_steal_pointer(&v);
}

/* <route to= via=> and <static-route to= via=>. */
static VmnetRoute *conv_route(Loader *l, xmlNode *n, const char *what)
{
        VmnetRoute *r = vmnet_route_new();

        r->line = line_of(n);
        g_free(req(l, n, what, "to"));
        g_free(req(l, n, what, "via"));
        conv_prefix(l, n, what, "to", &r->to);
        conv_addr(l, n, what, "via", &r->via, NULL);
        return r;
}

static void conv_dhcp_item(Loader *l, xmlNode *n, const char *what, const char *name,
                           GPtrArray *into)
{
        VmnetDhcpItem *it = g_new0(VmnetDhcpItem, 1);

        it->line = line_of(n);
        g_free(req(l, n, what, name));
        if (g_str_equal(name, "domain"))
                it->name = conv_dns_name(l, n, what, name, "search domains", TRUE);
        else
                conv_addr(l, n, what, name, &it->addr, NULL);
        g_ptr_array_add(into, it);
}

/* <dhcp-options>: DNS and NTP servers, search domains, static routes, network boot. */
static void conv_dhcp_options(Loader *l, xmlNode *parent, VmnetDhcpOptions **slot,
                              const char *what)
{
        FOREACH_CHILD(n, parent, "dhcp-options")
        {
                g_autofree char *owhat = g_strdup_printf("%s dhcp-options", what);
                VmnetDhcpOptions *o = *slot ? *slot : (*slot = vmnet_dhcp_options_new());

                o->line = line_of(n);
                FOREACH_CHILD(c, n, "dns-server")
                conv_dhcp_item(l, c, owhat, "ip", o->dns_servers);
                FOREACH_CHILD(c, n, "search")
                conv_dhcp_item(l, c, owhat, "domain", o->search);
                FOREACH_CHILD(c, n, "ntp-server")
                conv_dhcp_item(l, c, owhat, "ip", o->ntp_servers);
                FOREACH_CHILD(c, n, "static-route")
                g_ptr_array_add(o->routes, conv_route(l, c, owhat));
                FOREACH_CHILD(c, n, "boot")
                {
                        g_autofree char *bwhat = g_strdup_printf("%s boot", owhat);

                        o->boot_line = line_of(c);
                        g_free(req(l, c, bwhat, "next-server"));
                        conv_addr(l, c, bwhat, "next-server", &o->next_server, NULL);
                        g_free(o->boot_bios);
                        g_free(o->boot_uefi);
                        o->boot_bios = conv_boot_file(l, c, bwhat, "bios");
                        o->boot_uefi = conv_boot_file(l, c, bwhat, "uefi");
                }
        }
}

static void conv_subnet(Loader *l, xmlNode *n, VmnetNetwork *net, const char *what)
{
        VmnetSubnet *s = vmnet_subnet_new();

        s->line = line_of(n);
        g_ptr_array_add(net->subnets, s);
        g_free(req(l, n, what, "cidr"));
        conv_prefix(l, n, what, "cidr", &s->cidr);
        conv_addr(l, n, what, "gateway", &s->gateway, &s->has_gateway);

        FOREACH_CHILD(d, n, "dhcp")
        {
                gboolean has_start, has_end;
                guint64 lease = 0;

                g_autofree char *dwhat = g_strdup_printf("%s dhcp", what);

                s->has_dhcp = TRUE;
                s->dhcp_line = line_of(d);
                g_free(req(l, d, dwhat, "start"));
                g_free(req(l, d, dwhat, "end"));
                conv_addr(l, d, dwhat, "start", &s->dhcp_start, &has_start);
                conv_addr(l, d, dwhat, "end", &s->dhcp_end, &has_end);
                if (conv_uint(l, d, dwhat, "lease", 60, 31536000, &lease))
                        s->lease_seconds = (guint)lease;
        }
        FOREACH_CHILD(r, n, "reservation")
        {
                VmnetReservation *res = vmnet_reservation_new();
                g_autofree char *rwhat = g_strdup_printf("%s reservation", what);

                res->line = line_of(r);
                g_free(req(l, r, rwhat, "mac"));
                g_free(req(l, r, rwhat, "ip"));
                conv_mac(l, r, rwhat, "mac", &res->mac);
                conv_addr(l, r, rwhat, "ip", &res->ip, NULL);
                res->name = conv_dns_name(l, r, rwhat, "name", "host names", FALSE);
                conv_dhcp_options(l, r, &res->dhcp_options, rwhat);
                g_ptr_array_add(s->reservations, res);
        }
}

static void conv_network(Loader *l, xmlNode *n, VmnetPlan *plan)
{
        VmnetNetwork *net = vmnet_network_new();
        g_autofree char *what = NULL;
        guint64 u;
        int b;

        static const char *const modes[] = { "bridged", "nat", "host-only", "isolated", "routed",
                                             NULL };
        int m;

        g_ptr_array_add(plan->networks, net);
        net->line = line_of(n);
        net->name = attr(n, "name");
        what = net->name ? g_strdup_printf("network '%s'", net->name) : g_strdup("network");
        if (!net->name)
                g_free(req(l, n, what, "name"));
        m = conv_enum(l, n, what, "mode", modes, TRUE);
        net->mode = m >= 0 ? (VmnetMode)vmnet_mode_from_string(modes[m]) : VMNET_MODE_ISOLATED;
        net->bridge = attr(n, "bridge");
        if (conv_uint(l, n, what, "mtu", 68, 65535, &u))
                net->mtu = (guint)u;
        net->stp = conv_bool(l, n, what, "stp");
        if (conv_uint(l, n, what, "forward-delay", 0, 30, &u))
                net->forward_delay = (int)u;
        net->has_mac = conv_mac(l, n, what, "mac", &net->mac);
        net->vlan_aware = conv_bool(l, n, what, "vlan-aware") == 1;
        net->adopt = conv_bool(l, n, what, "adopt") == 1;
        net->dns_domain = conv_dns_name(l, n, what, "domain", "DNS domains", TRUE);

        FOREACH_CHILD(c, n, "uplink")
        {
                VmnetUplink *up;

                if (net->uplink) /* the schema allows one; keep the first */
                        continue;
                up = vmnet_uplink_new();
                up->line = line_of(c);
                up->dev = req(l, c, what, "dev");
                up->vlan = conv_vlan(l, c, what);
                up->ifname = attr(c, "name");
                up->migrate_addresses = conv_bool(l, c, what, "migrate-addresses") == 1;
                net->uplink = up;
        }
        conv_fleet_network(l, n, net, what);
        FOREACH_CHILD(c, n, "subnet")
        conv_subnet(l, c, net, what);
        FOREACH_CHILD(c, n, "route")
        g_ptr_array_add(net->routes, conv_route(l, c, what));
        FOREACH_CHILD(c, n, "nat")
        {
                net->has_nat = TRUE;
                net->nat_line = line_of(c);
                /* The schema allows one <nat>; the converter also runs on plans that failed it. */
                if (!VMNET_MUTANT_IS(NAT_OUT_LEAK))
                        g_free(net->nat_out);
                net->nat_out = attr(c, "out");
                FOREACH_CHILD(f, c, "port-forward")
                {
                        static const char *const protos[] = { "tcp", "udp", NULL };
                        VmnetPortForward *pf = vmnet_port_forward_new();
                        int p = conv_enum(l, f, what, "proto", protos, TRUE);

                        pf->line = line_of(f);
                        pf->proto = p == 1 ? VMNET_PROTO_UDP : VMNET_PROTO_TCP;
                        g_free(req(l, f, what, "host-port"));
                        g_free(req(l, f, what, "to"));
                        if (conv_uint(l, f, what, "host-port", 1, 65535, &u))
                                pf->host_port = (guint16)u;
                        pf->to_port = pf->host_port;
                        if (conv_uint(l, f, what, "to-port", 1, 65535, &u))
                                pf->to_port = (guint16)u;
                        conv_addr(l, f, what, "to", &pf->to, NULL);
                        conv_addr(l, f, what, "host-ip", &pf->host_ip, &pf->has_host_ip);
                        g_ptr_array_add(net->forwards, pf);
                }
        }
        conv_security(l, n, what, &net->security);
        conv_dhcp_options(l, n, &net->dhcp_options, what);
        FOREACH_CHILD(c, n, "portgroup")
        {
                VmnetPortgroup *pg = vmnet_portgroup_new();
                g_autofree char *pgwhat = NULL;

                pg->line = line_of(c);
                pg->name = req(l, c, what, "name");
                pgwhat = g_strdup_printf("%s portgroup '%s'", what, pg->name ? pg->name : "?");
                b = conv_bool(l, c, pgwhat, "default");
                pg->is_default = b == 1;
                pg->vlan = conv_vlan(l, c, pgwhat);
                conv_trunk(l, c, pgwhat, pg);
                pg->has_bandwidth = conv_bandwidth(l, c, pgwhat, &pg->bandwidth);
                conv_security(l, c, pgwhat, &pg->security);
                pg->mirror = conv_mirror(l, c, pgwhat);
                g_ptr_array_add(net->portgroups, pg);
        }
}

static void conv_domain(Loader *l, xmlNode *n, VmnetPlan *plan)
{
        VmnetDomain *dom = vmnet_domain_new();
        guint idx = 0;

        g_ptr_array_add(plan->domains, dom);
        dom->line = line_of(n);
        dom->name = req(l, n, "domain", "name");
        if (!dom->name)
                dom->name = g_strdup("?");
        dom->host = attr(n, "host");

        FOREACH_CHILD(c, n, "interface")
        {
                static const char *const models[] = { "virtio", "e1000e", "e1000", "rtl8139", NULL };
                VmnetInterface *ifc = vmnet_interface_new();
                g_autofree char *what = g_strdup_printf("domain '%s' interface %u", dom->name, ++idx);
                guint64 q;
                int m;

                ifc->line = line_of(c);
                ifc->network = req(l, c, what, "network");
                ifc->portgroup = attr(c, "portgroup");
                ifc->has_mac = conv_mac(l, c, what, "mac", &ifc->mac);
                m = conv_enum(l, c, what, "model", models, FALSE);
                if (m >= 0)
                        ifc->model = g_strdup(models[m]);
                if (conv_uint(l, c, what, "queues", 1, 256, &q))
                        ifc->queues = (guint)q;
                conv_addr(l, c, what, "ip", &ifc->ip, &ifc->has_ip);
                ifc->has_bandwidth = conv_bandwidth(l, c, what, &ifc->bandwidth);
                conv_security(l, c, what, &ifc->security);
                ifc->mirror = conv_mirror(l, c, what);
                g_ptr_array_add(dom->interfaces, ifc);
        }
}

static void conv_policy(Loader *l, xmlNode *n, VmnetPlan *plan)
{
        /* <allow> and <allow-host> in document order: one list, told apart by to_host */
        for (xmlNode *c = n->children; c; c = c->next) {
                static const char *const protos[] = { "any", "tcp", "udp", NULL };
                static const VmnetProto proto_values[] = { VMNET_PROTO_ANY, VMNET_PROTO_TCP,
                                                           VMNET_PROTO_UDP };
                gboolean host = is_el(c, "allow-host");
                const char *what = host ? "policy allow-host" : "policy allow";
                VmnetAllow *a;
                guint64 port;
                int p;

                if (!host && !is_el(c, "allow"))
                        continue;
                a = vmnet_allow_new();
                a->line = line_of(c);
                a->to_host = host;
                a->from = req(l, c, what, "from");
                if (!host)
                        a->to = req(l, c, what, "to");
                p = conv_enum(l, c, what, "proto", protos, FALSE);
                a->proto = p >= 0 ? proto_values[p] : VMNET_PROTO_ANY;
                if (conv_uint(l, c, what, "port", 1, 65535, &port))
                        a->port = (guint16)port;
                g_ptr_array_add(plan->allows, a);
        }
}

static VmnetPlan *convert(Loader *l, xmlDoc *doc)
{
        xmlNode *root = xmlDocGetRootElement(doc);
        g_autoptr(VmnetPlan) plan = vmnet_plan_new(l->file);

        plan->name = req(l, root, "plan", "name");
        plan->line = line_of(root);
        for (xmlNode *c = root->children; c; c = c->next) {
                if (is_el(c, "network"))
                        conv_network(l, c, plan);
                else if (is_el(c, "domain"))
                        conv_domain(l, c, plan);
                else if (is_el(c, "policy"))
                        conv_policy(l, c, plan);
                else if (is_el(c, "host"))
                        conv_host(l, c, plan);
                else if (is_el(c, "bond"))
                        conv_bond(l, c, plan);
        }
        vmnet_plan_finalize(plan);
        return g_steal_pointer(&plan);
}

/* ---------------------------------------------------- unknown names, precisely */

/*
 * Inside an <interleave> libxml2's validator loses the real error: a typo in
 * an attribute of <uplink> comes out as "Extra element uplink in interleave",
 * with no line. So when a plan fails the schema, what each element allows is
 * read from the schema itself, and every attribute or child it does not
 * allow is named, with its line and what is allowed instead.
 */
#define RNG_NS "http://relaxng.org/ns/structure/1.0"

typedef struct {
        GPtrArray *attrs;    /* names, in schema order */
        GPtrArray *children; /* element names, in schema order */
} Allowed;

static void allowed_free(gpointer p)
{
        Allowed *a = p;

        g_ptr_array_unref(a->attrs);
        g_ptr_array_unref(a->children);
        g_free(a);
}

static gboolean is_rng(const xmlNode *n, const char *name)
{
        return is_ns_el(n, RNG_NS, name);
}

static gboolean names_contain(const GPtrArray *names, const char *name)
{
        for (guint i = 0; i < names->len; i++)
                if (g_str_equal(g_ptr_array_index(names, i), name))
                        return TRUE;
        return FALSE;
}

static void names_add(GPtrArray *names, xmlNode *n)
{
        g_autoptr(VmnetXmlStr) name = xmlGetNoNsProp(n, (const xmlChar *)"name");

        if (name && !names_contain(names, (const char *)name))
                g_ptr_array_add(names, g_strdup((const char *)name));
}

/* What a pattern allows at the level of one element: stops at nested elements and attributes. */
static void collect_allowed(xmlNode *pattern, GHashTable *defines, GHashTable *seen, Allowed *a)
{
        for (xmlNode *n = pattern->children; n; n = n->next) {
                if (n->type != XML_ELEMENT_NODE)
                        continue;
                if (is_rng(n, "attribute")) {
                        names_add(a->attrs, n);
                } else if (is_rng(n, "element")) {
                        names_add(a->children, n);
                } else if (is_rng(n, "ref")) {
                        g_autoptr(VmnetXmlStr) ref = xmlGetNoNsProp(n, (const xmlChar *)"name");
                        xmlNode *def = ref ? g_hash_table_lookup(defines, ref) : NULL;

                        if (def && g_hash_table_add(seen, def))
                                collect_allowed(def, defines, seen, a);
                } else {
                        collect_allowed(n, defines, seen, a);
                }
        }
}

static void index_schema(xmlNode *n, GHashTable *defines, GPtrArray *elements)
{
        for (; n; n = n->next) {
                if (is_rng(n, "define"))
                        g_hash_table_insert(defines, xmlGetNoNsProp(n, (const xmlChar *)"name"), n);
                else if (is_rng(n, "element"))
                        g_ptr_array_add(elements, n);
                if (n->type == XML_ELEMENT_NODE)
                        index_schema(n->children, defines, elements);
        }
}

/* element name -> Allowed* */
static GHashTable *schema_outline(xmlDoc *schema)
{
        GHashTable *outline = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, allowed_free);
        g_autoptr(GHashTable) defines = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                              (GDestroyNotify)vmnet_xml_free, NULL);
        g_autoptr(GPtrArray) elements = g_ptr_array_new();

        index_schema(xmlDocGetRootElement(schema), defines, elements);
        for (guint i = 0; i < elements->len; i++) {
                xmlNode *el = g_ptr_array_index(elements, i);
                g_autoptr(VmnetXmlStr) name = xmlGetNoNsProp(el, (const xmlChar *)"name");
                g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
                Allowed *a;

                if (!name)
                        continue;
                /* The same name defined twice: what either allows. */
                if (!(a = g_hash_table_lookup(outline, name))) {
                        a = g_new0(Allowed, 1);
                        /* NULL-terminated, to be joined for the messages */
                        a->attrs = g_ptr_array_new_null_terminated(0, g_free, TRUE);
                        a->children = g_ptr_array_new_null_terminated(0, g_free, TRUE);
                        g_hash_table_insert(outline, g_strdup((const char *)name), a);
                }
                collect_allowed(el, defines, seen, a);
        }
        return outline;
}

static void report_unknown_in(Loader *l, xmlNode *node, GHashTable *outline)
{
        const Allowed *a = g_hash_table_lookup(outline, node->name);

        if (!a)
                return;
        for (xmlAttr *at = node->properties; at; at = at->next) {
                g_autofree char *list = NULL;

                if (at->ns || names_contain(a->attrs, (const char *)at->name))
                        continue;
                list = g_strjoinv(", ", (char **)a->attrs->pdata);
                vmnet_diags_add(l->diags, l->file, line_of(node),
                                "<%s>: unknown attribute %s= (%s takes %s)", (const char *)node->name,
                                (const char *)at->name, (const char *)node->name,
                                a->attrs->len ? list : "none");
        }
        for (xmlNode *c = node->children; c; c = c->next) {
                g_autofree char *list = NULL;

                if (c->type != XML_ELEMENT_NODE)
                        continue;
                if (!is_el(c, (const char *)c->name)) {
                        const char *prefix = c->ns && c->ns->prefix ? (const char *)c->ns->prefix : NULL;

                        vmnet_diags_add(l->diags, l->file, line_of(c),
                                        "<%s%s%s> in <%s> is not in the plan's namespace (%s)",
                                        prefix ? prefix : "", prefix ? ":" : "",
                                        (const char *)c->name, (const char *)node->name,
                                        VMNET_PLAN_NS);
                        continue;
                }
                if (names_contain(a->children, (const char *)c->name)) {
                        report_unknown_in(l, c, outline);
                        continue;
                }
                list = g_strjoinv(", ", (char **)a->children->pdata);
                vmnet_diags_add(l->diags, l->file, line_of(c),
                                "<%s> is not allowed in <%s> (%s takes %s)", (const char *)c->name,
                                (const char *)node->name, (const char *)node->name,
                                a->children->len ? list : "no elements");
        }
}

static void report_unknown(Loader *l, xmlDoc *doc)
{
        gsize len;
        const char *text = vmnet_plan_schema_text(&len);
        g_autoptr(xmlDoc) schema = xmlReadMemory(text, (int)len, "vmnet-plan.rng", NULL,
                                                 XML_PARSE_NONET | XML_PARSE_NOBLANKS);
        g_autoptr(GHashTable) outline = NULL;

        if (!schema)
                return;
        outline = schema_outline(schema);
        report_unknown_in(l, xmlDocGetRootElement(doc), outline);
}

/* ---------------------------------------------------------------- entry points */

VmnetPlan *vmnet_plan_load_data(const char *data, gsize len, const char *filename,
                                VmnetDiags *diags, GError **error)
{
        g_autofree char *file = g_strdup(!filename || g_str_equal(filename, "-") ? "<stdin>"
                                                                                  : filename);
        g_autoptr(VmnetDiags) schema_diags = vmnet_diags_new();
        Loader l = { .file = file, .diags = diags, .schema_diags = schema_diags };
        guint before = vmnet_diags_count(diags);
        g_autoptr(xmlDoc) doc = parse_xml(&l, data, len);
        g_autoptr(VmnetPlan) plan = NULL;
        gboolean schema_ok;

        if (!doc) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_PARSE, "%s: cannot read the plan", file);
                return NULL;
        }
        schema_ok = validate_schema(&l, doc);
        /* The converter copes with any tree, so it also explains schema failures. */
        if (!schema_ok && !is_el(xmlDocGetRootElement(doc), "plan")) {
                merge_schema_diags(&l, 0);
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_SCHEMA,
                            "%s: the plan does not match the vmnet plan schema", file);
                return NULL;
        }
        plan = convert(&l, doc);
        if (!schema_ok) {
                report_unknown(&l, doc);
                merge_schema_diags(&l, vmnet_diags_count(diags) - before);
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_SCHEMA,
                            "%s: the plan does not match the vmnet plan schema", file);
                return NULL;
        }
        if (vmnet_diags_count(diags) > before) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_INVALID, "%s: invalid plan", file);
                return NULL;
        }
        plan->source = g_bytes_new(data, len);
        return g_steal_pointer(&plan);
}

static gboolean read_all(const char *path, char **out, gsize *out_len, GError **error)
{
        g_autoptr(GString) buf = g_string_new(NULL);
        FILE *f;
        char chunk[65536];
        size_t n;

        if (!g_str_equal(path, "-")) {
                GStatBuf st;

                if (g_stat(path, &st) == 0 && st.st_size > VMNET_PLAN_MAX_BYTES) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_PARSE,
                                    "%s: plan is larger than %d bytes", path, VMNET_PLAN_MAX_BYTES);
                        return FALSE;
                }
                f = fopen(path, "rb");
        } else {
                f = stdin;
        }
        if (!f) {
                int e = errno;

                g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "%s: %s", path, g_strerror(e));
                return FALSE;
        }
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
                g_string_append_len(buf, chunk, (gssize)n);
                if (buf->len > VMNET_PLAN_MAX_BYTES)
                        break;
        }
        if (ferror(f)) {
                int e = errno;

                if (f != stdin)
                        fclose(f);
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "%s: %s", path, g_strerror(e));
                return FALSE;
        }
        if (f != stdin)
                fclose(f);
        if (buf->len > VMNET_PLAN_MAX_BYTES) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_PARSE, "%s: plan is larger than %d bytes",
                            g_str_equal(path, "-") ? "<stdin>" : path, VMNET_PLAN_MAX_BYTES);
                return FALSE;
        }
        *out_len = buf->len;
        *out = g_string_free(g_steal_pointer(&buf), FALSE);
        return TRUE;
}

VmnetPlan *vmnet_plan_load_file(const char *path, VmnetDiags *diags, GError **error)
{
        g_autofree char *data = NULL;
        gsize len = 0;

        if (!read_all(path, &data, &len, error))
                return NULL;
        return vmnet_plan_load_data(data, len, path, diags, error);
}
