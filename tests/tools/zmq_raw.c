/* SPDX-License-Identifier: GPL-2.0-or-later */
/* zmq_raw: test helper that sends hand-made multipart messages to a
 * subscriber, to check that garbage is counted and dropped. Connects a
 * plain-TCP/ipc PUB socket to ENDPOINT, waits for the connection, then
 * sends each argument as one message whose frames are separated by '|'
 * ("ebpf.v1.TCP_Connect|host|garbage"). "@N" in place of a frame sends N
 * bytes of 0xAA.
 *
 * usage: zmq_raw ENDPOINT MESSAGE...
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

/* Largest frame a test asks for. */
#define ZMQ_RAW_FRAME_MAX (1u << 20)

static int send_frame(void *sock, const char *spec, size_t len, int more)
{
	if (spec[0] == '@') {
		size_t n = strtoul(spec + 1, NULL, 10);
		char *buf;
		int r;

		if (n > ZMQ_RAW_FRAME_MAX)
			n = ZMQ_RAW_FRAME_MAX;
		buf = malloc(n ? n : 1);
		if (!buf)
			return -1;
		memset(buf, 0xAA, n);
		r = zmq_send(sock, buf, n, more ? ZMQ_SNDMORE : 0);
		free(buf);
		return r < 0 ? -1 : 0;
	}
	return zmq_send(sock, spec, len, more ? ZMQ_SNDMORE : 0) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	void *ctx, *sock;

	if (argc < 3) {
		fprintf(stderr, "usage: zmq_raw ENDPOINT MESSAGE...\n");
		return 2;
	}
	ctx = zmq_ctx_new();
	sock = zmq_socket(ctx, ZMQ_PUB);
	if (!sock || zmq_connect(sock, argv[1]) < 0) {
		fprintf(stderr, "zmq_raw: cannot connect to %s: %s\n", argv[1], zmq_strerror(errno));
		return 1;
	}
	sleep(1); /* PUB drops what it sends before the subscriber joined */
	for (int i = 2; i < argc; i++) {
		char *msg = argv[i], *bar;

		while ((bar = strchr(msg, '|'))) {
			if (send_frame(sock, msg, (size_t)(bar - msg), 1) < 0)
				return 1;
			msg = bar + 1;
		}
		if (send_frame(sock, msg, strlen(msg), 0) < 0)
			return 1;
	}
	zmq_close(sock); /* linger: delivered before exit */
	zmq_ctx_term(ctx);
	return 0;
}
