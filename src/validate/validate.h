/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/model.h"
#include "util/error.h"

/*
 * Semantic checks on a finalized plan. Appends every problem found to diags,
 * each naming the plan file, line and field, and returns FALSE when there was
 * at least one. Pure: looks at nothing but the plan.
 */
gboolean vmnet_plan_validate(const VmnetPlan *plan, VmnetDiags *diags);
