/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The nftables IR: the one description of vmnet's tables that both
 * outputs are made from: `table inet vmnet` (forward, input and NAT policy)
 * and, when the plan has guest ports, `table bridge vmnet` (anti-spoofing
 * per guest port: the inet family never sees bridged frames). The bridge
 * table is the inet IR's `bridge` member, so one IR is one transaction.
 *
 *   plan --vmnet_nft_ir_from_plan()--> IR --vmnet_nft_ir_to_text()--> `nft -f` script
 *                                        \--src/nftables/encode.c---> libnftnl batch
 *
 * The vocabulary is deliberately small: a handful of selectors (what a rule
 * looks at), four kinds of match (compare, prefix, flag test, set lookup)
 * and six statements (accept, drop, masquerade, dnat through a map, and
 * two rejects: tcp reset, icmpx admin-prohibited). Each
 * has exactly one textual form and one expression sequence, chosen to be
 * what nft 1.0.6 itself generates from that text, so a table applied
 * through netlink and the same table loaded with `nft -f` are identical in
 * the kernel (tests/netns/check-nft-netns.c proves it).
 *
 * Rules state their dependencies explicitly: a rule that looks at `ip saddr`
 * starts with `meta nfproto ipv4`. nft would add that match implicitly; the
 * IR spells it out so the netlink side never has to guess what nft infers.
 */

#include <glib.h>

#include "ipam/ipam.h"
#include "model/model.h"
#include "util/addr.h"

#define VMNET_NFT_TABLE "vmnet"  /* table inet vmnet and table bridge vmnet: the only tables vmnet touches */

typedef enum {
        VMNET_NFT_FAMILY_INET,
        VMNET_NFT_FAMILY_BRIDGE,
} VmnetNftFamily;

/* "inet" / "bridge" */
const char *vmnet_nft_family_name(VmnetNftFamily f);
/* NFPROTO_INET / NFPROTO_BRIDGE */
guint32 vmnet_nft_family_nfproto(VmnetNftFamily f);
#define VMNET_NFT_MAX_CONCAT 4   /* most fields in one concatenation */

/* Value types of set keys, map data and compared values, as nft names them. */
typedef enum {
        VMNET_NFT_DT_IFNAME,       /* "ifname": 16 bytes, NUL padded */
        VMNET_NFT_DT_IPV4_ADDR,    /* "ipv4_addr": 4 bytes, network order */
        VMNET_NFT_DT_IPV6_ADDR,    /* "ipv6_addr": 16 bytes, network order */
        VMNET_NFT_DT_INET_PROTO,   /* "inet_proto": 1 byte */
        VMNET_NFT_DT_INET_SERVICE, /* "inet_service": 2 bytes, network order */
        VMNET_NFT_DT_NFPROTO,      /* meta nfproto: 1 byte (NFPROTO_IPV4/IPV6) */
        VMNET_NFT_DT_FIB_ADDRTYPE, /* fib ... type: 4 bytes host order (RTN_*) */
        VMNET_NFT_DT_CT_STATE,     /* ct state bits: 4 bytes host order */
        VMNET_NFT_DT_CT_STATUS,    /* ct status bits: 4 bytes host order */
        VMNET_NFT_DT_ETHER_ADDR,   /* "ether_addr": 6 bytes */
        VMNET_NFT_DT_ETHER_TYPE,   /* "ether_type": 2 bytes, network order */
        VMNET_NFT_DT_ICMPV6_TYPE,  /* "icmpv6_type": 1 byte */
} VmnetNftDatatype;

typedef struct {
        VmnetNftDatatype type;
        char ifname[VMNET_IFNAMSIZ]; /* IFNAME */
        VmnetAddr addr;              /* IPV4_ADDR / IPV6_ADDR */
        guint prefix;                /* IPV4_ADDR / IPV6_ADDR: addr/prefix, a range in an interval set's key;
                                      * else the whole address */
        VmnetMac mac;                /* ETHER_ADDR */
        guint32 num;                 /* INET_PROTO (6/17), INET_SERVICE (host order), NFPROTO (2/10), FIB_ADDRTYPE (RTN_*),
                                        ETHER_TYPE (host order), ICMPV6_TYPE */
} VmnetNftValue;

