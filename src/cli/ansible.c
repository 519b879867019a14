/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "apply/apply.h"
#include "cli/cli.h"
#include "diff/engine.h"
#include "plan/plan.h"
#include "validate/validate.h"

/*
 * vmnet as an Ansible module.
 *
 * ansible-core treats any module file whose first KiB is not text as a
 * "binary module" (executor/module_common.py, _is_binary()). It copies the
 * file to the managed host as <tmpdir>/AnsiballZ_<module name>, writes the
 * task's arguments with json.dumps() to <tmpdir>/args (the task's own keys
 * plus _ansible_check_mode, _ansible_diff, _ansible_module_name, ...) and
 * runs "<module file> <args file>" (plugins/action/__init__.py,
 * _execute_module()). It then parses the JSON object on stdout; the exit
 * status is not consulted when stdout parses, so "failed" must say it.
 *
 * So the vmnet binary copied (or linked) as library/vmnet_network is the
 * module: main() recognises the name, and "vmnet ansible ARGSFILE" does the
 * same by hand. Binary modules get no help from AnsibleModule: argument
 * checking, check mode and diff mode are all done here.
 */

#define CONTENT_FILE "<content>"

/* ------------------------------------------------------------------------ */
/* A small JSON reader: the arguments file is the only JSON vmnet reads. */

typedef enum { J_NULL, J_BOOL, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT } JType;

typedef struct {
        JType type;
        gboolean boolean;
        char *text;       /* a string's value, or a number as written */
        GPtrArray *items; /* JNode* of an array, JMember* of an object */
} JNode;

typedef struct {
        char *key;
        JNode *value;
} JMember;

typedef struct {
        const char *start;
        const char *p;
        const char *end;
        guint depth;
} JReader;

#define J_MAX_DEPTH 64

