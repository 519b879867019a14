/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/model.h"
#include "util/error.h"

/* Plans larger than this are refused before parsing. */
#define VMNET_PLAN_MAX_BYTES (8 * 1024 * 1024)

/*
 * Reads a plan: well-formedness (hostile input safe: no network, no DTD, no
 * entities, bounded size, UTF-8 only), the RelaxNG schema, then conversion
 * into the model (addresses, MACs, rates), followed by vmnet_plan_finalize().
 *
 * Every problem found is appended to diags (file:line: message). Returns the
 * plan (caller owns) or NULL with error set to a summary when anything was
 * wrong. Semantic checks are vmnet_plan_validate()'s job.
 *
 * path "-" reads standard input.
 */
VmnetPlan *vmnet_plan_load_file(const char *path, VmnetDiags *diags, GError **error);
VmnetPlan *vmnet_plan_load_data(const char *data, gsize len, const char *filename,
                                VmnetDiags *diags, GError **error);

/* The embedded RelaxNG schema text (borrowed). */
const char *vmnet_plan_schema_text(gsize *len);
