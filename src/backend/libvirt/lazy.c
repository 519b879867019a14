/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dlfcn.h>
#include <glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "util/mutant.h"

/*
 * libvirt, loaded on first use.
 *
 * Debian's libvirt.so.0 pulls in some fifty libraries (gnutls, curl, ssh,
 * ldap, ICU, ...), all bound at start (-z now): measured with callgrind,
 * `vmnet --version` executed 35M instructions when linked with -lvirt and
 * 4M without, and under the test VM's emulation that was ~100 ms per run.
 * Most runs never talk to libvirt (validate, render, --netns, --no-libvirt,
 * plans without libvirt parts), so vmnet is linked without libvirt and
 * this file defines the libvirt calls vmnet makes as trampolines: the
 * first call dlopen()s libvirt.so.0 and every call goes to the real
 * function. The rest of the code uses the libvirt API as it is.
 *
 * Every libvirt object vmnet holds comes from a connection, so only the
 * calls a run can make before it has one need an answer when libvirt is
 * missing: opening a connection fails (NULL, with the loader's message as
 * the last error) and error handling calls do nothing. Any other call
 * without libvirt is a bug in vmnet and aborts.
 */

#define LIBVIRT_SONAME "libvirt.so.0"

static char *load_error;

static void *libvirt_handle(void)
{
        static gsize once;
        static void *handle;

        if (g_once_init_enter(&once)) {
                handle = dlopen(LIBVIRT_SONAME, RTLD_NOW | RTLD_LOCAL);
                if (!handle)
                        load_error = g_strdup_printf("cannot load libvirt: %s", dlerror());
                g_once_init_leave(&once, 1);
        }
        return handle;
}

static void *resolve(const char *name)
{
        void *handle = libvirt_handle();

        return handle ? dlsym(handle, name) : NULL;
}

static void missing(const char *name)
{
        g_error("%s called without libvirt (%s)", name,
                load_error ? load_error : "symbol not found");
}