static void jnode_free(gpointer p)
{
        JNode *n = p;

        if (!n)
                return;
        g_free(n->text);
        if (n->items)
                g_ptr_array_unref(n->items);
        g_free(n);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(JNode, jnode_free)

static void jmember_free(gpointer p)
{
        JMember *m = p;

        g_free(m->key);
        jnode_free(m->value);
        g_free(m);
}

static gboolean jfail(JReader *r, GError **error, const char *what)
{
        g_set_error(error, VMNET_ERROR, VMNET_ERROR_PARSE, "not valid JSON at byte %td: %s",
                    r->p - r->start, what);
        return FALSE;
}

static void jskip_ws(JReader *r)
{
        while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
                r->p++;
}

static int jhex4(const char *p)
{
        int v = 0;

        for (int i = 0; i < 4; i++) {
                int d = g_ascii_xdigit_value(p[i]);

                if (d < 0)
                        return -1;
                v = v * 16 + d;
        }
        return v;
}

/* At the opening quote; leaves r->p after the closing one. */
static char *jstring(JReader *r, GError **error)
{
        g_autoptr(GString) s = g_string_new(NULL);

        r->p++;
        while (r->p < r->end && *r->p != '"') {
                unsigned char c = (unsigned char)*r->p;

                if (c < 0x20) {
                        jfail(r, error, "control character in a string");
                        return NULL;
                }
                if (c != '\\') {
                        g_string_append_c(s, (char)c);
                        r->p++;
                        continue;
                }
                if (r->end - r->p < 2) {
                        jfail(r, error, "unfinished escape");
                        return NULL;
                }
                switch (r->p[1]) {
                case '"': g_string_append_c(s, '"'); break;
                case '\\': g_string_append_c(s, '\\'); break;
                case '/': g_string_append_c(s, '/'); break;
                case 'b': g_string_append_c(s, '\b'); break;
                case 'f': g_string_append_c(s, '\f'); break;
                case 'n': g_string_append_c(s, '\n'); break;
                case 'r': g_string_append_c(s, '\r'); break;
                case 't': g_string_append_c(s, '\t'); break;
                case 'u': {
                        int u = r->end - r->p >= 6 ? jhex4(r->p + 2) : -1;

                        if (u < 0) {
                                jfail(r, error, "bad \\u escape");
                                return NULL;
                        }
                        r->p += 4;
                        /* json.dumps() writes characters beyond the BMP as surrogate pairs. */
                        if (u >= 0xd800 && u < 0xdc00 && r->end - r->p >= 8 && r->p[2] == '\\' &&
                            r->p[3] == 'u') {
                                int lo = jhex4(r->p + 4);

                                if (lo >= 0xdc00 && lo < 0xe000) {
                                        u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                                        r->p += 6;
                                }
                        }
                        if (u >= 0xd800 && u < 0xe000)
                                u = 0xfffd; /* a lone surrogate has no UTF-8 form */
                        if (u == 0) {
                                jfail(r, error, "NUL character in a string");
                                return NULL;
                        }
                        g_string_append_unichar(s, (gunichar)u);
                        break;
                }
                default:
                        jfail(r, error, "bad escape");
                        return NULL;
                }
                r->p += 2;
        }
        if (r->p >= r->end) {
                jfail(r, error, "unterminated string");
                return NULL;
        }
        r->p++;
        if (!g_utf8_validate(s->str, (gssize)s->len, NULL)) {
                jfail(r, error, "string is not UTF-8");
                return NULL;
        }
        return g_string_free(g_steal_pointer(&s), FALSE);
}

static JNode *jvalue(JReader *r, GError **error);

static JNode *jcontainer(JReader *r, gboolean object, GError **error)
{
        g_autoptr(JNode) n = g_new0(JNode, 1);
        char close = object ? '}' : ']';

        if (++r->depth > J_MAX_DEPTH) {
                jfail(r, error, "nested too deeply");
                return NULL;
        }
        n->type = object ? J_OBJECT : J_ARRAY;
        n->items = g_ptr_array_new_with_free_func(object ? jmember_free : jnode_free);
        r->p++;
        jskip_ws(r);
        if (r->p < r->end && *r->p == close) {
                r->p++;
                r->depth--;
                return g_steal_pointer(&n);
        }
        for (;;) {
                g_autofree char *key = NULL;
                JNode *v;

                jskip_ws(r);
                if (object) {
                        if (r->p >= r->end || *r->p != '"') {
                                jfail(r, error, "expected a member name");
                                return NULL;
                        }
                        if (!(key = jstring(r, error)))
                                return NULL;
                        jskip_ws(r);
                        if (r->p >= r->end || *r->p != ':') {
                                jfail(r, error, "expected ':'");
                                return NULL;
                        }
                        r->p++;
                }
                if (!(v = jvalue(r, error)))
                        return NULL;
                if (object) {
                        JMember *m = g_new0(JMember, 1);

                        m->key = g_steal_pointer(&key);
                        m->value = v;
                        g_ptr_array_add(n->items, m);
                } else {
                        g_ptr_array_add(n->items, v);
                }
                jskip_ws(r);
                if (r->p < r->end && *r->p == ',') {
                        r->p++;
                        continue;
                }
                if (r->p < r->end && *r->p == close) {
                        r->p++;
                        r->depth--;
                        return g_steal_pointer(&n);
                }
                jfail(r, error, object ? "expected ',' or '}'" : "expected ',' or ']'");
                return NULL;
        }
}

static JNode *jvalue(JReader *r, GError **error)
{
        g_autoptr(JNode) n = NULL;
        const char *s;

        jskip_ws(r);
        if (r->p >= r->end) {
                jfail(r, error, "unexpected end");
                return NULL;
        }
        if (*r->p == '{' || *r->p == '[')
                return jcontainer(r, *r->p == '{', error);
        n = g_new0(JNode, 1);
        if (*r->p == '"') {
                n->type = J_STRING;
                if (!(n->text = jstring(r, error)))
                        return NULL;
                return g_steal_pointer(&n);
        }
        static const struct {
                const char *word;
                JType type;
                gboolean value;
        } words[] = {
                { "true", J_BOOL, TRUE }, { "false", J_BOOL, FALSE }, { "null", J_NULL, FALSE },
        };
        for (gsize i = 0; i < G_N_ELEMENTS(words); i++) {
                gsize len = strlen(words[i].word);

                if ((gsize)(r->end - r->p) >= len && memcmp(r->p, words[i].word, len) == 0) {
                        r->p += len;
                        n->type = words[i].type;
                        n->boolean = words[i].value;
                        return g_steal_pointer(&n);
                }
        }
        /* A number: -?digits[.digits][e[+-]digits], kept as written. */
        s = r->p;
        if (r->p < r->end && *r->p == '-')
                r->p++;
        if (r->p >= r->end || !g_ascii_isdigit(*r->p)) {
                jfail(r, error, "unexpected character");
                return NULL;
        }
        while (r->p < r->end && (g_ascii_isdigit(*r->p) || (*r->p && strchr(".eE+-", *r->p))))
                r->p++;
        n->type = J_NUMBER;
        n->text = g_strndup(s, (gsize)(r->p - s));
        return g_steal_pointer(&n);
}

static JNode *json_parse(const char *text, gsize len, GError **error)
{
        JReader r = { .start = text, .p = text, .end = text + len };
        g_autoptr(JNode) root = jvalue(&r, error);

        if (!root)
                return NULL;
        jskip_ws(&r);
        if (r.p != r.end) {
                jfail(&r, error, "text after the document");
                return NULL;
        }
        return g_steal_pointer(&root);
}

/* ------------------------------------------------------------------------ */
/* Module arguments */

typedef struct {
        char *module_name;
        char *plan;    /* path on the managed host */
        char *content; /* the plan's text */
        gboolean absent;
        char *netns;
        char *host;    /* a fleet plan's host; NULL: the managed host's hostname */
        char *connect; /* libvirt URI */
        int wait;
        guint unplug_timeout; /* 0: the default */
        gboolean force; /* state=absent: destroy even what others use */
        gboolean check;
        gboolean diff;
} ModArgs;

static void mod_args_clear(ModArgs *a)
{
        g_free(a->module_name);
        g_free(a->plan);
        g_free(a->content);
        g_free(a->netns);
        g_free(a->host);
        g_free(a->connect);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ModArgs, mod_args_clear)

static const char *const supported_args[] = {
        "connect", "content", "force", "host", "netns", "plan", "state", "unplug_timeout", "wait",
        NULL
};

/* Ansible's "str" type: strings as they are, numbers as written (AnsibleModule does the same). */
static gboolean arg_string(const JMember *m, char **out, GError **error)
{
        if (m->value->type == J_NULL)
                return TRUE;
        if (m->value->type != J_STRING && m->value->type != J_NUMBER) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_INVALID,
                            "argument '%s' must be a string", m->key);
                return FALSE;
        }
        g_free(*out);
        *out = g_strdup(m->value->text);
        return TRUE;
}