/* What a rule looks at. */
typedef enum {
        VMNET_NFT_SEL_IIFNAME,        /* iifname */
        VMNET_NFT_SEL_OIFNAME,        /* oifname */
        VMNET_NFT_SEL_NFPROTO,        /* meta nfproto */
        VMNET_NFT_SEL_L4PROTO,        /* meta l4proto */
        VMNET_NFT_SEL_TH_DPORT,       /* th dport */
        VMNET_NFT_SEL_IP_SADDR,       /* ip saddr */
        VMNET_NFT_SEL_IP_DADDR,       /* ip daddr */
        VMNET_NFT_SEL_IP6_SADDR,      /* ip6 saddr */
        VMNET_NFT_SEL_IP6_DADDR,      /* ip6 daddr */
        VMNET_NFT_SEL_CT_STATE,       /* ct state */
        VMNET_NFT_SEL_CT_STATUS,      /* ct status */
        VMNET_NFT_SEL_FIB_DADDR_TYPE, /* fib daddr type */
        /* bridge family */
        VMNET_NFT_SEL_ETHER_SADDR,    /* ether saddr */
        VMNET_NFT_SEL_ETHER_TYPE,     /* ether type */
        VMNET_NFT_SEL_ARP_SHA,        /* arp saddr ether (Ethernet/IPv4 ARP) */
        VMNET_NFT_SEL_ARP_SPA,        /* arp saddr ip */
        VMNET_NFT_SEL_TH_SPORT,       /* th sport */
        VMNET_NFT_SEL_ICMPV6_TYPE,    /* icmpv6 type */
        VMNET_NFT_SEL_LAST
} VmnetNftSelector;

/* ct state bits (NF_CT_STATE_*_BIT) and the ct status bit vmnet uses. */
#define VMNET_NFT_CT_INVALID     0x01u
#define VMNET_NFT_CT_ESTABLISHED 0x02u
#define VMNET_NFT_CT_RELATED     0x04u
#define VMNET_NFT_CT_NEW         0x08u
#define VMNET_NFT_CT_UNTRACKED   0x40u
#define VMNET_NFT_CT_STATUS_DNAT 0x20u /* IPS_DST_NAT */

typedef enum {
        VMNET_NFT_MATCH_CMP,    /* sel == value, or != with negate */
        VMNET_NFT_MATCH_PREFIX, /* address sel in prefix, or not in it with negate */
        VMNET_NFT_MATCH_FLAGS,  /* ct state/status has any bit of mask */
        VMNET_NFT_MATCH_LOOKUP, /* sel[0] . sel[1] ... in @set, or not with negate */
} VmnetNftMatchKind;

typedef struct {
        VmnetNftMatchKind kind;
        gboolean negate;
        VmnetNftSelector sel[VMNET_NFT_MAX_CONCAT];
        guint n_sel;         /* 1 except for LOOKUP */
        VmnetNftValue value; /* CMP */
        VmnetPrefix prefix;  /* PREFIX */
        guint32 mask;        /* FLAGS */
        char *set;           /* LOOKUP, owned */
} VmnetNftMatch;

typedef enum {
        VMNET_NFT_STMT_NONE, /* not set yet: a rule must end in a statement */
        VMNET_NFT_STMT_ACCEPT,
        VMNET_NFT_STMT_DROP,
        VMNET_NFT_STMT_MASQUERADE,
        VMNET_NFT_STMT_DNAT_MAP, /* dnat ip|ip6 to KEY map @MAP (data: address . port) */
        VMNET_NFT_STMT_REJECT_TCP_RESET, /* reject with tcp reset: the rule must match l4proto tcp */
        VMNET_NFT_STMT_REJECT_ADMIN,     /* reject with icmpx admin-prohibited */
} VmnetNftStmtKind;

typedef struct {
        GArray *matches; /* VmnetNftMatch, evaluated in order */
        VmnetNftStmtKind stmt;
        int nat_family;  /* DNAT_MAP: AF_INET or AF_INET6 */
        VmnetNftSelector nat_key[VMNET_NFT_MAX_CONCAT];
        guint n_nat_key;
        char *nat_map;   /* DNAT_MAP, owned */
        gboolean counter; /* "counter" before the statement */
        char *comment;   /* rule comment, owned; NULL = none */
} VmnetNftRule;

typedef enum {
        VMNET_NFT_CHAIN_FILTER,
        VMNET_NFT_CHAIN_NAT,
} VmnetNftChainType;

/* Values are the kernel's NF_INET_* hook numbers. */
typedef enum {
        VMNET_NFT_HOOK_PREROUTING = 0,
        VMNET_NFT_HOOK_INPUT = 1,
        VMNET_NFT_HOOK_FORWARD = 2,
        VMNET_NFT_HOOK_OUTPUT = 3,
        VMNET_NFT_HOOK_POSTROUTING = 4,
} VmnetNftHook;

