/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * g_autoptr() cleanup functions for the foreign types vmnet uses, declared
 * once here so every file frees them the same way.
 */

#include <glib.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlParserCtxt, xmlFreeParserCtxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlRelaxNG, xmlRelaxNGFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlRelaxNGParserCtxt, xmlRelaxNGFreeParserCtxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlRelaxNGValidCtxt, xmlRelaxNGFreeValidCtxt)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlBuffer, xmlBufferFree)

/* xmlChar* from xmlGetProp() and friends. */
static inline void vmnet_xml_free(xmlChar *p)
{
        xmlFree(p);
}
typedef xmlChar VmnetXmlStr;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetXmlStr, vmnet_xml_free)

/*
 * libnl, libnftnl and libvirt types are structs without typedefs; the
 * backends use these typedef names with g_autoptr(). Add one here when a
 * backend needs a new type, never a local cleanup in a .c file.
 */
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libvirt/libvirt.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

typedef struct nl_sock VmnetNlSock;
typedef struct nl_cache VmnetNlCache;
typedef struct rtnl_link VmnetRtnlLink;
typedef struct rtnl_addr VmnetRtnlAddr;
typedef struct rtnl_route VmnetRtnlRoute;
typedef struct nl_addr VmnetNlAddr;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetNlSock, nl_socket_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetNlCache, nl_cache_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetRtnlLink, rtnl_link_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetRtnlAddr, rtnl_addr_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetRtnlRoute, rtnl_route_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetNlAddr, nl_addr_put)

typedef struct mnl_socket VmnetMnlSocket;
typedef struct nftnl_table VmnetNftnlTable;
typedef struct nftnl_chain VmnetNftnlChain;
typedef struct nftnl_rule VmnetNftnlRule;
typedef struct nftnl_set VmnetNftnlSet;
typedef struct nftnl_batch VmnetNftnlBatch;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetMnlSocket, mnl_socket_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetNftnlTable, nftnl_table_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetNftnlChain, nftnl_chain_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetNftnlRule, nftnl_rule_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetNftnlSet, nftnl_set_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetNftnlBatch, nftnl_batch_free)

typedef struct _virConnect VmnetVirConnect;
typedef struct _virNetwork VmnetVirNetwork;
typedef struct _virDomain VmnetVirDomain;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetVirConnect, virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetVirNetwork, virNetworkFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetVirDomain, virDomainFree)

/* sd-bus (libsystemd): src/backend/systemd/units.c. */
#include <systemd/sd-bus.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus, sd_bus_flush_close_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_message, sd_bus_message_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_slot, sd_bus_slot_unref)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(sd_bus_error, sd_bus_error_free)