static gboolean arg_bool(const JMember *m, gboolean *out, GError **error)
{
        static const char *const yes[] = { "yes", "on", "1", "true", "y", "t", NULL };
        static const char *const no[] = { "no", "off", "0", "false", "n", "f", NULL };
        g_autofree char *lower = NULL;

        if (m->value->type == J_BOOL) {
                *out = m->value->boolean;
                return TRUE;
        }
        if (m->value->type == J_STRING || m->value->type == J_NUMBER) {
                lower = g_ascii_strdown(m->value->text, -1);
                if (g_strv_contains(yes, lower)) {
                        *out = TRUE;
                        return TRUE;
                }
                if (g_strv_contains(no, lower)) {
                        *out = FALSE;
                        return TRUE;
                }
        }
        g_set_error(error, VMNET_ERROR, VMNET_ERROR_INVALID, "argument '%s' must be a boolean",
                    m->key);
        return FALSE;
}

static gboolean mod_args_parse(const char *text, gsize len, ModArgs *a, GError **error)
{
        g_autoptr(JNode) root = json_parse(text, len, error);
        g_autoptr(GString) unsupported = g_string_new(NULL);
        g_autofree char *state = NULL;
        g_autofree char *wait = NULL;
        g_autofree char *unplug = NULL;

        if (!root)
                return FALSE;
        if (root->type != J_OBJECT) {
                g_set_error_literal(error, VMNET_ERROR, VMNET_ERROR_PARSE, "not a JSON object");
                return FALSE;
        }
        for (guint i = 0; i < root->items->len; i++) {
                const JMember *m = g_ptr_array_index(root->items, i);
                gboolean ok = TRUE;

                if (g_str_equal(m->key, "_ansible_check_mode"))
                        ok = arg_bool(m, &a->check, error);
                else if (g_str_equal(m->key, "_ansible_diff"))
                        ok = arg_bool(m, &a->diff, error);
                else if (g_str_equal(m->key, "_ansible_module_name"))
                        ok = arg_string(m, &a->module_name, error);
                else if (g_str_has_prefix(m->key, "_ansible_"))
                        continue; /* verbosity, no_log, tmpdir, ...: nothing vmnet uses */
                else if (g_str_equal(m->key, "plan"))
                        ok = arg_string(m, &a->plan, error);
                else if (g_str_equal(m->key, "content"))
                        ok = arg_string(m, &a->content, error);
                else if (g_str_equal(m->key, "state"))
                        ok = arg_string(m, &state, error);
                else if (g_str_equal(m->key, "netns"))
                        ok = arg_string(m, &a->netns, error);
                else if (g_str_equal(m->key, "host"))
                        ok = arg_string(m, &a->host, error);
                else if (g_str_equal(m->key, "connect"))
                        ok = arg_string(m, &a->connect, error);
                else if (g_str_equal(m->key, "wait"))
                        ok = arg_string(m, &wait, error);
                else if (g_str_equal(m->key, "unplug_timeout"))
                        ok = arg_string(m, &unplug, error);
                else if (g_str_equal(m->key, "force"))
                        ok = arg_bool(m, &a->force, error);
                else
                        g_string_append_printf(unsupported, "%s%s", unsupported->len ? ", " : "",
                                               m->key);
                if (!ok)
                        return FALSE;
        }
        if (unsupported->len) {
                g_autofree char *list = g_strjoinv(", ", (char **)supported_args);

                /* AnsibleModule's wording, so the message reads like any other module's. */
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_INVALID,
                            "Unsupported parameters for (%s) module: %s. "
                            "Supported parameters include: %s.",
                            a->module_name ? a->module_name : "vmnet", unsupported->str, list);
                return FALSE;
        }
        if (a->plan && a->content) {
                g_set_error_literal(error, VMNET_ERROR, VMNET_ERROR_INVALID,
                                    "parameters are mutually exclusive: plan|content");
                return FALSE;
        }
        if (!a->plan && !a->content) {
                g_set_error_literal(error, VMNET_ERROR, VMNET_ERROR_INVALID,
                                    "one of the following is required: plan, content");
                return FALSE;
        }
        if (state && !g_str_equal(state, "present") && !g_str_equal(state, "absent")) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_INVALID,
                            "value of state must be one of: present, absent, got: %s", state);
                return FALSE;
        }
        a->absent = state && g_str_equal(state, "absent");
        if (a->netns && !*a->netns)
                g_clear_pointer(&a->netns, g_free);
        if (wait) {
                guint64 v;

                if (!g_ascii_string_to_unsigned(wait, 10, 0, G_MAXINT, &v, NULL)) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_INVALID,
                                    "argument 'wait' must be a number of seconds, got: %s", wait);
                        return FALSE;
                }
                a->wait = (int)v;
        }
        if (unplug) {
                guint64 v;

                if (!g_ascii_string_to_unsigned(unplug, 10, 1, VMNET_UNPLUG_TIMEOUT_MAX, &v, NULL)) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_INVALID,
                                    "argument 'unplug_timeout' must be 1 to %d seconds, got: %s",
                                    VMNET_UNPLUG_TIMEOUT_MAX, unplug);
                        return FALSE;
                }
                a->unplug_timeout = (guint)v;
        }
        return TRUE;
}

