// SPDX-License-Identifier: GPL-2.0-or-later
/* libzmq opened at first use: see zmqlib.h. */
#define ZMQLIB_DEFINE
#include <dlfcn.h>
#include <errno.h>

#include "remote/remote.h"
#include "remote/zmqlib.h"
#include "util/error.h"

struct zmqlib zmqlib;

int zmqlib_open(char *err, size_t errlen)
{
	static void *handle;
	const char *why;
	void *h;

	if (handle)
		return 0;
	h = dlopen(ZMQLIB_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return error_set(err, errlen, -ENOENT,
				   "ZeroMQ is not available: %s (install libzmq5)", dlerror());
#define ZMQLIB_RESOLVE(name)                                             \
	zmqlib.name = (__typeof__(name) *)dlsym(h, #name);               \
	if (!zmqlib.name) {                                              \
		why = #name;                                             \
		goto missing;                                            \
	}
	ZMQLIB_FUNCTIONS(ZMQLIB_RESOLVE)
#undef ZMQLIB_RESOLVE
	handle = h;
	return 0;
missing:
	dlclose(h);
	return error_set(err, errlen, -ENOENT,
			   "ZeroMQ is not available: %s has no %s (libzmq 4.3 or later is needed)",
			   ZMQLIB_SONAME, why);
}