/* One trampoline: resolve once, then call; FALLBACK runs when libvirt is missing. */
#define RESOLVE(name, fallback)                                                  \
        static __typeof__(&name) fn;                                             \
        __typeof__(&name) f = g_atomic_pointer_get(&fn);                         \
        if (!f) {                                                                \
                if (!(f = (__typeof__(&name))resolve(#name)) &&                  \
                    !VMNET_MUTANT_IS(NO_LIBVIRT_FALLBACK)) {                     \
                        fallback;                                                \
                }                                                                \
                g_atomic_pointer_set(&fn, f);                                    \
        }
#define CALL(ret, name, params, args, fallback)                                  \
        ret name params                                                          \
        {                                                                        \
                RESOLVE(name, fallback)                                          \
                return f args;                                                   \
        }
#define CALL_VOID(name, params, args, fallback)                                  \
        void name params                                                         \
        {                                                                        \
                RESOLVE(name, fallback; return)                                  \
                f args;                                                          \
        }
#define BUG(name) missing(#name)

/* What a run may call before it has a connection. */
CALL(virConnectPtr, virConnectOpen, (const char *uri), (uri), return NULL)
CALL(virConnectPtr, virConnectOpenReadOnly, (const char *uri), (uri), return NULL)
CALL(const char *, virGetLastErrorMessage, (void), (), return load_error ? load_error : "no error")
CALL(int, virGetLastErrorCode, (void), (), return load_error ? VIR_ERR_INTERNAL_ERROR : VIR_ERR_OK)
CALL_VOID(virResetLastError, (void), (), (void)0)
CALL_VOID(virSetErrorFunc, (void *opaque, virErrorFunc handler), (opaque, handler), (void)0)
CALL(int, virEventRegisterDefaultImpl, (void), (), return -1)

/* The event loop (waiting for a guest to release a device). */
CALL(int, virEventRunDefaultImpl, (void), (), BUG(virEventRunDefaultImpl))
CALL(int, virEventAddTimeout, (int ms, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff),
     (ms, cb, opaque, ff), BUG(virEventAddTimeout))
CALL(int, virEventRemoveTimeout, (int timer), (timer), BUG(virEventRemoveTimeout))
CALL(int, virConnectDomainEventRegisterAny,
     (virConnectPtr c, virDomainPtr d, int id, virConnectDomainEventGenericCallback cb,
      void *opaque, virFreeCallback ff),
     (c, d, id, cb, opaque, ff), BUG(virConnectDomainEventRegisterAny))
CALL(int, virConnectDomainEventDeregisterAny, (virConnectPtr c, int id), (c, id),
     BUG(virConnectDomainEventDeregisterAny))

/* Connections. */
CALL(int, virConnectClose, (virConnectPtr c), (c), BUG(virConnectClose))
CALL(char *, virConnectGetURI, (virConnectPtr c), (c), BUG(virConnectGetURI))
CALL(int, virConnectListAllNetworks, (virConnectPtr c, virNetworkPtr **nets, unsigned int flags),
     (c, nets, flags), BUG(virConnectListAllNetworks))
CALL(int, virConnectListAllDomains, (virConnectPtr c, virDomainPtr **doms, unsigned int flags),
     (c, doms, flags), BUG(virConnectListAllDomains))

/* Networks. */
CALL(virNetworkPtr, virNetworkLookupByName, (virConnectPtr c, const char *name), (c, name),
     BUG(virNetworkLookupByName))
CALL(virNetworkPtr, virNetworkDefineXML, (virConnectPtr c, const char *xml), (c, xml),
     BUG(virNetworkDefineXML))
CALL(char *, virNetworkGetXMLDesc, (virNetworkPtr n, unsigned int flags), (n, flags),
     BUG(virNetworkGetXMLDesc))
CALL(const char *, virNetworkGetName, (virNetworkPtr n), (n), BUG(virNetworkGetName))
CALL(int, virNetworkGetUUIDString, (virNetworkPtr n, char *buf), (n, buf),
     BUG(virNetworkGetUUIDString))
CALL(int, virNetworkIsActive, (virNetworkPtr n), (n), BUG(virNetworkIsActive))
CALL(int, virNetworkIsPersistent, (virNetworkPtr n), (n), BUG(virNetworkIsPersistent))
CALL(int, virNetworkGetAutostart, (virNetworkPtr n, int *autostart), (n, autostart),
     BUG(virNetworkGetAutostart))
CALL(int, virNetworkSetAutostart, (virNetworkPtr n, int autostart), (n, autostart),
     BUG(virNetworkSetAutostart))
CALL(int, virNetworkCreate, (virNetworkPtr n), (n), BUG(virNetworkCreate))
CALL(int, virNetworkDestroy, (virNetworkPtr n), (n), BUG(virNetworkDestroy))
CALL(int, virNetworkUndefine, (virNetworkPtr n), (n), BUG(virNetworkUndefine))
CALL(int, virNetworkFree, (virNetworkPtr n), (n), BUG(virNetworkFree))
CALL(int, virNetworkUpdate,
     (virNetworkPtr n, unsigned int command, unsigned int section, int parent, const char *xml,
      unsigned int flags),
     (n, command, section, parent, xml, flags), BUG(virNetworkUpdate))

/* Domains. */
CALL(virDomainPtr, virDomainLookupByName, (virConnectPtr c, const char *name), (c, name),
     BUG(virDomainLookupByName))
CALL(virDomainPtr, virDomainDefineXML, (virConnectPtr c, const char *xml), (c, xml),
     BUG(virDomainDefineXML))
CALL(char *, virDomainGetXMLDesc, (virDomainPtr d, unsigned int flags), (d, flags),
     BUG(virDomainGetXMLDesc))
CALL(const char *, virDomainGetName, (virDomainPtr d), (d), BUG(virDomainGetName))
CALL(int, virDomainGetUUIDString, (virDomainPtr d, char *buf), (d, buf),
     BUG(virDomainGetUUIDString))
CALL(int, virDomainIsActive, (virDomainPtr d), (d), BUG(virDomainIsActive))
CALL(int, virDomainIsPersistent, (virDomainPtr d), (d), BUG(virDomainIsPersistent))
CALL(unsigned int, virDomainGetID, (virDomainPtr d), (d), BUG(virDomainGetID))
CALL(int, virDomainGetState, (virDomainPtr d, int *state, int *reason, unsigned int flags),
     (d, state, reason, flags), BUG(virDomainGetState))
CALL(int, virDomainGetAutostart, (virDomainPtr d, int *autostart), (d, autostart),
     BUG(virDomainGetAutostart))
CALL(int, virDomainCreate, (virDomainPtr d), (d), BUG(virDomainCreate))
CALL(int, virDomainDestroy, (virDomainPtr d), (d), BUG(virDomainDestroy))
CALL(int, virDomainUndefine, (virDomainPtr d), (d), BUG(virDomainUndefine))
CALL(int, virDomainFree, (virDomainPtr d), (d), BUG(virDomainFree))
CALL(int, virDomainAttachDeviceFlags, (virDomainPtr d, const char *xml, unsigned int flags),
     (d, xml, flags), BUG(virDomainAttachDeviceFlags))
CALL(int, virDomainDetachDeviceFlags, (virDomainPtr d, const char *xml, unsigned int flags),
     (d, xml, flags), BUG(virDomainDetachDeviceFlags))
CALL(int, virDomainUpdateDeviceFlags, (virDomainPtr d, const char *xml, unsigned int flags),
     (d, xml, flags), BUG(virDomainUpdateDeviceFlags))
CALL(int, virDomainInterfaceAddresses,
     (virDomainPtr d, virDomainInterfacePtr **ifaces, unsigned int source, unsigned int flags),
     (d, ifaces, source, flags), BUG(virDomainInterfaceAddresses))
CALL_VOID(virDomainInterfaceFree, (virDomainInterfacePtr iface), (iface),
          BUG(virDomainInterfaceFree))