/* ------------------------------------------------------------------------ */
/* The managed state as text, for diff mode's before/after */

static void names_add(GPtrArray *names, const char *name)
{
        if (name && !g_ptr_array_find_with_equal_func(names, name, g_str_equal, NULL))
                g_ptr_array_add(names, g_strdup(name));
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_host_addr(gconstpointer a, gconstpointer b)
{
        const VmnetHostAddr *x = a, *y = b;
        int c = vmnet_addr_cmp(&x->addr, &y->addr);

        return c ? c : (int)x->prefixlen - (int)y->prefixlen;
}

static void link_text(GString *out, const VmnetHost *host, const char *name)
{
        const VmnetHostLink *l = vmnet_host_find_link(host, name);
        g_autoptr(GArray) addrs = NULL;

        if (!l) {
                g_string_append_printf(out, "link %s: absent\n", name);
                return;
        }
        g_string_append_printf(out, "link %s: %s, mtu %u, %s", l->name,
                               l->kind ? l->kind : "device", l->mtu, l->up ? "up" : "down");
        if (l->master_name)
                g_string_append_printf(out, ", master %s", l->master_name);
        if (l->kind && g_str_equal(l->kind, "vlan"))
                g_string_append_printf(out, ", vlan %u on %s", l->vlan_id,
                                       l->link_name ? l->link_name : "?");
        if (l->stp_state >= 0)
                g_string_append_printf(out, ", stp %s", l->stp_state ? "on" : "off");
        if (l->forward_delay >= 0)
                g_string_append_printf(out, ", forward delay %d", l->forward_delay);
        if (l->alias)
                g_string_append_printf(out, ", alias %s", l->alias);
        g_string_append_c(out, '\n');
        if (!l->addrs)
                return;
        /* Dump order is the order addresses were added: sort so that only real changes show. */
        addrs = g_array_copy(l->addrs);
        g_array_sort(addrs, cmp_host_addr);
        for (guint i = 0; i < addrs->len; i++) {
                const VmnetHostAddr *a = &g_array_index(addrs, VmnetHostAddr, i);
                g_autofree char *s = NULL;

                if (a->scope == RT_SCOPE_LINK || a->scope == RT_SCOPE_HOST)
                        continue;
                s = vmnet_addr_to_string(&a->addr);
                g_string_append_printf(out, "  address %s/%u\n", s, a->prefixlen);
        }
}

/*
 * What the plan manages, as observed: the links it names or owns (and their
 * ports), static routes through them, the forwarding sysctls and vmnet's
 * nftables table. Only observed facts: the same text before and after a
 * run means the run changed none of them.
 */
static char *state_text(const VmnetObserved *obs, const VmnetPlan *plan)
{
        const VmnetHost *host = obs->host;
        g_autofree char *alias = vmnet_link_alias_for_plan(plan->name);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) routes = g_ptr_array_new_with_free_func(g_free);
        GString *out = g_string_new(NULL);
        guint n;

        for (guint i = 0; i < plan->networks->len; i++) {
                const VmnetNetwork *net = g_ptr_array_index(plan->networks, i);

                names_add(names, net->bridge);
                if (net->uplink) {
                        names_add(names, net->uplink->dev);
                        names_add(names, net->uplink->ifname);
                }
        }
        for (guint i = 0; i < host->links->len; i++) {
                const VmnetHostLink *l = g_ptr_array_index(host->links, i);

                if (g_strcmp0(l->alias, alias) == 0)
                        names_add(names, l->name);
        }
        for (guint i = 0; obs->foreign && i < obs->foreign->changes->len; i++) {
                const VmnetForeignChange *c = g_ptr_array_index(obs->foreign->changes, i);

                if (vmnet_host_find_link(host, c->object))
                        names_add(names, c->object);
        }
        /* Ports of those links, once: enslaving is what a bridged network does. */
        n = names->len;
        for (guint i = 0; i < host->links->len; i++) {
                const VmnetHostLink *l = g_ptr_array_index(host->links, i);

                for (guint k = 0; l->master_name && k < n; k++)
                        if (g_str_equal(l->master_name, g_ptr_array_index(names, k)))
                                names_add(names, l->name);
        }
        g_ptr_array_sort(names, cmp_str);
        for (guint i = 0; i < names->len; i++)
                link_text(out, host, g_ptr_array_index(names, i));

        /* Connected routes follow from the addresses above; show the others. */
        for (guint i = 0; i < host->routes->len; i++) {
                const VmnetHostRoute *r = g_ptr_array_index(host->routes, i);
                g_autofree char *dst = NULL;
                g_autofree char *via = NULL;

                if (r->protocol == RTPROT_KERNEL || !r->oif_name ||
                    !g_ptr_array_find_with_equal_func(names, r->oif_name, g_str_equal, NULL))
                        continue;
                dst = vmnet_prefix_to_string(&r->dst);
                via = r->has_gateway ? vmnet_addr_to_string(&r->gateway) : NULL;
                g_ptr_array_add(routes, g_strdup_printf("route %s%s%s dev %s\n", dst,
                                                        via ? " via " : "", via ? via : "",
                                                        r->oif_name));
        }
        g_ptr_array_sort(routes, cmp_str);
        for (guint i = 0; i < routes->len; i++)
                g_string_append(out, g_ptr_array_index(routes, i));

        for (const char *const *k = vmnet_host_sysctl_keys; *k; k++) {
                const char *v = vmnet_host_sysctl(host, *k);

                g_string_append_printf(out, "sysctl %s = %s\n", *k, v ? v : "(unreadable)");
        }
        if (!obs->nft->exists) {
                g_string_append(out, "nftables table inet vmnet: absent\n");
        } else {
                /* The digest is exact but not meant for people: its checksum shows a change. */
                g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
                                                                     obs->nft->digest, -1);

                sum[12] = '\0';
                g_string_append_printf(out, "nftables table inet vmnet: present, comment \"%s\", "
                                            "ruleset %s\n",
                                       obs->nft->comment ? obs->nft->comment : "", sum);
        }
        return g_string_free(out, FALSE);
}

