/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "util/json-text.h"
#include "util/mutant.h"

char *vmnet_json_text(JsonBuilder *b)
{
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        g_autoptr(JsonGenerator) gen = NULL;
        g_autofree char *text = NULL;
        GString *out;

        if (!root)
                return g_strdup("");
        gen = json_generator_new();
        json_generator_set_root(gen, root);
        text = json_generator_to_data(gen, NULL);
        /*
         * json-glib copies a string's bytes as they are: one that is not
         * UTF-8 (an interface or file name from the system) would make the
         * document invalid. Outside strings the text is ASCII, so fixing
         * the whole text fixes exactly the strings.
         */
        if (!g_utf8_validate(text, -1, NULL)) {
                char *valid = g_utf8_make_valid(text, -1);

                g_free(text);
                text = valid;
        }
        /*
         * json-glib before 1.10.8 (Debian 12 has 1.6) escapes the control
         * characters below 0x1f but writes 0x1f itself raw, which JSON
         * forbids (RFC 8259, 7). A raw 0x1f can only be inside a string.
         */
        if (!strchr(text, '\x1f') || VMNET_MUTANT_IS(JSON_RAW_CONTROL))
                return g_steal_pointer(&text);
        out = g_string_new(NULL);
        for (const char *p = text; *p; p++) {
                if (*p == '\x1f')
                        g_string_append(out, "\\u001f");
                else
                        g_string_append_c(out, *p);
        }
        return g_string_free(out, FALSE);
}

void vmnet_json_member_string(JsonBuilder *b, const char *name, const char *value)
{
        json_builder_set_member_name(b, name);
        json_builder_add_string_value(b, value);
}

void vmnet_json_member_int(JsonBuilder *b, const char *name, gint64 value)
{
        json_builder_set_member_name(b, name);
        json_builder_add_int_value(b, value);
}

void vmnet_json_member_bool(JsonBuilder *b, const char *name, gboolean value)
{
        json_builder_set_member_name(b, name);
        json_builder_add_boolean_value(b, value);
}

void vmnet_json_member_null(JsonBuilder *b, const char *name)
{
        json_builder_set_member_name(b, name);
        json_builder_add_null_value(b);
}
