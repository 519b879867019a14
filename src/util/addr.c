/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "util/addr.h"

gboolean vmnet_addr_parse(const char *s, VmnetAddr *out)
{
        VmnetAddr a = { 0 };

        if (!s)
                return FALSE;
        if (strchr(s, ':')) {
                if (inet_pton(AF_INET6, s, a.bytes) != 1)
                        return FALSE;
                a.family = AF_INET6;
        } else {
                /* inet_pton(AF_INET) accepts only dotted quads: no "10.1", no octal. */
                if (inet_pton(AF_INET, s, a.bytes) != 1)
                        return FALSE;
                a.family = AF_INET;
        }
        *out = a;
        return TRUE;
}

guint vmnet_addr_len(const VmnetAddr *a)
{
        return a->family == AF_INET6 ? 16 : 4;
}

char *vmnet_addr_to_string(const VmnetAddr *a)
{
        char buf[INET6_ADDRSTRLEN];

        if (a->family != AF_INET && a->family != AF_INET6)
                return g_strdup("(none)");
        inet_ntop(a->family, a->bytes, buf, sizeof(buf));
        return g_strdup(buf);
}

int vmnet_addr_cmp(const VmnetAddr *a, const VmnetAddr *b)
{
        if (a->family != b->family)
                return a->family < b->family ? -1 : 1;
        return memcmp(a->bytes, b->bytes, vmnet_addr_len(a));
}

gboolean vmnet_addr_equal(const VmnetAddr *a, const VmnetAddr *b)
{
        return vmnet_addr_cmp(a, b) == 0;
}

guint vmnet_addr_hash(const VmnetAddr *a)
{
        guint h = (guint)a->family;

        for (guint i = 0; i < vmnet_addr_len(a); i++)
                h = h * 31 + a->bytes[i];
        return h;
}

void vmnet_addr_add(VmnetAddr *a, gint64 delta)
{
        guint len = vmnet_addr_len(a);
        guint64 mag = delta < 0 ? (guint64)(-(delta + 1)) + 1 : (guint64)delta;
        int carry = 0;

        for (int i = (int)len - 1; i >= 0; i--) {
                int d = (int)(mag & 0xff) + carry;
                int v;

                mag >>= 8;
                if (delta < 0) {
                        v = a->bytes[i] - d;
                        carry = v < 0;
                        a->bytes[i] = (guint8)(v + (carry ? 256 : 0));
                } else {
                        v = a->bytes[i] + d;
                        carry = v > 255;
                        a->bytes[i] = (guint8)(v & 0xff);
                }
                if (!mag && !carry)
                        break;
        }
}

gboolean vmnet_addr_mask(VmnetAddr *a, guint prefix)
{
        guint len = vmnet_addr_len(a);
        gboolean had = FALSE;

        for (guint i = 0; i < len; i++) {
                guint bit0 = i * 8;
                guint8 mask;

                if (bit0 + 8 <= prefix)
                        continue;
                mask = bit0 >= prefix ? 0 : (guint8)(0xff << (8 - (prefix - bit0)));
                if (a->bytes[i] & ~mask)
                        had = TRUE;
                a->bytes[i] &= mask;
        }
        return had;
}

gboolean vmnet_prefix_parse(const char *s, VmnetPrefix *out, gboolean *had_host_bits)
{
        g_autofree char *copy = NULL;
        char *slash;
        guint64 len;
        VmnetPrefix p = { 0 };
        gboolean had = FALSE;

        if (had_host_bits)
                *had_host_bits = FALSE;
        if (!s)
                return FALSE;
        copy = g_strdup(s);
        slash = strchr(copy, '/');
        if (!slash || !slash[1])
                return FALSE;
        *slash = '\0';
        if (!vmnet_addr_parse(copy, &p.addr))
                return FALSE;
        /* Digits only (no sign, no space); a saturated overflow is out of range too. */
        if (!g_ascii_isdigit(slash[1]) ||
            !g_ascii_string_to_unsigned(slash + 1, 10, 0, vmnet_addr_len(&p.addr) * 8, &len, NULL))
                return FALSE;
        p.prefix = (guint)len;
        had = vmnet_addr_mask(&p.addr, p.prefix);
        if (had_host_bits)
                *had_host_bits = had;
        *out = p;
        return TRUE;
}

char *vmnet_prefix_to_string(const VmnetPrefix *p)
{
        g_autofree char *a = vmnet_addr_to_string(&p->addr);

        return g_strdup_printf("%s/%u", a, p->prefix);
}

