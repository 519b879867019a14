/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/model.h"
#include "util/error.h"

/*
 * The fleet-wide rules (hosts, hosts=, VXLAN segments: VNIs unique, an
 * underlay on every host of a segment, the guest MTU plus VXLAN's overhead
 * within every host's underlay MTU, domains on their host). Appends to
 * diags; part of vmnet_plan_validate().
 */
void vmnet_validate_fleet(const VmnetPlan *plan, VmnetDiags *diags);
