/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: the merged-packet comment parser event_comment_parse
 * (event/comment.h), fed the input as a NUL-terminated comment.
 *
 * Checks: a malformed line has a reason; an accepted line's events format
 * back into a comment that parses to the same events (but for the
 * identity of compact tags, which the long form does not carry).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event/comment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[EVENT_COMMENT_MAX + 1], again[EVENT_COMMENT_MAX];
	static struct event src, dst, src2, dst2;
	const char *reason = NULL;
	int r, len;

	if (size > EVENT_COMMENT_MAX)
		size = EVENT_COMMENT_MAX;
	memcpy(text, data, size);
	text[size] = '\0';
	r = event_comment_parse(text, &src, &dst, &reason);
	if (r == -EBADMSG && !reason)
		abort();
	if (r != 0 && r != -EBADMSG && r != -ENOMSG)
		abort();
	if (r != 0)
		return 0;
	/* The long form has no identity item: only the compact tags
	 * ("src=comm[pid]#identity") carry it, and a line may mix both. */
	src.present &= ~EVENT_BIT(ITEM_IDENTITY);
	dst.present &= ~EVENT_BIT(ITEM_IDENTITY);
	src.identity = dst.identity = 0;
	len = event_comment_format(&src, &dst, again, sizeof(again));
	if (len < 0)
		abort();
	if (event_comment_parse(again, &src2, &dst2, &reason) != 0)
		abort();
	if (memcmp(&src, &src2, sizeof(src)) != 0 || memcmp(&dst, &dst2, sizeof(dst)) != 0)
		abort();
	return 0;
}
