/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ZeroMQ event publisher (remote/publisher.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "remote/zmqlib.h"

#include "event/record.h"
#include "remote/json.h"
#include "remote/message.h"
#include "remote/publisher.h"
#include "remote/transport.h"
#include "util/error.h"

struct publisher {
	struct transport *transport;
	void *sock;
	bool json;
	char host[REMOTE_HOST_MAX + 1];
	size_t host_len;
	struct publisher_stats stats;
	uint8_t record[RECORD_MAX_LEN];
	char json_text[REMOTE_JSON_MAX];
};

static int set_host(struct publisher *p, const char *host, char *err, size_t errlen)
{
	size_t len;

	if (!host) {
		/* gethostname() may truncate without a NUL: terminate it ourselves. */
		if (gethostname(p->host, sizeof(p->host) - 1) < 0)
			return error_set(err, errlen, -errno, "cannot get the host name");
		p->host[sizeof(p->host) - 1] = '\0';
		host = p->host;
	}
	len = strlen(host);
	if (len == 0 || len > REMOTE_HOST_MAX || !remote_utf8_valid((const uint8_t *)host, len))
		return error_set(err, errlen, -EINVAL,
			    "the host identity must be 1 to 255 bytes of UTF-8 text");
	memmove(p->host, host, len + 1);
	p->host_len = len;
	return 0;
}

int publisher_new(const struct publisher_config *cfg, struct publisher **ret, char *err,
		  size_t errlen)
{
	struct transport_config tc = {
	    .socket_type = ZMQ_PUB,
	    .server = cfg->bind,
	    .poll_socket = false,
	    .hwm = (int)(cfg->hwm ? cfg->hwm : PUBLISHER_HWM_DEFAULT),
	    .linger_ms = PUBLISHER_LINGER_MS,
	    .peer_role = "subscriber",
	    .security = &cfg->security,
	};
	struct publisher *p;
	int r;

	if (!cfg->endpoint || !*cfg->endpoint)
		return error_set(err, errlen, -EINVAL, "no endpoint to publish on");
	if (cfg->hwm > PUBLISHER_HWM_MAX)
		return error_set(err, errlen, -EINVAL, "high-water mark above PUBLISHER_HWM_MAX");
	p = calloc(1, sizeof(*p));
	if (!p)
		return error_set(err, errlen, -ENOMEM, "out of memory");
	p->json = cfg->json;
	r = set_host(p, cfg->host, err, errlen);
	if (r < 0)
		goto fail;
	r = transport_new(&tc, &p->transport, err, errlen);
	if (r < 0)
		goto fail;
	p->sock = transport_socket(p->transport);
	if (cfg->bind)
		r = transport_bind(p->transport, cfg->endpoint, err, errlen);
	else
		r = transport_connect(p->transport, cfg->endpoint,
				      cfg->security.server_public_key_file, err, errlen);
	if (r < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	publisher_free(p);
	return r;
}

/* Frames 2 and 3 cannot hit the high-water mark once frame 1 went: libzmq
 * counts whole messages against it and checks it per frame, and a reader
 * can only free room meanwhile. Should one fail anyway, the torn message
 * merges with the next one and the subscriber drops that as bad frames. */
static int send_message(void *sock, const char *topic, size_t topic_len, const char *host,
			size_t host_len, const void *body, size_t body_len)
{
	if (zmq_send(sock, topic, topic_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(sock, host, host_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(sock, body, body_len, ZMQ_DONTWAIT) < 0)
		return errno == EAGAIN ? -EAGAIN : -errno;
	return 0;
}

static void send_json(struct publisher *p, const struct event *ev)
{
	char topic[REMOTE_TOPIC_MAX + 1];
	int tlen, len;

	tlen = remote_topic(topic, sizeof(topic), REMOTE_JSON_TOPIC_PREFIX, ev->type);
	len = remote_event_json(ev, p->host, p->json_text, sizeof(p->json_text));
	if (tlen < 0 || len < 0) {
		p->stats.encode_failed++;
		return;
	}
	if (send_message(p->sock, topic, (size_t)tlen, p->host, p->host_len, p->json_text,
			 (size_t)len) < 0)
		p->stats.json_dropped++;
	else
		p->stats.json_sent++;
}

int publisher_send(struct publisher *p, const struct event *ev)
{
	char topic[REMOTE_TOPIC_MAX + 1];
	int tlen, len, r;

	tlen = remote_topic(topic, sizeof(topic), REMOTE_TOPIC_PREFIX, ev->type);
	len = record_encode(ev, p->record, sizeof(p->record));
	if (tlen < 0 || len < 0) {
		p->stats.encode_failed++;
		return tlen < 0 ? tlen : len;
	}
	r = send_message(p->sock, topic, (size_t)tlen, p->host, p->host_len, p->record,
			 (size_t)len);
	if (r < 0)
		p->stats.dropped++;
	else
		p->stats.sent++;
	if (p->json)
		send_json(p, ev);
	return r;
}

int publisher_fd(const struct publisher *p)
{
	return transport_fd(p->transport);
}

int publisher_dispatch(struct publisher *p)
{
	return transport_service(p->transport);
}

bool publisher_plaintext(const struct publisher *p)
{
	return transport_plaintext(p->transport);
}

const char *publisher_host(const struct publisher *p)
{
	return p->host;
}

void publisher_stats(const struct publisher *p, struct publisher_stats *ret)
{
	struct transport_stats ts;

	*ret = p->stats;
	transport_stats(p->transport, &ts);
	ret->rejected = ts.rejected;
	ret->handshakes = ts.handshakes;
	ret->handshake_failed = ts.handshake_failed;
	memcpy(ret->last_rejection, ts.last_rejection, sizeof(ret->last_rejection));
}

struct publisher *publisher_free(struct publisher *p)
{
	if (!p)
		return NULL;
	transport_free(p->transport);
	free(p);
	return NULL;
}