typedef struct {
        char *name;
        VmnetNftChainType type;
        VmnetNftHook hook;
        int priority;
        gboolean policy_drop; /* FALSE = policy accept */
        GPtrArray *rules;     /* VmnetNftRule* */
} VmnetNftChain;

typedef struct {
        char *name;
        VmnetNftDatatype key[VMNET_NFT_MAX_CONCAT];
        guint n_key;
        VmnetNftDatatype data[VMNET_NFT_MAX_CONCAT];
        guint n_data;     /* 0 = a set, else a map */
        gboolean interval; /* flags interval: address fields of the key are prefixes */
        GArray *elements; /* VmnetNftValue, n_key + n_data consecutive values per element */
        GHashTable *keys; /* GBytes of each element's key, to refuse duplicates quickly */
} VmnetNftSet;

typedef struct _VmnetNftIr VmnetNftIr;

struct _VmnetNftIr {
        VmnetNftFamily family;
        char *comment;    /* table comment: who owns the table */
        GPtrArray *sets;   /* VmnetNftSet*, in declaration order */
        GPtrArray *chains; /* VmnetNftChain*, in declaration order */
        /*
         * In the inet IR only: table bridge vmnet, NULL when the plan has
         * no guest port (then no bridge table exists). Owned.
         */
        VmnetNftIr *bridge;
};

/* An empty table inet vmnet. */
VmnetNftIr *vmnet_nft_ir_new(const char *comment);
/* An empty table of that family. */
VmnetNftIr *vmnet_nft_ir_new_family(VmnetNftFamily family, const char *comment);
void vmnet_nft_ir_free(VmnetNftIr *ir);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetNftIr, vmnet_nft_ir_free)

/*
 * The tables for a validated, finalized plan (table inet vmnet, with table
 * bridge vmnet as its bridge member when the plan has guest ports), with
 * ipam's allocations bound to their guests' ports (ipam may be NULL: plan
 * addresses only; apply, doctor and render pass vmnet_engine_ipam()'s).
 * Deterministic: the same plan and IPAM always give the same IR. Caller
 * owns the result.
 */
VmnetNftIr *vmnet_nft_ir_from_plan(const VmnetPlan *plan, const VmnetIpam *ipam);

/*
 * The IPv4 sources table bridge vmnet lets ifc's port (on net) use under
 * ip-spoofing deny, appended to out (VmnetAddr): ip=, the <reservation>s
 * of its MAC, and the address ipam (may be NULL) allocated it. When none,
 * *why (when why is not NULL) says why, a static string for messages.
 */
void vmnet_nft_port_ip4(const VmnetNetwork *net, const VmnetInterface *ifc,
                        const VmnetIpam *ipam, GArray *out, const char **why);

/* A guest port with ip-spoofing denied whose IPv4 sources are not checked. */
typedef struct {
        const VmnetDomain *domain;
        const VmnetNetwork *network;
        const VmnetInterface *iface;
        const char *why; /* vmnet_nft_port_ip4()'s reason */
} VmnetUnboundPort;

/*
 * The plan's guest ports (interfaces with a MAC on a network with a
 * bridge) with ip-spoofing denied and no IPv4 source to bind, in plan
 * order (VmnetUnboundPort, borrowed from plan). Caller frees the array.
 */
GArray *vmnet_nft_unbound_ip4_ports(const VmnetPlan *plan, const VmnetIpam *ipam);

/*
 * Names of the bridge table's anti-spoofing sets and of the comments on
 * its drop rules (what doctor and tests read the counters by).
 */
#define VMNET_NFT_SET_GUEST_PORTS "guest_ports"
#define VMNET_NFT_ANTISPOOF_COMMENT "vmnet antispoof "

/* The IR as an `nft -f` script that atomically replaces the table(s). Caller frees. */
char *vmnet_nft_ir_to_text(const VmnetNftIr *ir);
/* Values as nft writes them in a set element ("tcp . 8080", "10.0.0.0/24" in an interval set). Caller frees. */
char *vmnet_nft_values_to_text(const VmnetNftValue *v, guint n, gboolean interval);
/* One rule as nft text ("iifname @bridges oifname @bridges drop"), for messages. Caller frees. */
char *vmnet_nft_rule_to_text(const VmnetNftRule *rule);

/* --- building an IR (vmnet_nft_ir_from_plan(), tests) --- */

/* Adds an empty set (n_data 0) or map; returns it (owned by ir). */
VmnetNftSet *vmnet_nft_ir_add_set(VmnetNftIr *ir, const char *name, const VmnetNftDatatype *key,
                                  guint n_key, const VmnetNftDatatype *data, guint n_data);
