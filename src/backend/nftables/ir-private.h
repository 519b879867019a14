/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Between the two files that make the IR from a plan: ir-inet.c (table inet
 * vmnet, vmnet_nft_ir_from_plan()) and ir-bridge.c (table bridge vmnet,
 * its bridge member). Not for use outside src/backend/nftables/.
 */

#include "backend/nftables/ir.h"
#include "ipam/ipam.h"
#include "model/model.h"

/* ir-inet.c */
extern const VmnetNftSelector vmnet_nft_sel_iif[]; /* { VMNET_NFT_SEL_IIFNAME } */

/* ir-bridge.c */
VmnetNftIr *vmnet_nft_bridge_ir_from_plan(const VmnetPlan *plan, const VmnetIpam *ipam,
                                          const char *comment);