/* ------------------------------------------------------------------------ */
/* The result Ansible reads */

typedef struct {
        const ModArgs *args;
        const char *netns;
        const VmnetPlan *plan;
        gboolean failed;
        gboolean changed;
        gboolean executed;
        char *msg;
        GPtrArray *warnings;      /* char* */
        const GPtrArray *actions; /* VmnetAction*, borrowed; NULL before the diff */
        const VmnetDiags *errors; /* the plan's diagnostics, borrowed */
        char *before;
        char *after;
} Result;

static void result_clear(Result *r)
{
        g_free(r->msg);
        g_ptr_array_unref(r->warnings);
        g_free(r->before);
        g_free(r->after);
}

static guint count_disruptive(const GPtrArray *actions)
{
        guint n = 0;

        for (guint i = 0; i < actions->len; i++)
                n += ((const VmnetAction *)g_ptr_array_index(actions, i))->impact ==
                     VMNET_IMPACT_DISRUPTIVE;
        return n;
}

/* The actions as Ansible prints a diff's "prepared" text: verbatim. */
static char *actions_text(const Result *r)
{
        GString *s = g_string_new(NULL);

        g_string_append_printf(s, "vmnet %s plan '%s'%s%s: %s %u actions (%u disruptive)\n",
                               r->args->absent ? "destroy" : "apply", r->plan->name,
                               r->netns ? " in network namespace " : "", r->netns ? r->netns : "",
                               r->executed ? "took" : "would take", r->actions->len,
                               count_disruptive(r->actions));
        for (guint i = 0; i < r->actions->len; i++) {
                const VmnetAction *a = g_ptr_array_index(r->actions, i);
                g_autofree char *d = vmnet_action_describe(a);
                g_autofree char *tag = g_strdup_printf(" [%s]", vmnet_impact_to_string(a->impact));

                if (g_str_has_suffix(d, tag))
                        d[strlen(d) - strlen(tag)] = '\0';
                g_string_append_printf(s, "  %3u. [%s] %s\n", i + 1,
                                       vmnet_impact_to_string(a->impact), d);
        }
        return g_string_free(s, FALSE);
}

