/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ZeroMQ event subscriber (remote/subscriber.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "remote/zmqlib.h"

#include "remote/message.h"
#include "remote/subscriber.h"
#include "remote/transport.h"
#include "util/error.h"

/* Message properties libzmq attaches: who sent it, and the user id our ZAP
 * handler gave its key (the host the key is pinned to, or ""). */
#define PROPERTY_PEER_ADDRESS "Peer-Address"
#define PROPERTY_USER_ID "User-Id"
/* Subscribing to this prefix rather than REMOTE_TOPIC_PREFIX lets
 * messages of other protocol versions reach the decoder, which counts them
 * (libzmq silently filters what matches no subscription), while JSON
 * messages ("ebpf.json.") stay with the publisher. */
#define TOPIC_ANY_VERSION "ebpf.v"
/* Event types that fit event_mask. */
#define MASK_BITS 32u
/* How much of the peer's host frame a drop report quotes. */
#define REPORT_HOST_MAX 64u

struct subscriber {
	struct transport *transport;
	void *sock;
	subscriber_event_fn fn;
	void *ctx;
	uint32_t event_mask;
	/* The message being read: its first frames kept, the rest counted.
	 * It may span dispatch calls when the budget ends inside it. */
	zmq_msg_t frames[REMOTE_FRAMES];
	size_t nframes;
	struct subscriber_stats stats;
	struct event ev;
};

static int subscribe(void *sock, const char *topic)
{
	return zmq_setsockopt(sock, ZMQ_SUBSCRIBE, topic, strlen(topic)) < 0 ? -errno : 0;
}

/* One prefix per wanted type; a type whose name is a prefix of another's
 * (TCP_Connect, TCP_Connect_Failed) lets that one in too, and dispatch
 * filters it after decoding. */
static int subscribe_topics(void *sock, uint32_t mask)
{
	char topic[REMOTE_TOPIC_MAX + 1];
	unsigned type;
	int r;

	if (!mask)
		return subscribe(sock, TOPIC_ANY_VERSION);
	for (type = 0; type < MASK_BITS; type++) {
		if (!(mask & (UINT32_C(1) << type)))
			continue;
		r = remote_topic(topic, sizeof(topic), REMOTE_TOPIC_PREFIX, type);
		if (r < 0)
			return r;
		r = subscribe(sock, topic);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_config(const struct subscriber_config *cfg, char *err, size_t errlen)
{
	size_t i;

	if (!cfg->bind == !cfg->n_connect)
		return error_set(err, errlen, -EINVAL,
			    "give either one endpoint to bind or endpoints to connect to");
	if (cfg->n_connect > REMOTE_CONNECT_MAX)
		return error_set(err, errlen, -E2BIG, "more than %u endpoints to connect to",
			    REMOTE_CONNECT_MAX);
	for (i = 0; i < cfg->n_connect; i++)
		if (!cfg->connect[i].endpoint || !*cfg->connect[i].endpoint)
			return error_set(err, errlen, -EINVAL, "empty endpoint to connect to");
	if (cfg->hwm > SUBSCRIBER_HWM_MAX)
		return error_set(err, errlen, -EINVAL, "high-water mark above SUBSCRIBER_HWM_MAX");
	return 0;
}

int subscriber_new(const struct subscriber_config *cfg, subscriber_event_fn fn, void *ctx,
		   struct subscriber **ret, char *err, size_t errlen)
{
	struct transport_config tc = {
	    .socket_type = ZMQ_SUB,
	    .server = cfg->bind != NULL,
	    .poll_socket = true,
	    .hwm = (int)(cfg->hwm ? cfg->hwm : SUBSCRIBER_HWM_DEFAULT),
	    .linger_ms = 0,
	    .peer_role = "publisher",
	    .security = &cfg->security,
	};
	struct subscriber *s;
	size_t i;
	int r;

	r = check_config(cfg, err, errlen);
	if (r == 0)
		r = zmqlib_open(err, errlen);
	if (r < 0)
		return r;
	if (!fn)
		return error_set(err, errlen, -EINVAL, "no event callback");
	s = calloc(1, sizeof(*s));
	if (!s)
		return error_set(err, errlen, -ENOMEM, "out of memory");
	for (i = 0; i < REMOTE_FRAMES; i++)
		zmq_msg_init(&s->frames[i]);
	s->fn = fn;
	s->ctx = ctx;
	s->event_mask = cfg->event_mask;
	r = transport_new(&tc, &s->transport, err, errlen);
	if (r < 0)
		goto fail;
	s->sock = transport_socket(s->transport);
	r = subscribe_topics(s->sock, cfg->event_mask);
	if (r < 0) {
		r = error_set(err, errlen, r, "cannot subscribe: %s", zmq_strerror(-r));
		goto fail;
	}
	if (cfg->bind)
		r = transport_bind(s->transport, cfg->bind, err, errlen);
	for (i = 0; r == 0 && i < cfg->n_connect; i++)
		r = transport_connect(s->transport, cfg->connect[i].endpoint,
				      cfg->connect[i].server_public_key_file
					  ? cfg->connect[i].server_public_key_file
					  : cfg->security.server_public_key_file,
				      err, errlen);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	subscriber_free(s);
	return r;
}

/* Quote a peer's bytes in a report: printable ASCII only, bounded. */
static void quote(char *buf, size_t size, const zmq_msg_t *msg)
{
	const uint8_t *d = zmq_msg_data((zmq_msg_t *)msg);
	size_t len = zmq_msg_size((zmq_msg_t *)msg), i;

	if (len > size - 1)
		len = size - 1;
	for (i = 0; i < len; i++)
		buf[i] = d[i] >= 0x20 && d[i] < 0x7f ? (char)d[i] : '?';
	buf[len] = '\0';
}

static void drop(struct subscriber *s, unsigned reason, const char *detail)
{
	const char *peer = zmq_msg_gets(&s->frames[0], PROPERTY_PEER_ADDRESS);
	char host[REPORT_HOST_MAX + 1] = "";

	if (s->nframes > 1)
		quote(host, sizeof(host), &s->frames[1]);
	s->stats.dropped++;
	s->stats.dropped_by_reason[reason]++;
	snprintf(s->stats.last_drop, sizeof(s->stats.last_drop), "%s: %s (from %s, host \"%s\")",
		 remote_drop_name(reason), detail, peer && *peer ? peer : "local peer", host);
}

/* Check and deliver the message in s->frames. Returns 1 when an event was
 * delivered, 0 when not, or the callback's negative result. */
static int handle_message(struct subscriber *s)
{
	struct remote_frame frames[REMOTE_FRAMES];
	const char *detail = NULL, *pinned;
	size_t i, kept = s->nframes < REMOTE_FRAMES ? s->nframes : REMOTE_FRAMES;
	unsigned reason = 0;
	int r;

	for (i = 0; i < kept; i++) {
		frames[i].data = zmq_msg_data(&s->frames[i]);
		frames[i].len = zmq_msg_size(&s->frames[i]);
	}
	if (remote_message_decode(frames, s->nframes, &s->ev, &reason, &detail) < 0) {
		drop(s, reason, detail);
		return 0;
	}
	/* A key pinned to a host speaks for that host only: a compromised
	 * publisher cannot pass its events off as another machine's. */
	pinned = zmq_msg_gets(&s->frames[0], PROPERTY_USER_ID);
	if (pinned && *pinned && strcmp(pinned, s->ev.host) != 0) {
		drop(s, REMOTE_DROP_HOST_MISMATCH,
		     "host differs from the one its key is pinned to");
		return 0;
	}
	if (s->event_mask &&
	    (s->ev.type >= MASK_BITS || !(s->event_mask & (UINT32_C(1) << s->ev.type)))) {
		s->stats.filtered++;
		return 0;
	}
	s->stats.received++;
	r = s->fn(&s->ev, s->ctx);
	return r < 0 ? r : 1;
}

static void reset_message(struct subscriber *s)
{
	size_t i;

	for (i = 0; i < REMOTE_FRAMES; i++) {
		zmq_msg_close(&s->frames[i]);
		zmq_msg_init(&s->frames[i]);
	}
	s->nframes = 0;
}

static bool socket_readable(void *sock)
{
	int events = 0;
	size_t len = sizeof(events);

	if (zmq_getsockopt(sock, ZMQ_EVENTS, &events, &len) < 0)
		return false;
	return (events & ZMQ_POLLIN) != 0;
}

int subscriber_dispatch(struct subscriber *s)
{
	unsigned budget = SUBSCRIBER_DISPATCH_BUDGET;
	int delivered = 0, r;

	r = transport_service(s->transport);
	if (r < 0)
		return r;
	while (budget) {
		zmq_msg_t extra, *m = s->nframes < REMOTE_FRAMES ? &s->frames[s->nframes] : &extra;
		bool more;

		if (m == &extra)
			zmq_msg_init(&extra);
		if (zmq_msg_recv(m, s->sock, ZMQ_DONTWAIT) < 0) {
			int e = errno;

			if (m == &extra)
				zmq_msg_close(&extra);
			if (e == EINTR)
				continue;
			if (e != EAGAIN)
				return -e;
			/* ZMQ_FD only signals new commands; a message may have come
			 * in while we read. ZMQ_EVENTS tells, and re-arms ZMQ_FD. */
			if (socket_readable(s->sock)) {
				budget--;
				continue;
			}
			return delivered;
		}
		budget--;
		more = zmq_msg_more(m);
		if (m == &extra)
			zmq_msg_close(&extra);
		/* Bounded by the frame budget per call; counts saturate. */
		if (s->nframes < SIZE_MAX)
			s->nframes++;
		if (more)
			continue;
		r = handle_message(s);
		reset_message(s);
		if (r < 0) {
			transport_set_pending(s->transport, socket_readable(s->sock));
			return r;
		}
		delivered += r;
	}
	/* Out of budget: keep our fd readable while ZeroMQ holds more. */
	transport_set_pending(s->transport, s->nframes > 0 || socket_readable(s->sock));
	return delivered;
}

int subscriber_fd(const struct subscriber *s)
{
	return transport_fd(s->transport);
}

bool subscriber_plaintext(const struct subscriber *s)
{
	return transport_plaintext(s->transport);
}

void subscriber_stats(const struct subscriber *s, struct subscriber_stats *ret)
{
	struct transport_stats ts;

	*ret = s->stats;
	transport_stats(s->transport, &ts);
	ret->rejected = ts.rejected;
	ret->handshakes = ts.handshakes;
	ret->handshake_failed = ts.handshake_failed;
	ret->disconnects = ts.disconnects;
	memcpy(ret->last_rejection, ts.last_rejection, sizeof(ret->last_rejection));
}

struct subscriber *subscriber_free(struct subscriber *s)
{
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < REMOTE_FRAMES; i++)
		zmq_msg_close(&s->frames[i]);
	transport_free(s->transport);
	free(s);
	return NULL;
}
