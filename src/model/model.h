/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The plan model: plain structs, no I/O. src/plan fills it from XML,
 * src/validate checks it, src/render turns it into libvirt XML and the nft
 * ruleset, and the engine diffs it against the host.
 *
 * Every object remembers the line of the element it came from, so that any
 * later stage can say "plan.xml:14: network 'lab': ...".
 *
 * man/vmnet-plan.5 is the user documentation of the format.
 */

#include <glib.h>

#include "model/port-vlans.h"
#include "util/addr.h"

typedef enum {
        VMNET_MODE_BRIDGED,   /* bridge onto the LAN through an uplink (optionally a VLAN of it) */
        VMNET_MODE_NAT,       /* host address on the bridge, masquerade out, port forwards */
        VMNET_MODE_HOST_ONLY, /* host address on the bridge, no forwarding beyond the host */
        VMNET_MODE_ISOLATED,  /* private L2 only, no host address */
        VMNET_MODE_ROUTED,    /* host address on the bridge, routed (no NAT), static routes */
        VMNET_MODE_LAST
} VmnetMode;

const char *vmnet_mode_to_string(VmnetMode m);
int vmnet_mode_from_string(const char *s); /* -1 when unknown */
/* Does the host own an address on the bridge (the subnet's gateway) in this mode? */
gboolean vmnet_mode_has_host_address(VmnetMode m);

typedef enum {
        VMNET_PROTO_ANY = 0,
        VMNET_PROTO_TCP = 6,
        VMNET_PROTO_UDP = 17,
} VmnetProto;

const char *vmnet_proto_to_string(VmnetProto p);
int vmnet_proto_from_string(const char *s); /* -1 when unknown */

/*
 * <security>: what a guest port may send (anti-spoofing). Each knob is
 * "unset" where the element does not say it; the effective value is the
 * interface's, else its port group's, else its network's, else deny
 * (vmnet_interface_security()).
 */
typedef enum {
        VMNET_SEC_UNSET = 0,
        VMNET_SEC_DENY,
        VMNET_SEC_ALLOW,
} VmnetSecValue;

typedef enum {
        VMNET_SEC_MAC,    /* mac-spoofing: frames with a source MAC other than the port's */
        VMNET_SEC_IP,     /* ip-spoofing: IPv4/IPv6/ARP from addresses the plan does not give */
        VMNET_SEC_DHCP,   /* dhcp-server: DHCPv4/DHCPv6 server replies */
        VMNET_SEC_RA,     /* router-advertisement: ICMPv6 router advertisements and redirects */
        VMNET_SEC_LAST
} VmnetSecKnob;

typedef struct {
        guint line; /* of <security>, 0 when absent */
        VmnetSecValue v[VMNET_SEC_LAST];
} VmnetSecurity;

/* The attribute name of a knob ("mac-spoofing", ...). */
const char *vmnet_sec_knob_name(VmnetSecKnob k);

/*
 * <bandwidth>: rates in bits per second, bursts in bytes; 0 = not set.
 * inbound is what the guest receives (libvirt's htb class on the tap),
 * outbound what it sends (libvirt's police filter on the tap's ingress).
 * outbound_peak and inbound_floor are kept only to be refused with their
 * line (libvirt cannot apply them to vmnet's networks, see validate.c).
 */
typedef struct {
        guint line;
        guint64 inbound;        /* average */
        guint64 outbound;       /* average */
        guint64 inbound_peak;
        guint64 inbound_burst;
        guint64 inbound_floor;
        guint64 outbound_peak;
        guint64 outbound_burst;
} VmnetBandwidth;

/* One value of <dhcp-options>: a server address or a search domain. */
typedef struct {
        guint line;
        VmnetAddr addr;
        char *name;
} VmnetDhcpItem;

/*
 * <dhcp-options>: what vmnet's dnsmasq hands to the network's guests
 * besides an address (man vmnet-plan(5), DHCP OPTIONS). line 0: absent.
 */
typedef struct {
        guint line;
        GPtrArray *dns_servers; /* VmnetDhcpItem* (addr): options 6 / DHCPv6 23 */
        GPtrArray *search;      /* VmnetDhcpItem* (name): options 119 / DHCPv6 24 */
        GPtrArray *ntp_servers; /* VmnetDhcpItem* (addr, IPv4): option 42 */
        GPtrArray *routes;      /* VmnetRoute* (IPv4): option 121 */
        guint boot_line;        /* of <boot>, 0 = no network boot */
        VmnetAddr next_server;  /* BOOTP siaddr: the TFTP server */
        char *boot_bios;        /* boot file for BIOS clients (client-arch 0), NULL = none */
        char *boot_uefi;        /* boot file for x86-64 UEFI clients (client-arch 7, 9) */
} VmnetDhcpOptions;