static void json_diff(VmnetJson *j, const Result *r)
{
        g_autofree char *header = NULL;

        vmnet_json_key(j, "diff");
        vmnet_json_begin_array(j);
        if (r->before && r->after) {
                header = g_strdup_printf("vmnet plan '%s'%s%s", r->plan->name,
                                         r->netns ? ", network namespace " : "",
                                         r->netns ? r->netns : "");
                vmnet_json_begin_object(j);
                vmnet_json_key(j, "before_header");
                vmnet_json_string(j, header);
                vmnet_json_key(j, "before");
                vmnet_json_string(j, r->before);
                vmnet_json_key(j, "after_header");
                vmnet_json_string(j, header);
                vmnet_json_key(j, "after");
                vmnet_json_string(j, r->after);
                vmnet_json_end_object(j);
        }
        if (r->actions && r->actions->len) {
                g_autofree char *text = actions_text(r);

                vmnet_json_begin_object(j);
                vmnet_json_key(j, "prepared");
                vmnet_json_string(j, text);
                vmnet_json_end_object(j);
        }
        vmnet_json_end_array(j);
}

/* Prints the one JSON object Ansible reads; returns the exit status. */
static int emit(const Result *r)
{
        g_autoptr(VmnetJson) j = vmnet_json_new();

        vmnet_json_begin_object(j);
        vmnet_json_key(j, "changed");
        vmnet_json_bool(j, !r->failed && r->changed);
        vmnet_json_key(j, "failed");
        vmnet_json_bool(j, r->failed);
        vmnet_json_key(j, "msg");
        vmnet_json_string(j, r->msg);
        if (r->plan) {
                vmnet_json_key(j, "plan");
                vmnet_json_string(j, r->plan->name);
        }
        vmnet_json_key(j, "state");
        vmnet_json_string(j, r->args->absent ? "absent" : "present");
        vmnet_json_key(j, "netns");
        vmnet_json_string(j, r->netns);
        vmnet_json_key(j, "connect");
        vmnet_json_string(j, r->args->connect);
        vmnet_json_key(j, "check_mode");
        vmnet_json_bool(j, r->args->check);
        vmnet_cli_json_actions(j, "actions", r->actions);
        if (r->errors)
                vmnet_cli_json_diags(j, "errors", r->errors);
        if (r->warnings->len) {
                vmnet_json_key(j, "warnings");
                vmnet_json_begin_array(j);
                for (guint i = 0; i < r->warnings->len; i++)
                        vmnet_json_string(j, g_ptr_array_index(r->warnings, i));
                vmnet_json_end_array(j);
        }
        if (r->args->diff && !r->failed && r->plan)
                json_diff(j, r);
        vmnet_json_end_object(j);
        vmnet_cli_json_print(j);
        return r->failed ? VMNET_EXIT_FAILURE : VMNET_EXIT_OK;
}

