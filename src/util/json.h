/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A small streaming JSON writer: enough for vmnet's machine-readable output
 * (--json, the Ansible module) without another dependency. Commas and
 * escaping are handled here; callers only say what comes next.
 */

#include <glib.h>

typedef struct {
        GString *out;
        GArray *first; /* per nesting level: no member written yet */
} VmnetJson;

VmnetJson *vmnet_json_new(void);
void vmnet_json_free(VmnetJson *j);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetJson, vmnet_json_free)

void vmnet_json_begin_object(VmnetJson *j);
void vmnet_json_end_object(VmnetJson *j);
void vmnet_json_begin_array(VmnetJson *j);
void vmnet_json_end_array(VmnetJson *j);
/* Writes a member name inside an object; the next value call writes its value. */
void vmnet_json_key(VmnetJson *j, const char *key);
void vmnet_json_string(VmnetJson *j, const char *s); /* NULL writes null */
void vmnet_json_int(VmnetJson *j, gint64 v);
void vmnet_json_bool(VmnetJson *j, gboolean v);
void vmnet_json_null(VmnetJson *j);
/* The document so far (borrowed). */
const char *vmnet_json_text(const VmnetJson *j);