typedef struct {
        guint line;
        VmnetMac mac;
        VmnetAddr ip;
        char *name; /* host name, optional */
        VmnetDhcpOptions *dhcp_options; /* this client's own, NULL when none */
} VmnetReservation;

typedef struct {
        guint line;
        VmnetPrefix cidr;
        gboolean has_gateway;
        VmnetAddr gateway; /* host address on the bridge (nat/host-only/routed), or LAN router (bridged) */
        gboolean has_dhcp;
        guint dhcp_line;
        VmnetAddr dhcp_start;
        VmnetAddr dhcp_end;
        guint lease_seconds;      /* 0 = default */
        GPtrArray *reservations;  /* VmnetReservation* */
} VmnetSubnet;

typedef struct {
        guint line;
        VmnetPrefix to;
        VmnetAddr via;
} VmnetRoute;


typedef struct {
        guint line;
        char *dev;    /* the existing NIC (never created, never deleted by vmnet) */
        guint vlan;   /* 802.1Q id, 0 = untagged: dev itself is enslaved */
        char *ifname; /* the link enslaved to the bridge: name= or "dev.vlan" or dev */
        gboolean migrate_addresses; /* move dev's addresses and routes to the bridge */
} VmnetUplink;

typedef struct {
        guint line;
        VmnetProto proto; /* tcp or udp */
        gboolean has_host_ip;
        VmnetAddr host_ip; /* only traffic to this host address, else any local address */
        guint16 host_port;
        VmnetAddr to;
        guint16 to_port; /* defaults to host_port */
} VmnetPortForward;

/*
 * <mirror>: a copy of a guest port's frames sent to a destination port
 * (vmnet-plan(5) PORT MIRRORING). Directions are the port's, as tc sees
 * the tap: ingress = what the guest sends, egress = what it receives.
 * The destination is a guest interface of the plan (to_domain, the
 * to_interface-th <interface> of it, from 1) or a host link (to_link).
 */
typedef enum {
        VMNET_MIRROR_INGRESS = 1,
        VMNET_MIRROR_EGRESS = 2,
        VMNET_MIRROR_BOTH = 3,
} VmnetMirrorDir;

typedef struct {
        guint line;
        guint direction;    /* VmnetMirrorDir bits */
        char *to_domain;    /* NULL with to_link */
        guint to_interface; /* 1-based; 1 when not given */
        char *to_link;      /* NULL with to_domain */
} VmnetMirror;

VmnetMirror *vmnet_mirror_new(void);
void vmnet_mirror_free(VmnetMirror *m);
/* "ingress", "egress", "both" (one bit or both). */
const char *vmnet_mirror_dir_to_string(guint direction);

typedef struct {
        guint line;
        char *name;
        gboolean is_default;
        guint vlan; /* only on vlan-aware bridges; 0 = the network's VLAN */
        /*
         * trunk= (tagged) and native= (untagged): a trunk port group, only
         * on vlan-aware bridges. has_trunk FALSE: an access port group
         * (trunk.untagged still holds a native= given without trunk=, to be
         * refused with its line).
         */
        gboolean has_trunk;
        VmnetPortVlans trunk;
        gboolean has_bandwidth;
        VmnetBandwidth bandwidth;
        VmnetSecurity security;
        VmnetMirror *mirror; /* NULL when none */
} VmnetPortgroup;

/*
 * <vxlan>: the network's segment carried between the hosts of a fleet plan
 * (vmnet-plan(5) FLEET PLANS). The parser fills vni, port and name; the
 * rest is the selected host's part, filled by vmnet_plan_select_host().
 */
typedef struct {
        guint line;
        guint32 vni;
        guint16 port;     /* UDP destination port, default 4789 */
        char *name;       /* the VXLAN link; defaults to "vx" + vni */
        VmnetAddr local;  /* this host's underlay address */
        char *dev;        /* this host's underlay device, NULL: none named */
        GArray *remotes;  /* VmnetAddr: the other hosts' underlay addresses (flood list) */
        char *gateway_host; /* gateway-host=: the one host that serves the segment, NULL: none */
} VmnetVxlan;