static int fail(Result *r, const char *msg)
{
        g_free(r->msg);
        r->msg = g_strdup(msg);
        r->failed = TRUE;
        return emit(r);
}

/* Loads and validates the plan; on failure msg carries every diagnostic, one per line. */
static VmnetPlan *load_plan(const ModArgs *a, VmnetDiags *diags, char **msg)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VmnetPlan) plan = NULL;

        if (a->plan)
                plan = vmnet_plan_load_file(a->plan, diags, &error);
        else
                plan = vmnet_plan_load_data(a->content, strlen(a->content), CONTENT_FILE, diags,
                                            &error);
        if (plan && !vmnet_plan_validate(plan, diags)) {
                g_set_error(&error, VMNET_ERROR, VMNET_ERROR_INVALID, "%s: invalid plan",
                            plan->file);
                g_clear_pointer(&plan, vmnet_plan_free);
        }
        /* A fleet plan: the managed host's part (host=, else its hostname). */
        if (plan && !vmnet_cli_select_host(a->host && *a->host ? a->host : NULL, plan, diags,
                                           &error))
                g_clear_pointer(&plan, vmnet_plan_free);
        if (!plan) {
                GString *s = g_string_new(NULL);

                vmnet_diags_sort(diags);
                for (guint i = 0; i < diags->items->len; i++) {
                        const VmnetDiag *d = g_ptr_array_index(diags->items, i);
                        g_autofree char *line = vmnet_diag_format(d);

                        g_string_append_printf(s, "%s%s", s->len ? "\n" : "", line);
                }
                if (!s->len)
                        g_string_append(s, error ? error->message : "cannot load the plan");
                *msg = g_string_free(s, FALSE);
                return NULL;
        }
        return g_steal_pointer(&plan);
}

/* Adds the warnings from index `from` on. */
static void add_warnings_from(Result *r, const VmnetDiags *warnings, guint from)
{
        for (guint i = from; i < warnings->items->len; i++)
                g_ptr_array_add(r->warnings,
                                vmnet_diag_format(g_ptr_array_index(warnings->items, i)));
}

