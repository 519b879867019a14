/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * vmnet's JSON is built with json-glib's JsonBuilder (a NULL string is
 * written as null) and turned into text here, the one place that does:
 * compact, one line, and valid JSON whatever bytes the strings held.
 */

#include <glib.h>
#include <json-glib/json-glib.h>

/*
 * The finished document of b as compact JSON text ("" when b holds no
 * document). Invalid UTF-8 in a string becomes U+FFFD. Caller frees.
 */
char *vmnet_json_text(JsonBuilder *b);

/*
 * One member of the object b is building: its name, then its value (the
 * two JsonBuilder calls each member takes). A NULL string is written as null.
 */
void vmnet_json_member_string(JsonBuilder *b, const char *name, const char *value);
void vmnet_json_member_int(JsonBuilder *b, const char *name, gint64 value);
void vmnet_json_member_bool(JsonBuilder *b, const char *name, gboolean value);
void vmnet_json_member_null(JsonBuilder *b, const char *name);
