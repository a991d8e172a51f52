/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the ZeroMQ event message decoder (remote/message.h).
 *
 * Input framing, so that the fuzzer controls the frame count and sizes:
 * byte 0 is the frame count (taken modulo REMOTE_FUZZ_FRAMES_MAX + 1), then
 * per frame a 2-byte big-endian length and that many bytes (cut short at
 * the end of the input). `test_remote seeds DIR` writes valid seeds.
 *
 * Besides the sanitizers it checks what the decoder promises: an accepted
 * message has its host from frame 2 and re-encodes to a record that is
 * accepted again with the same fields.
 * Build: CC=clang cmake -DEBPFDUMP_FUZZ=ON ...; run: remote_fuzz CORPUS_DIR.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event/record.h"
#include "remote/message.h"

#define REMOTE_FUZZ_FRAMES_MAX 7u

static uint8_t reencoded[RECORD_MAX_LEN];

static void check_accepted(const struct remote_frame *frames, const struct event *ev)
{
	struct remote_frame again[REMOTE_FRAMES];
	struct event ev2;
	unsigned reason;
	const char *detail;
	int len;

	if (!EVENT_HAS(ev, ITEM_HOST) || strlen(ev->host) != frames[1].len ||
	    memcmp(ev->host, frames[1].data, frames[1].len) != 0)
		abort();
	len = record_encode(ev, reencoded, sizeof(reencoded));
	if (len == -ENOSPC)
		return; /* the host item pushed it over RECORD_MAX_LEN */
	if (len < 0)
		abort();
	memcpy(again, frames, sizeof(again));
	again[2].data = reencoded;
	again[2].len = (size_t)len;
	if (remote_message_decode(again, REMOTE_FRAMES, &ev2, &reason, &detail) != 0)
		abort();
	if (ev2.type != ev->type || ev2.seq != ev->seq || ev2.ts_ns != ev->ts_ns ||
	    ev2.present != ev->present || strcmp(ev2.host, ev->host) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct remote_frame frames[REMOTE_FRAMES];
	static struct event ev;
	size_t nframes, i, pos = 1;
	unsigned reason = REMOTE_DROP_MAX;
	const char *detail = NULL;

	if (size < 1)
		return 0;
	nframes = data[0] % (REMOTE_FUZZ_FRAMES_MAX + 1);
	for (i = 0; i < nframes; i++) {
		size_t len = 0;

		if (size - pos >= 2) {
			len = (size_t)data[pos] << 8 | data[pos + 1];
			pos += 2;
		} else {
			pos = size;
		}
		if (len > size - pos)
			len = size - pos;
		if (i < REMOTE_FRAMES) {
			/* A copy of exactly len bytes, so ASan sees any overread. */
			uint8_t *copy = malloc(len ? len : 1);

			if (!copy)
				abort();
			memcpy(copy, data + pos, len);
			frames[i].data = copy;
			frames[i].len = len;
		}
		pos += len;
	}
	if (remote_message_decode(frames, nframes, &ev, &reason, &detail) == 0)
		check_accepted(frames, &ev);
	else if (reason >= REMOTE_DROP_MAX || !detail || !remote_drop_name(reason))
		abort();
	for (i = 0; i < nframes && i < REMOTE_FRAMES; i++)
		free((void *)frames[i].data);
	return 0;
}