gboolean vmnet_prefix_contains(const VmnetPrefix *p, const VmnetAddr *a)
{
        VmnetAddr masked = *a;

        if (a->family != p->addr.family)
                return FALSE;
        vmnet_addr_mask(&masked, p->prefix);
        return vmnet_addr_equal(&masked, &p->addr);
}

gboolean vmnet_prefix_overlaps(const VmnetPrefix *a, const VmnetPrefix *b)
{
        if (a->addr.family != b->addr.family)
                return FALSE;
        return a->prefix <= b->prefix ? vmnet_prefix_contains(a, &b->addr)
                                      : vmnet_prefix_contains(b, &a->addr);
}

void vmnet_prefix_last(const VmnetPrefix *p, VmnetAddr *out)
{
        VmnetAddr m;
        guint len = vmnet_addr_len(&p->addr);

        vmnet_prefix_netmask(p, &m);
        *out = p->addr;
        for (guint i = 0; i < len; i++)
                out->bytes[i] |= (guint8)~m.bytes[i];
}

void vmnet_prefix_netmask(const VmnetPrefix *p, VmnetAddr *out)
{
        guint len = vmnet_addr_len(&p->addr);

        memset(out, 0, sizeof(*out));
        out->family = p->addr.family;
        for (guint i = 0; i < len; i++) {
                guint bit0 = i * 8;

                if (bit0 + 8 <= p->prefix)
                        out->bytes[i] = 0xff;
                else if (bit0 < p->prefix)
                        out->bytes[i] = (guint8)(0xff << (8 - (p->prefix - bit0)));
        }
}

guint64 vmnet_prefix_size(const VmnetPrefix *p)
{
        guint host_bits = vmnet_addr_len(&p->addr) * 8 - p->prefix;

        return host_bits >= 64 ? G_MAXUINT64 : (G_GUINT64_CONSTANT(1) << host_bits);
}

gboolean vmnet_mac_parse(const char *s, VmnetMac *out)
{
        VmnetMac m;

        if (!s || strlen(s) != 17)
                return FALSE;
        for (int i = 0; i < 6; i++) {
                int hi = g_ascii_xdigit_value(s[i * 3]);
                int lo = g_ascii_xdigit_value(s[i * 3 + 1]);

                if (hi < 0 || lo < 0)
                        return FALSE;
                if (i < 5 && s[i * 3 + 2] != ':')
                        return FALSE;
                m.b[i] = (guint8)(hi << 4 | lo);
        }
        *out = m;
        return TRUE;
}

char *vmnet_mac_to_string(const VmnetMac *m)
{
        return g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", m->b[0], m->b[1], m->b[2], m->b[3],
                               m->b[4], m->b[5]);
}

gboolean vmnet_mac_is_zero(const VmnetMac *m)
{
        static const VmnetMac zero;

        return memcmp(m, &zero, sizeof(zero)) == 0;
}

gboolean vmnet_mac_is_multicast(const VmnetMac *m)
{
        return (m->b[0] & 0x01) != 0;
}

gboolean vmnet_mac_equal(const VmnetMac *a, const VmnetMac *b)
{
        return memcmp(a->b, b->b, 6) == 0;
}

/* "contains ','": which character a name may not have. */
static const char *contains(unsigned char c)
{
        char why[32];

        if (c == ' ')
                return "contains a space";
        if (c > 0x20 && c < 0x7f)
                g_snprintf(why, sizeof(why), "contains '%c'", c);
        else
                g_snprintf(why, sizeof(why), "contains the byte 0x%02x", c);
        /* At most 256 different strings, kept for the life of the process. */
        return g_intern_string(why);
}

/* Why name has a character other than A-Z a-z 0-9 _ . -, or NULL. */
static const char *outside_name_chars(const char *name)
{
        for (const char *p = name; *p; p++) {
                unsigned char c = (unsigned char)*p;

                if (g_ascii_isalnum(c) || c == '_' || c == '.' || c == '-')
                        continue;
                return contains(c);
        }
        return NULL;
}

const char *vmnet_ifname_invalid_reason(const char *name)
{
        size_t len;

        if (!name || !*name)
                return "is empty";
        len = strlen(name);
        if (len >= VMNET_IFNAMSIZ)
                return "is longer than 15 bytes";
        if (g_str_equal(name, ".") || g_str_equal(name, ".."))
                return "may not be '.' or '..'";
        /*
         * An allow-list, not the kernel's deny-list: the name also goes into
         * dnsmasq's interface= (where ',' separates names, '*' is a wildcard
         * and '#' starts a comment), nftables' iifname (where a trailing '*'
         * is a wildcard in the text form) and paths.
         */
        return outside_name_chars(name);
}

