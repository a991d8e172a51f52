/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ZeroMQ event publisher: sends each event as one message (topic, host,
 * event record; docs/remote.md), optionally a JSON message alongside, on a
 * PUB socket that binds or connects, CURVE-protected unless plain TCP was
 * explicitly allowed.
 *
 * Never blocks and never grows: at most `hwm` messages wait per subscriber;
 * beyond that publisher_send() drops the event and counts it. With several
 * subscribers a message goes to all or to none, so the slowest subscriber
 * sets the pace (and the drops) for everyone. Events published while no
 * subscriber is connected are discarded by ZeroMQ and count as sent.
 *
 * Loop: put publisher_fd() into epoll (EPOLLIN, level-triggered) and call
 * publisher_dispatch() when it is readable. It answers the authentication
 * requests of subscribers connecting in (a binding publisher cannot admit
 * anyone without it) and notices failed handshakes.
 * Owns its own ZeroMQ context; one publisher is used from one thread.
 */
#ifndef EBPFDUMP_REMOTE_PUBLISHER_H
#define EBPFDUMP_REMOTE_PUBLISHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event/event.h"
#include "remote/remote.h"

/* Messages queued per subscriber before sends are dropped (ZMQ_SNDHWM). */
#define PUBLISHER_HWM_DEFAULT 1000u
#define PUBLISHER_HWM_MAX 1000000u
/* How long publisher_free() may wait to flush queued messages. */
#define PUBLISHER_LINGER_MS 500

struct publisher_config {
	const char *endpoint; /* "tcp://0.0.0.0:5556", "tcp://collector:5556", "ipc:///run/x" */
	bool bind;	      /* bind (subscribers connect in) or connect */
	const char *host;     /* identity in frame 2; NULL: gethostname() */
	bool json;	      /* also publish "ebpf.json.v1.<type>" JSON messages */
	uint32_t hwm;	      /* 0: PUBLISHER_HWM_DEFAULT */
	/* Binding: authorized_keys_file lists the subscribers let in.
	 * Connecting: server_public_key_file is the subscriber's PREFIX.pub. */
	struct remote_security security;
};

struct publisher_stats {
	uint64_t sent;		/* binary messages handed to ZeroMQ */
	uint64_t dropped;	/* events not sent: high-water mark reached */
	uint64_t encode_failed; /* events that do not fit a record or a message */
	uint64_t json_sent;
	uint64_t json_dropped;
	uint64_t rejected;			/* subscribers whose key we refused */
	uint64_t handshakes;			/* subscriber connections authenticated */
	uint64_t handshake_failed;		/* failed handshakes, rejections included */
	char last_rejection[REMOTE_REPORT_MAX]; /* "" until the first one */
};

struct publisher;

/* Set up the socket and bind or connect. On failure returns -errno, writes
 * a one-line reason into err and leaves *ret untouched. */
int publisher_new(const struct publisher_config *cfg, struct publisher **ret, char *err,
		  size_t errlen);
/* Publish one event. Returns 0 when sent, -EAGAIN when dropped at the
 * high-water mark, -ENOSPC/-EINVAL when it cannot be encoded; all counted,
 * so a caller may ignore the result. Never blocks. */
int publisher_send(struct publisher *p, const struct event *ev);
/* Poll for EPOLLIN; see above. */
int publisher_fd(const struct publisher *p);
/* Handle what the fd signalled, without blocking. Returns 0 or -errno. */
int publisher_dispatch(struct publisher *p);
/* True when running without CURVE (the caller should warn). */
bool publisher_plaintext(const struct publisher *p);
/* The host identity in use (frame 2). */
const char *publisher_host(const struct publisher *p);
void publisher_stats(const struct publisher *p, struct publisher_stats *ret);
/* Close, flushing for at most PUBLISHER_LINGER_MS; accepts NULL, returns NULL. */
struct publisher *publisher_free(struct publisher *p);

#endif