typedef struct {
        guint line;
        char *name;
        VmnetMode mode;
        char *bridge;        /* bridge name; defaults to "vm-" + name */
        guint mtu;           /* 0 = not managed */
        int stp;             /* -1 = not managed, else 0/1 */
        int forward_delay;   /* seconds, -1 = not managed */
        gboolean has_mac;
        VmnetMac mac;        /* bridge MAC */
        gboolean vlan_aware; /* one VLAN-filtering bridge shared by several networks */
        gboolean adopt;      /* take over an existing bridge of that name */
        char *dns_domain;    /* optional */
        VmnetUplink *uplink; /* NULL when none */
        GPtrArray *subnets;     /* VmnetSubnet* */
        GPtrArray *routes;      /* VmnetRoute* */
        GPtrArray *portgroups;  /* VmnetPortgroup* */
        gboolean has_nat;
        guint nat_line;
        char *nat_out;          /* egress interface for masquerade, NULL = any but vmnet's bridges */
        GPtrArray *forwards;    /* VmnetPortForward* */
        VmnetSecurity security;
        char **hosts;           /* fleet plans: hosts="..." (NULL: every host) */
        VmnetVxlan *vxlan;      /* NULL when none */
        /*
         * Fleet plans: this host's part only carries the segment that
         * another host serves (<vxlan gateway-host=>): the network was
         * nat, host-only or routed in the plan and is isolated here, with
         * no subnet (vmnet_plan_select_host()).
         */
        gboolean l2_only;
        VmnetDhcpOptions *dhcp_options; /* never NULL; line 0 when the plan has none */
} VmnetNetwork;

typedef struct {
        guint line;
        char *network;
        char *portgroup; /* NULL = the network's default port group, if any */
        gboolean has_mac;
        VmnetMac mac;    /* when !has_mac, vmnet_plan_finalize() derives a stable one */
        char *model;     /* "virtio" by default */
        guint queues;    /* 0 = not set */
        gboolean has_ip;
        VmnetAddr ip;    /* IPAM: becomes a DHCP reservation */
        gboolean has_bandwidth;
        VmnetBandwidth bandwidth;
        VmnetSecurity security;
        VmnetMirror *mirror; /* NULL: the port group's, if any */
} VmnetInterface;

typedef struct {
        guint line;
        char *name;
        GPtrArray *interfaces; /* VmnetInterface* */
        char *host;            /* fleet plans: the host it runs on */
} VmnetDomain;

typedef struct {
        guint line;
        char *from;     /* network name */
        char *to;       /* network name; NULL with to_host */
        gboolean to_host; /* <allow-host>: to the host itself */
        VmnetProto proto;
        guint16 port;   /* 0 = any (only with a proto) */
} VmnetAllow;

/*
 * <bond>: a bond vmnet creates from existing NICs, usable as any uplink
 * (vmnet-plan(5) BONDS). Kernel values: mode BOND_MODE_*, lacp_rate 0 slow
 * 1 fast, xmit_hash_policy BOND_XMIT_POLICY_*; -1 = the kernel's default.
 */
typedef struct {
        guint line;
        char *name;
        int mode;
        char **members;
        int miimon;           /* ms */
        int lacp_rate;
        int xmit_hash_policy;
} VmnetBond;

/* <host> of a fleet plan: one hypervisor and its own part of the plan. */
typedef struct {
        guint line;
        char *network;
        char *dev;
} VmnetHostUplink;

typedef struct {
        guint line;
        char *name;
        VmnetAddr underlay;  /* the VXLAN endpoint address */
        char *underlay_dev;  /* NULL: not named */
        guint underlay_mtu;  /* of the underlay path; 1500 when not given */
        GPtrArray *uplinks;  /* VmnetHostUplink*: the host's own uplink devices */
        GPtrArray *bonds;    /* VmnetBond*: the host's own bonds (borrowed from the plan's) */
} VmnetFleetHost;

typedef struct {
        char *file;  /* as given on the command line; "-" reads as "<stdin>" */
        GBytes *source; /* the text it was read from (kept by a successful apply); NULL when built */
        char *name;  /* the plan's name: ownership tag "vmnet:<name>" */
        guint line;  /* of <plan> */
        GPtrArray *networks; /* VmnetNetwork* */
        GPtrArray *domains;  /* VmnetDomain* */
        GPtrArray *allows;   /* VmnetAllow* */
        GPtrArray *hosts;    /* VmnetFleetHost*: empty in a single-host plan */
        GPtrArray *bonds;    /* VmnetBond*: <bond>s of the plan and of its <host>s */
        char *host;          /* the host whose part this is, after vmnet_plan_select_host() */
} VmnetPlan;

VmnetPlan *vmnet_plan_new(const char *file);
void vmnet_plan_free(VmnetPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetPlan, vmnet_plan_free)

VmnetNetwork *vmnet_network_new(void);
VmnetSubnet *vmnet_subnet_new(void);
VmnetDomain *vmnet_domain_new(void);
VmnetInterface *vmnet_interface_new(void);
VmnetPortgroup *vmnet_portgroup_new(void);
VmnetPortForward *vmnet_port_forward_new(void);
VmnetReservation *vmnet_reservation_new(void);
VmnetDhcpOptions *vmnet_dhcp_options_new(void);
void vmnet_dhcp_options_free(VmnetDhcpOptions *o);
VmnetRoute *vmnet_route_new(void);
VmnetAllow *vmnet_allow_new(void);
VmnetUplink *vmnet_uplink_new(void);

