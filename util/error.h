/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The error convention of every module (docs/architecture.md, "Errors"):
 * a function returns 0 (or a count) on success and a negative errno on
 * failure. When a user needs to know what to do, the one-line reason goes
 *   - into the caller's buffer, `char *err, size_t errlen` (either may be
 *     NULL/0), for a call that opens or sets up something; or
 *   - into the object's own reason, read with its accessor (live_error(),
 *     reader_error(), snapshot_stats.reason), for an object whose later
 *     calls can fail;
 * both through error_set(). Decoders of outside input on the hot path
 * (record_decode, event_comment_parse, the Docker answer parser) instead
 * hand back a static text, `const char **ret_reason`: nothing formatted
 * per malformed input. */
#ifndef EBPFDUMP_UTIL_ERROR_H
#define EBPFDUMP_UTIL_ERROR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Format the reason into err (unless err is NULL or errlen 0) and return
 * code, so that `return error_set(err, errlen, -EINVAL, "...", ...);`
 * says and fails in one statement. */
static inline int error_set(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static inline int error_set(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

#endif
