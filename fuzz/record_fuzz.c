/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: the binary event record decoder (event/record.h).
 *
 * Besides the sanitizers it checks the codec's promises: a rejected record
 * has a reason; record_peek_length agrees with an accepted record's
 * length; an accepted record re-encodes to one that decodes to the same
 * event (encode(decode(x)) is a fixed point).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[RECORD_MAX_LEN];
	static struct event ev, ev2;
	const char *reason = NULL;
	int len, peek;

	peek = record_peek_length(data, size);
	if (record_decode(data, size, &ev, &reason) != 0) {
		if (!reason)
			abort();
		return 0;
	}
	if (peek < 0 || (size_t)peek != size)
		abort();
	len = record_encode(&ev, again, sizeof(again));
	if (len < 0)
		abort(); /* what was decoded from <= RECORD_MAX_LEN bytes fits */
	if (record_decode(again, (size_t)len, &ev2, &reason) != 0)
		abort();
	if (memcmp(&ev, &ev2, sizeof(ev)) != 0)
		abort();
	return 0;
}
