/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/model.h"
#include "util/error.h"

/*
 * The rules of <mirror> (vmnet-plan(5) PORT MIRRORING): one destination,
 * which exists (a guest interface of the plan, or a host link whose name
 * is allowed and that the plan does not manage), is not mirrored itself
 * (so not the mirrored port, and no copy goes round), and no egress mirror
 * on a port libvirt polices outbound. Appends to diags at the line of the
 * <mirror>; part of vmnet_plan_validate().
 */
void vmnet_validate_mirrors(const VmnetPlan *plan, VmnetDiags *diags);
