/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <sys/socket.h>

/* An IPv4 or IPv6 address in network byte order. family is AF_INET or AF_INET6, 0 = unset. */
typedef struct {
        int family;
        guint8 bytes[16];
} VmnetAddr;

typedef struct {
        VmnetAddr addr; /* always the network address: host bits are zero */
        guint prefix;
} VmnetPrefix;

typedef struct {
        guint8 b[6];
} VmnetMac;

#define VMNET_IFNAMSIZ 16 /* IFNAMSIZ, including the terminating NUL */

gboolean vmnet_addr_parse(const char *s, VmnetAddr *out);
/* Address length in bytes: 4 or 16. */
guint vmnet_addr_len(const VmnetAddr *a);
/* Caller frees. */
char *vmnet_addr_to_string(const VmnetAddr *a);
int vmnet_addr_cmp(const VmnetAddr *a, const VmnetAddr *b);
gboolean vmnet_addr_equal(const VmnetAddr *a, const VmnetAddr *b);
/* For hash tables: equal addresses (vmnet_addr_equal()) hash alike. */
guint vmnet_addr_hash(const VmnetAddr *a);
/* Clears the bits of a after the first prefix; TRUE when some were set. */
gboolean vmnet_addr_mask(VmnetAddr *a, guint prefix);
/* Adds delta (may be negative) treating the address as a big unsigned integer; wraps. */
void vmnet_addr_add(VmnetAddr *a, gint64 delta);

/*
 * Parses "a.b.c.d/len" or "x::/len". If strict, host bits must be zero;
 * otherwise they are cleared. Returns FALSE with *had_host_bits set when
 * strict parsing failed only because of host bits.
 */
gboolean vmnet_prefix_parse(const char *s, VmnetPrefix *out, gboolean *had_host_bits);
char *vmnet_prefix_to_string(const VmnetPrefix *p);
gboolean vmnet_prefix_contains(const VmnetPrefix *p, const VmnetAddr *a);
gboolean vmnet_prefix_overlaps(const VmnetPrefix *a, const VmnetPrefix *b);
/* The last address of the prefix (the IPv4 broadcast address). */
void vmnet_prefix_last(const VmnetPrefix *p, VmnetAddr *out);
/* The netmask as an address (IPv4: 255.255.255.0). */
void vmnet_prefix_netmask(const VmnetPrefix *p, VmnetAddr *out);
/* Number of addresses in the prefix, saturating at G_MAXUINT64. */
guint64 vmnet_prefix_size(const VmnetPrefix *p);

/* "52:54:00:12:34:56" (also accepts upper case). */
gboolean vmnet_mac_parse(const char *s, VmnetMac *out);
char *vmnet_mac_to_string(const VmnetMac *m);
gboolean vmnet_mac_is_zero(const VmnetMac *m);
gboolean vmnet_mac_is_multicast(const VmnetMac *m);
gboolean vmnet_mac_equal(const VmnetMac *a, const VmnetMac *b);

/*
 * An interface name vmnet accepts: 1..15 bytes of A-Z a-z 0-9 _ . -, not "."
 * or "..". Narrower than the kernel's rules (net/core/dev.c dev_valid_name():
 * no '/', ':' or white space) because the name is also written into dnsmasq's
 * configuration, nftables rules and file names. Returns NULL when valid, or
 * a static string saying why not.
 */
const char *vmnet_ifname_invalid_reason(const char *name);

/*
 * A network namespace name vmnet accepts (--netns): 1..VMNET_NETNS_NAME_MAX
 * characters of A-Z a-z 0-9 _ . -, not starting with '.' or '-'. The name
 * is a file under /run/netns and part of vmnet's own file names
 * (lock.netns-NAME, netns-NAME/): no separators, no "." or "..", nothing a
 * shell or ip(8) would take for something else. NULL when valid, else a
 * static string saying why not.
 */
#define VMNET_NETNS_NAME_MAX 64
const char *vmnet_netns_name_invalid_reason(const char *name);

/*
 * A DNS name that may be written into dnsmasq's configuration: labels of
 * A-Z a-z 0-9 and '-' (and '_' when underscore, as in domain names such as
 * _tcp.lab), not starting or ending with '-', 1-63 characters each, separated
 * by single dots, at most 253 characters. NULL when valid, else a static
 * string saying why not.
 */
const char *vmnet_dns_name_invalid_reason(const char *name, gboolean underscore);

/*
 * A rate such as "100mbit", "1gbit", "500kbit", "10mbps" (tc(8) units:
 * bit/kbit/mbit/gbit/tbit are bits per second with SI multipliers,
 * bps/kbps/mbps/gbps/tbps are bytes per second). A bare number is bits/s.
 */
gboolean vmnet_rate_parse(const char *s, guint64 *bits_per_second);

typedef enum {
        VMNET_RATE_OK,
        VMNET_RATE_MALFORMED, /* not digits followed by one of the units */
        VMNET_RATE_ZERO,
        VMNET_RATE_OVERFLOW,  /* more than G_MAXUINT64 bits per second, unit applied */
} VmnetRateStatus;

/* As vmnet_rate_parse(), saying why a rate is refused; *bits_per_second is set only on OK. */
VmnetRateStatus vmnet_rate_parse_status(const char *s, guint64 *bits_per_second);
/*
 * A size such as "256kb", "1mb", "1500b" or "64k" (tc(8) size units:
 * b, k/kb, m/mb, g/gb, multiples of 1024, case-insensitive); a bare number
 * is bytes. Same statuses as rates; *bytes is set only on OK.
 */
VmnetRateStatus vmnet_size_parse_status(const char *s, guint64 *bytes);
/* libvirt's <bandwidth average=> unit: kB/s as tc reads it (1000 bytes/s), rounded up, at least 1. */
guint64 vmnet_rate_to_libvirt_kib(guint64 bits_per_second);