const char *vmnet_netns_name_invalid_reason(const char *name)
{
        if (!name || !*name)
                return "is empty";
        if (strlen(name) > VMNET_NETNS_NAME_MAX)
                return "is longer than 64 characters";
        if (name[0] == '.')
                return "starts with '.'";
        if (name[0] == '-')
                return "starts with '-'";
        return outside_name_chars(name);
}

const char *vmnet_dns_name_invalid_reason(const char *name, gboolean underscore)
{
        gsize len, label = 0;

        if (!name || !*name)
                return "is empty";
        len = strlen(name);
        if (len > 253)
                return "is longer than 253 characters";
        for (gsize i = 0; i <= len; i++) {
                char c = name[i];

                if (c == '.' || c == '\0') {
                        if (label == 0)
                                return "has an empty label";
                        if (label > 63)
                                return "has a label longer than 63 characters";
                        if (name[i - 1] == '-' || name[i - label] == '-')
                                return "has a label that starts or ends with '-'";
                        label = 0;
                } else if (g_ascii_isalnum(c) || c == '-' || (underscore && c == '_')) {
                        label++;
                } else {
                        return contains((unsigned char)c);
                }
        }
        return NULL;
}

typedef struct {
        const char *unit;
        guint64 mult; /* base units (bits/s, bytes) per unit */
} Unit;

/* A number followed by one of units (case-insensitive), multiplied out. */
static VmnetRateStatus parse_with_unit(const char *s, const Unit *units, gsize n_units,
                                       guint64 *out)
{
        char *end;
        guint64 n;
        gboolean overflow;

        if (!s || !g_ascii_isdigit(*s))
                return VMNET_RATE_MALFORMED;
        errno = 0;
        n = g_ascii_strtoull(s, &end, 10);
        /* strtoull saturates at G_MAXUINT64 and only says so in errno. */
        overflow = errno == ERANGE;
        for (gsize i = 0; i < n_units; i++) {
                if (g_ascii_strcasecmp(end, units[i].unit) != 0)
                        continue;
                if (overflow || n > G_MAXUINT64 / units[i].mult)
                        return VMNET_RATE_OVERFLOW;
                if (n == 0)
                        return VMNET_RATE_ZERO;
                *out = n * units[i].mult;
                return VMNET_RATE_OK;
        }
        return VMNET_RATE_MALFORMED;
}

VmnetRateStatus vmnet_rate_parse_status(const char *s, guint64 *bps)
{
        static const Unit units[] = {
                { "", 1 },
                { "bit", 1 },
                { "kbit", 1000ULL },
                { "mbit", 1000ULL * 1000 },
                { "gbit", 1000ULL * 1000 * 1000 },
                { "tbit", 1000ULL * 1000 * 1000 * 1000 },
                { "bps", 8 },
                { "kbps", 8ULL * 1000 },
                { "mbps", 8ULL * 1000 * 1000 },
                { "gbps", 8ULL * 1000 * 1000 * 1000 },
                { "tbps", 8ULL * 1000 * 1000 * 1000 * 1000 },
        };

        return parse_with_unit(s, units, G_N_ELEMENTS(units), bps);
}

VmnetRateStatus vmnet_size_parse_status(const char *s, guint64 *bytes)
{
        static const Unit units[] = {
                { "", 1 },      { "b", 1 },
                { "k", 1024 },  { "kb", 1024 },
                { "m", 1024 * 1024 }, { "mb", 1024 * 1024 },
                { "g", 1024 * 1024 * 1024 }, { "gb", 1024 * 1024 * 1024 },
        };

        return parse_with_unit(s, units, G_N_ELEMENTS(units), bytes);
}

gboolean vmnet_rate_parse(const char *s, guint64 *bps)
{
        return vmnet_rate_parse_status(s, bps) == VMNET_RATE_OK;
}


guint64 vmnet_rate_to_libvirt_kib(guint64 bps)
{
        /*
         * libvirt documents "kilobytes per second" and hands the number to tc
         * as "kbps", which tc reads as 1000 bytes per second (measured: /1024
         * shaped 100mbit to 97664Kbit). Rounded up, so a limit never becomes
         * unlimited (0).
         */
        guint64 kb = bps / 8000 + ((bps % 8000) ? 1 : 0);

        return kb ? kb : 1;
}
