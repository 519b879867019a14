/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "util/json.h"
#include "util/mutant.h"

VmnetJson *vmnet_json_new(void)
{
        VmnetJson *j = g_new0(VmnetJson, 1);

        j->out = g_string_new(NULL);
        j->first = g_array_new(FALSE, FALSE, sizeof(gboolean));
        return j;
}

void vmnet_json_free(VmnetJson *j)
{
        if (!j)
                return;
        g_string_free(j->out, TRUE);
        g_array_unref(j->first);
        g_free(j);
}

/* Separates array elements; object members are separated by vmnet_json_key(). */
static void before_value(VmnetJson *j)
{
        gboolean *first;
        gsize len = j->out->len;

        if (!j->first->len)
                return;
        if (len && j->out->str[len - 1] == ':')
                return; /* the value of a key */
        first = &g_array_index(j->first, gboolean, j->first->len - 1);
        if (!*first)
                g_string_append_c(j->out, ',');
        *first = FALSE;
}

static void push(VmnetJson *j, char c)
{
        gboolean t = TRUE;

        before_value(j);
        g_string_append_c(j->out, c);
        g_array_append_val(j->first, t);
}

static void pop(VmnetJson *j, char c)
{
        g_string_append_c(j->out, c);
        g_array_set_size(j->first, j->first->len - 1);
}

void vmnet_json_begin_object(VmnetJson *j)
{
        push(j, '{');
}

void vmnet_json_end_object(VmnetJson *j)
{
        pop(j, '}');
}

void vmnet_json_begin_array(VmnetJson *j)
{
        push(j, '[');
}

void vmnet_json_end_array(VmnetJson *j)
{
        pop(j, ']');
}

static void append_escaped(GString *out, const char *s)
{
        g_string_append_c(out, '"');
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                switch (*p) {
                case '"':
                        g_string_append(out, "\\\"");
                        break;
                case '\\':
                        g_string_append(out, "\\\\");
                        break;
                case '\n':
                        g_string_append(out, "\\n");
                        break;
                case '\t':
                        g_string_append(out, "\\t");
                        break;
                case '\r':
                        g_string_append(out, "\\r");
                        break;
                default:
                        if (*p < 0x20 && !VMNET_MUTANT_IS(JSON_RAW_CONTROL))
                                g_string_append_printf(out, "\\u%04x", *p);
                        else
                                g_string_append_c(out, (char)*p);
                }
        }
        g_string_append_c(out, '"');
}

void vmnet_json_key(VmnetJson *j, const char *key)
{
        gboolean *first = &g_array_index(j->first, gboolean, j->first->len - 1);

        if (!*first)
                g_string_append_c(j->out, ',');
        *first = FALSE;
        append_escaped(j->out, key);
        g_string_append_c(j->out, ':');
}

void vmnet_json_string(VmnetJson *j, const char *s)
{
        before_value(j);
        if (!s) {
                g_string_append(j->out, "null");
                return;
        }
        if (!g_utf8_validate(s, -1, NULL)) {
                g_autofree char *valid = g_utf8_make_valid(s, -1);

                append_escaped(j->out, valid);
                return;
        }
        append_escaped(j->out, s);
}

void vmnet_json_int(VmnetJson *j, gint64 v)
{
        before_value(j);
        g_string_append_printf(j->out, "%" G_GINT64_FORMAT, v);
}

void vmnet_json_bool(VmnetJson *j, gboolean v)
{
        before_value(j);
        g_string_append(j->out, v ? "true" : "false");
}

void vmnet_json_null(VmnetJson *j)
{
        before_value(j);
        g_string_append(j->out, "null");
}

const char *vmnet_json_text(const VmnetJson *j)
{
        return j->out->str;
}