VmnetVxlan *vmnet_vxlan_new(void);
void vmnet_vxlan_free(VmnetVxlan *vx);
VmnetFleetHost *vmnet_fleet_host_new(void);
void vmnet_fleet_host_free(gpointer p);
VmnetHostUplink *vmnet_host_uplink_new(void);
VmnetBond *vmnet_bond_new(void);
void vmnet_bond_free(gpointer p);
/* The bond of that name, NULL when none. Borrowed. */
VmnetBond *vmnet_plan_find_bond(const VmnetPlan *plan, const char *name);

/* Look-ups by name; NULL when absent. Borrowed pointers. */
VmnetNetwork *vmnet_plan_find_network(const VmnetPlan *plan, const char *name);
/*
 * Whether bridge is a bridged network's bridge that carries, or may carry,
 * the host's own addresses (migrate-addresses="yes" or adopt="yes" on a
 * network of it): the host's uplink.
 */
gboolean vmnet_bridge_is_host_uplink(const VmnetPlan *plan, const char *bridge);
/*
 * Whether the host must have no presence at all on net's bridge: isolated
 * networks, and bridged ones whose bridge is not the host's uplink. The
 * host then has no IPv6 address there, accepts no router advertisement,
 * answers no ARP and routes nothing from or to it.
 */
gboolean vmnet_network_host_absent(const VmnetPlan *plan, const VmnetNetwork *net);
VmnetDomain *vmnet_plan_find_domain(const VmnetPlan *plan, const char *name);
VmnetPortgroup *vmnet_network_find_portgroup(const VmnetNetwork *net, const char *name);
VmnetPortgroup *vmnet_network_default_portgroup(const VmnetNetwork *net);
/*
 * The VLAN a guest port of net joins on its VLAN-aware bridge: the port
 * group's vlan= (portgroup NULL = the network's default group), else the
 * uplink's; for a trunk port group, its native VLAN (0: none). 0 when net is
 * not VLAN-aware (the port needs no VLAN).
 */
guint vmnet_network_port_vlan(const VmnetNetwork *net, const char *portgroup);
/*
 * Everything a guest port of net in portgroup (NULL = the network's default
 * group) carries on its VLAN-aware bridge: the group's trunk (tagged VLANs
 * and native one), else the access VLAN of vmnet_network_port_vlan(). FALSE
 * (and out empty) when net is not VLAN-aware.
 */
gboolean vmnet_network_port_vlans(const VmnetNetwork *net, const char *portgroup,
                                  VmnetPortVlans *out);
/* The first subnet of the family (AF_INET / AF_INET6), NULL when none. */
VmnetSubnet *vmnet_network_first_subnet(const VmnetNetwork *net, int family);
/* Whether a subnet of net has a DHCP range or a reservation. */
gboolean vmnet_network_has_dhcp_subnet(const VmnetNetwork *net);
/* The subnet of net that contains addr, NULL when none. */
VmnetSubnet *vmnet_network_subnet_for(const VmnetNetwork *net, const VmnetAddr *addr);

/*
 * Whether knob k is allowed on ifc's port: the interface's <security>,
 * else its port group's (the named one, else the network's default
 * group), else the network's, else deny. net may be NULL (then only the
 * interface counts).
 */
gboolean vmnet_interface_sec_allowed(const VmnetNetwork *net, const VmnetInterface *ifc,
                                     VmnetSecKnob k);

/*
 * The mirror of a guest port of net in port group portgroup (NULL: the
 * network's default group); NULL when none. Borrowed.
 */
const VmnetMirror *vmnet_network_port_mirror(const VmnetNetwork *net, const char *portgroup);
/* Whether a port group or interface of plan has a <mirror>. */
gboolean vmnet_plan_has_mirrors(const VmnetPlan *plan);
/* ifc's own <mirror>, else its port group's (net may be NULL: only ifc's). Borrowed. */
const VmnetMirror *vmnet_interface_mirror(const VmnetNetwork *net, const VmnetInterface *ifc);

/*
 * The name of the tap vmnet gives a guest NIC it attaches:
 * "vmn" + the 12 hex digits of the MAC (15 characters, IFNAMSIZ - 1).
 * Libvirt keeps a user-given target name; the bridge table keys its
 * anti-spoofing sets on it. buf must hold VMNET_IFNAMSIZ bytes.
 */
#define VMNET_TAP_PREFIX "vmn"
void vmnet_tap_name(const VmnetMac *mac, char *buf);
/* Whether name has that shape ("vmn" + 12 lower-case hex digits). */
gboolean vmnet_is_tap_name(const char *name);

/*
 * Fills in defaults that depend on more than one element: the bridge name,
 * uplink ifnames, and a stable MAC (52:54:00:xx:xx:xx, derived from the plan,
 * domain and interface index) for every interface without one. Pure.
 */
void vmnet_plan_finalize(VmnetPlan *plan);
