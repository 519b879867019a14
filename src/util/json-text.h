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