/* Runs the module with the arguments in args_path; prints the result. */
static int run_module(VmnetCli *cli, const char *args_path)
{
        g_auto(ModArgs) args = { 0 };
        Result r = { .args = &args, .warnings = g_ptr_array_new_with_free_func(g_free) };
        g_autofree char *text = NULL;
        g_autofree char *load_msg = NULL;
        g_autoptr(VmnetDiags) diags = vmnet_diags_new();
        g_autoptr(VmnetPlan) plan = NULL;
        g_autoptr(GError) error = NULL;
        g_auto(VmnetRun) run = { .lock = -1 };
        VmnetRunOpts ro = { 0 };
        GPtrArray *actions;
        gsize len = 0;
        guint n_warnings;
        int rc;

        if (!g_file_get_contents(args_path, &text, &len, &error)) {
                g_autofree char *m = g_strdup_printf("cannot read the module arguments: %s",
                                                     error->message);

                rc = fail(&r, m);
                goto out;
        }
        if (!mod_args_parse(text, len, &args, &error)) {
                if (error->code == VMNET_ERROR_PARSE)
                        g_prefix_error(&error, "%s: ", args_path);
                rc = fail(&r, error->message);
                goto out;
        }
        r.netns = args.netns ? args.netns : cli->netns;
        if (r.netns && !vmnet_netns_name_check(r.netns, &error)) {
                g_prefix_error(&error, "argument 'netns': ");
                rc = fail(&r, error->message);
                goto out;
        }
        if (!(plan = load_plan(&args, diags, &load_msg))) {
                r.errors = diags;
                rc = fail(&r, load_msg);
                goto out;
        }
        r.plan = plan;

        ro.destroy = args.absent;
        ro.netns = r.netns;
        ro.connect = args.connect;
        ro.wait = (guint)args.wait;
        ro.unplug_timeout = args.unplug_timeout;
        ro.force = args.force;
        if (!vmnet_engine_prepare(&run, plan, &ro, &error))
                goto failed;
        add_warnings_from(&r, run.warnings, 0);
        n_warnings = run.warnings->items->len;
        actions = run.actions;
        r.actions = actions;
        r.changed = actions->len > 0;
        /* In check mode nothing runs, there is no "after" to observe: the actions are the diff. */
        if (args.diff && !args.check && actions->len)
                r.before = state_text(run.obs, plan);

        if (args.check || !actions->len) {
                if (!actions->len && args.absent)
                        r.msg = g_strdup_printf("no changes: nothing of plan '%s' is on the host",
                                                plan->name);
                else if (!actions->len)
                        r.msg = g_strdup_printf("no changes: the host matches plan '%s'",
                                                plan->name);
                else
                        r.msg = g_strdup_printf("would take %u actions (%u disruptive)",
                                                actions->len, count_disruptive(actions));
                rc = emit(&r);
                goto out;
        }
        /* After the run the host must match: anything left to do is an error, not a success. */
        if (!vmnet_engine_commit(&run, plan, &ro, NULL, NULL, &r.executed, &error))
                goto failed;
        add_warnings_from(&r, run.warnings, n_warnings);
        if (r.before)
                r.after = state_text(run.after, plan);
        r.msg = g_strdup_printf("%s: %u actions done (%u disruptive)",
                                args.absent ? "destroy" : "apply", actions->len,
                                count_disruptive(actions));
        rc = emit(&r);
        goto out;

failed:
        rc = fail(&r, error->message);
out:
        result_clear(&r);
        return rc;
}

/* ------------------------------------------------------------------------ */
/* Entry points */

gboolean vmnet_ansible_invoked_as_module(const char *argv0)
{
        g_autofree char *base = argv0 ? g_path_get_basename(argv0) : NULL;
        const char *name = base;

        if (!name)
                return FALSE;
        /* Ansible runs the copy it made as AnsiballZ_<module name>. */
        if (g_str_has_prefix(name, "AnsiballZ_"))
                name += strlen("AnsiballZ_");
        return g_str_has_prefix(name, "vmnet_") && name[strlen("vmnet_")] != '\0';
}

int vmnet_ansible_main(int argc, char **argv)
{
        VmnetCli cli = { .json = TRUE };

        if (argc != 2) {
                ModArgs none = { 0 };
                Result r = { .args = &none, .warnings = g_ptr_array_new_with_free_func(g_free) };
                g_autofree char *base = g_path_get_basename(argv[0]);
                g_autofree char *m = g_strdup_printf(
                        "%s is vmnet run as an Ansible module: Ansible runs it as '%s ARGSFILE'; "
                        "by hand, use vmnet(8)",
                        base, base);
                int rc = fail(&r, m);

                result_clear(&r);
                return rc;
        }
        return run_module(&cli, argv[1]);
}

int vmnet_cmd_ansible(VmnetCli *cli, int argc, char **argv)
{
        if (!vmnet_cli_parse(cli, vmnet_cli_command("ansible"), NULL, &argc, &argv))
                return VMNET_EXIT_FAILURE;
        if (argc != 2) {
                fprintf(stderr, "vmnet ansible: expected exactly one ARGSFILE "
                                "(the module arguments as JSON)\n");
                return VMNET_EXIT_FAILURE;
        }
        /* The output is always Ansible's JSON, whatever --json says. */
        cli->json = TRUE;
        return run_module(cli, argv[1]);
}