/*
 * Adds an empty `flags interval` set (never a map): its key's address fields
 * hold prefixes (vmnet_nft_value_prefix()), so one element covers a subnet.
 * The caller adds no two elements that overlap (the kernel refuses them):
 * within one element's other fields, prefixes are disjoint.
 */
VmnetNftSet *vmnet_nft_ir_add_interval_set(VmnetNftIr *ir, const char *name,
                                           const VmnetNftDatatype *key, guint n_key);
/* Borrowed; NULL when absent. */
VmnetNftSet *vmnet_nft_ir_find_set(const VmnetNftIr *ir, const char *name);
/*
 * Appends one element: n_key + n_data values, copied. Returns FALSE (and
 * adds nothing) when an element with the same key is already there.
 */
gboolean vmnet_nft_set_add_element(VmnetNftSet *set, const VmnetNftValue *values);
guint vmnet_nft_set_n_elements(const VmnetNftSet *set);
/* The n_key + n_data values of element i (borrowed). */
const VmnetNftValue *vmnet_nft_set_element(const VmnetNftSet *set, guint i);

/* Returns the new chain (owned by ir). */
VmnetNftChain *vmnet_nft_ir_add_chain(VmnetNftIr *ir, const char *name, VmnetNftChainType type,
                                      VmnetNftHook hook, int priority, gboolean policy_drop);
VmnetNftChain *vmnet_nft_ir_find_chain(const VmnetNftIr *ir, const char *name);
/* Returns a new empty rule appended to chain (owned by chain). */
VmnetNftRule *vmnet_nft_chain_add_rule(VmnetNftChain *chain);

void vmnet_nft_rule_match_cmp(VmnetNftRule *rule, VmnetNftSelector sel, gboolean negate,
                              const VmnetNftValue *value);
void vmnet_nft_rule_match_ifname(VmnetNftRule *rule, VmnetNftSelector sel, gboolean negate,
                                 const char *ifname);
/* meta nfproto ipv4|ipv6 for AF_INET / AF_INET6. */
void vmnet_nft_rule_match_nfproto(VmnetNftRule *rule, int family);
void vmnet_nft_rule_match_prefix(VmnetNftRule *rule, VmnetNftSelector sel, gboolean negate,
                                 const VmnetPrefix *prefix);
void vmnet_nft_rule_match_flags(VmnetNftRule *rule, VmnetNftSelector sel, guint32 mask);
void vmnet_nft_rule_match_lookup(VmnetNftRule *rule, const VmnetNftSelector *sel, guint n_sel,
                                 gboolean negate, const char *set);
void vmnet_nft_rule_set_verdict(VmnetNftRule *rule, VmnetNftStmtKind stmt);
void vmnet_nft_rule_set_dnat_map(VmnetNftRule *rule, int family, const VmnetNftSelector *key,
                                 guint n_key, const char *map);
/* Counts what the rule matches ("counter"), with a comment naming the rule (may be NULL). */
void vmnet_nft_rule_set_counter(VmnetNftRule *rule, const char *comment);

/* --- facts about the vocabulary, shared by both outputs --- */

/* Bytes the value occupies in a register / set key (before 4-byte rounding). */
guint vmnet_nft_datatype_len(VmnetNftDatatype type);
/* nft's datatype id (TYPE_IFNAME = 41, ...) as stored in NFTA_SET_KEY_TYPE. */
guint32 vmnet_nft_datatype_id(VmnetNftDatatype type);
/* nft's name of the type ("ifname", "ipv4_addr", ...). */
const char *vmnet_nft_datatype_name(VmnetNftDatatype type);
VmnetNftDatatype vmnet_nft_selector_datatype(VmnetNftSelector sel);
/* nft's text for the selector ("iifname", "ip saddr", "meta l4proto", ...). */
const char *vmnet_nft_selector_text(VmnetNftSelector sel);
/* Writes the value's bytes as the kernel sees them into buf (>= 16 bytes, zero padded). */
void vmnet_nft_value_bytes(const VmnetNftValue *v, guint8 *buf);

VmnetNftValue vmnet_nft_value_ifname(const char *ifname);
VmnetNftValue vmnet_nft_value_addr(const VmnetAddr *addr);
/* A prefix, for an interval set's key. */
VmnetNftValue vmnet_nft_value_prefix(const VmnetPrefix *prefix);
VmnetNftValue vmnet_nft_value_proto(guint8 proto);
VmnetNftValue vmnet_nft_value_port(guint16 port);
VmnetNftValue vmnet_nft_value_mac(const VmnetMac *mac);
VmnetNftValue vmnet_nft_value_ether_type(guint16 type);
VmnetNftValue vmnet_nft_value_icmpv6_type(guint8 type);
