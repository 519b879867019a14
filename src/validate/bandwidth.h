/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/model.h"
#include "util/error.h"

/*
 * Checks one <bandwidth> (what: "network 'lab': portgroup 'web'", the
 * owner as messages name it) against what libvirt and tc apply exactly:
 * every value either reaches the tap as written or is an error at
 * file:bw->line. Appends to diags; pure.
 */
void vmnet_validate_bandwidth(VmnetDiags *diags, const char *file, const char *what,
                              const VmnetBandwidth *bw);
