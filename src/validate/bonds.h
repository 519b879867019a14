/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/model.h"
#include "util/error.h"

/*
 * The rules of <bond>: names, members (at least one, each in one bond of a
 * host), the options of its mode, no uplink on a member. Appends to diags;
 * part of vmnet_plan_validate().
 */
void vmnet_validate_bonds(const VmnetPlan *plan, VmnetDiags *diags);
