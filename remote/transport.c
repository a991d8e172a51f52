/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One ZeroMQ socket with its CURVE setup, ZAP handler, monitor and fd. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "remote/zmqlib.h"

#include "remote/keys.h"
#include "remote/transport.h"
#include "util/error.h"

/* RFC 27/ZAP: the handler's fixed endpoint in the socket's context. */
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_VERSION "1.0"
#define ZAP_DOMAIN "ebpfdump"
#define ZAP_MECHANISM_CURVE "CURVE"
/* A request is version, id, domain, address, identity, mechanism and one
 * credential frame for CURVE. */
#define ZAP_REQUEST_FRAMES 7u
#define ZAP_FRAME_MAX 256u
#define MONITOR_ENDPOINT "inproc://ebpfdump.monitor"
/* Monitor event frame: u16 event, u32 value, host byte order. */
#define MONITOR_EVENT_LEN 6u
#define MONITOR_EVENTS                                                                             \
	(ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |            \
	 ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |              \
	 ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
/* Work done per transport_service() call before yielding to the loop. */
#define SERVICE_BUDGET 256u
/* Reconnect backoff: a peer that keeps failing is retried up to this
 * slowly instead of every 100 ms (libzmq's default has no backoff). */
#define RECONNECT_IVL_MAX_MS 5000
/* ZMTP heartbeats notice a dead peer (a crashed host keeps TCP open for
 * many minutes, and a dead subscriber would hold the publisher at its
 * high-water mark all that time). */
#define HEARTBEAT_IVL_MS 5000
#define HEARTBEAT_TIMEOUT_MS 15000

struct connect_state {
	char endpoint[REMOTE_ENDPOINT_MAX + 1];
	bool connected;
	bool handshaken;
};

struct transport {
	void *ctx;
	void *sock;
	void *zap;	/* REP on ZAP_ENDPOINT, only for a CURVE server */
	void *monitor;	/* PAIR reading MONITOR_ENDPOINT */
	int epfd;	/* what transport_fd() returns */
	int pending_fd; /* eventfd that keeps epfd readable */
	bool server;
	bool plaintext;
	const char *peer_role;
	char authorized_path[REMOTE_REPORT_MAX];
	struct remote_keypair keys;
	struct remote_authorized_keys *authorized;
	/* Client side: a connection closed before its handshake finished is
	 * the only sign we get that the server did not accept our keys. */
	struct connect_state connects[REMOTE_CONNECT_MAX];
	size_t n_connects;
	struct transport_stats stats;
};

static int set_int(void *sock, int option, int value)
{
	return zmq_setsockopt(sock, option, &value, sizeof(value)) < 0 ? -errno : 0;
}

static int epoll_add_zmq(int epfd, void *sock)
{
	struct epoll_event e = {.events = EPOLLIN};
	size_t len = sizeof(int);
	int fd;

	if (zmq_getsockopt(sock, ZMQ_FD, &fd, &len) < 0)
		return -errno;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

static int check_security(const struct remote_security *sec, bool server, char *err, size_t errlen)
{
	if (sec->allow_plaintext) {
		if (sec->secret_key_file || sec->authorized_keys_file ||
		    sec->server_public_key_file)
			return error_set(err, errlen, -EINVAL,
				    "plain TCP was asked for but key files were given too");
		return 0;
	}
	if (!zmq_has("curve"))
		return error_set(err, errlen, -ENOTSUP, "this libzmq has no CURVE support");
	if (!sec->secret_key_file)
		return error_set(err, errlen, -EINVAL,
			    "no secret key file: CURVE needs our PREFIX.key "
			    "(plain TCP only when explicitly allowed)");
	if (server && !sec->authorized_keys_file)
		return error_set(err, errlen, -EINVAL,
			    "binding with CURVE needs an authorized-keys file: without one any "
			    "peer that knows our public key would be let in");
	return 0;
}

static int setup_main_socket(struct transport *t, const struct transport_config *cfg)
{
	int64_t maxmsg = REMOTE_WIRE_FRAME_MAX;
	int hwm_opt = cfg->socket_type == ZMQ_PUB ? ZMQ_SNDHWM : ZMQ_RCVHWM;
	int r;

	if ((r = set_int(t->sock, ZMQ_LINGER, cfg->linger_ms)) < 0 ||
	    (r = set_int(t->sock, hwm_opt, cfg->hwm)) < 0 ||
	    (r = set_int(t->sock, ZMQ_RECONNECT_IVL_MAX, RECONNECT_IVL_MAX_MS)) < 0 ||
	    (r = set_int(t->sock, ZMQ_HEARTBEAT_IVL, HEARTBEAT_IVL_MS)) < 0 ||
	    (r = set_int(t->sock, ZMQ_HEARTBEAT_TIMEOUT, HEARTBEAT_TIMEOUT_MS)) < 0 ||
	    (r = set_int(t->sock, ZMQ_HEARTBEAT_TTL, HEARTBEAT_TIMEOUT_MS)) < 0 ||
	    (r = set_int(t->sock, ZMQ_IPV6, 1)) < 0)
		return r;
	if (zmq_setsockopt(t->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) < 0)
		return -errno;
	if (cfg->socket_type == ZMQ_PUB) {
		/* Without it a PUB drops silently at the high-water mark; with it
		 * zmq_send says EAGAIN and we can count the drop. */
		r = set_int(t->sock, ZMQ_XPUB_NODROP, 1);
		if (r < 0)
			return r;
	}
	if (t->plaintext)
		return 0;
	if (t->server) {
		if ((r = set_int(t->sock, ZMQ_CURVE_SERVER, 1)) < 0)
			return r;
		if (zmq_setsockopt(t->sock, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN)) < 0)
			return -errno;
	} else if (zmq_setsockopt(t->sock, ZMQ_CURVE_PUBLICKEY, t->keys.public_key,
				  REMOTE_KEY_LEN) < 0) {
		return -errno;
	}
	if (zmq_setsockopt(t->sock, ZMQ_CURVE_SECRETKEY, t->keys.secret_key, REMOTE_KEY_LEN) < 0)
		return -errno;
	return 0;
}

int transport_new(const struct transport_config *cfg, struct transport **ret, char *err,
		  size_t errlen)
{
	const struct remote_security *sec = cfg->security;
	struct epoll_event e = {.events = EPOLLIN};
	struct transport *t;
	int r;

	r = zmqlib_open(err, errlen);
	if (r < 0)
		return r;
	r = check_security(sec, cfg->server, err, errlen);
	if (r < 0)
		return r;
	t = calloc(1, sizeof(*t));
	if (!t)
		return error_set(err, errlen, -ENOMEM, "out of memory");
	t->epfd = t->pending_fd = -1;
	t->server = cfg->server;
	t->plaintext = sec->allow_plaintext;
	t->peer_role = cfg->peer_role ? cfg->peer_role : "peer";

	if (!t->plaintext) {
		r = remote_key_load_secret(sec->secret_key_file, &t->keys, err, errlen);
		if (r < 0)
			goto fail;
		if (t->server) {
			r = remote_authorized_keys_load(sec->authorized_keys_file, &t->authorized,
							err, errlen);
			if (r < 0)
				goto fail;
			snprintf(t->authorized_path, sizeof(t->authorized_path), "%s",
				 sec->authorized_keys_file);
		}
	}

	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->pending_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->epfd < 0 || t->pending_fd < 0 ||
	    epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->pending_fd, &e) < 0) {
		r = error_set(err, errlen, -errno, "cannot create the poll fd: %s", strerror(errno));
		goto fail;
	}
	t->ctx = zmq_ctx_new();
	if (!t->ctx) {
		r = error_set(err, errlen, -errno, "cannot create a ZeroMQ context: %s",
			 zmq_strerror(errno));
		goto fail;
	}

	/* The ZAP handler must be in place before the server socket accepts
	 * anyone: without a handler libzmq lets every CURVE client in. */
	if (t->server && !t->plaintext) {
		t->zap = zmq_socket(t->ctx, ZMQ_REP);
		if (!t->zap || set_int(t->zap, ZMQ_LINGER, 0) < 0 ||
		    zmq_bind(t->zap, ZAP_ENDPOINT) < 0 || epoll_add_zmq(t->epfd, t->zap) < 0) {
			r = error_set(err, errlen, -errno, "cannot start the ZAP handler: %s",
				 zmq_strerror(errno));
			goto fail;
		}
	}

	t->sock = zmq_socket(t->ctx, cfg->socket_type);
	if (!t->sock) {
		r = error_set(err, errlen, -errno, "cannot create a ZeroMQ socket: %s",
			 zmq_strerror(errno));
		goto fail;
	}
	r = setup_main_socket(t, cfg);
	if (r < 0) {
		r = error_set(err, errlen, r, "cannot set ZeroMQ socket options: %s", zmq_strerror(-r));
		goto fail;
	}
	if (cfg->poll_socket && (r = epoll_add_zmq(t->epfd, t->sock)) < 0) {
		r = error_set(err, errlen, r, "cannot poll the ZeroMQ socket: %s", strerror(-r));
		goto fail;
	}

	/* Connect the reader before the socket does anything: events sent
	 * while nobody reads are lost. */
	if (zmq_socket_monitor(t->sock, MONITOR_ENDPOINT, MONITOR_EVENTS) < 0 ||
	    !(t->monitor = zmq_socket(t->ctx, ZMQ_PAIR)) ||
	    set_int(t->monitor, ZMQ_LINGER, 0) < 0 ||
	    zmq_connect(t->monitor, MONITOR_ENDPOINT) < 0 ||
	    epoll_add_zmq(t->epfd, t->monitor) < 0) {
		r = error_set(err, errlen, -errno, "cannot monitor the ZeroMQ socket: %s",
			 zmq_strerror(errno));
		goto fail;
	}
	/* A socket's ZMQ_FD only signals after a read found it empty: start
	 * readable so that the owner's first service call primes them all. */
	transport_set_pending(t, true);
	*ret = t;
	return 0;
fail:
	transport_free(t);
	return r;
}

int transport_bind(struct transport *t, const char *endpoint, char *err, size_t errlen)
{
	if (strlen(endpoint) > REMOTE_ENDPOINT_MAX)
		return error_set(err, errlen, -ENAMETOOLONG, "endpoint longer than %u bytes",
			    REMOTE_ENDPOINT_MAX);
	if (zmq_bind(t->sock, endpoint) < 0)
		return error_set(err, errlen, -errno, "cannot bind %s: %s", endpoint,
			    zmq_strerror(errno));
	return 0;
}

int transport_connect(struct transport *t, const char *endpoint, const char *server_key_file,
		      char *err, size_t errlen)
{
	uint8_t server_key[REMOTE_KEY_LEN];
	int r;

	if (strlen(endpoint) > REMOTE_ENDPOINT_MAX)
		return error_set(err, errlen, -ENAMETOOLONG, "endpoint longer than %u bytes",
			    REMOTE_ENDPOINT_MAX);
	if (!t->plaintext) {
		if (!server_key_file)
			return error_set(err, errlen, -EINVAL,
				    "connecting to %s with CURVE needs its public key (PREFIX.pub)",
				    endpoint);
		r = remote_key_load_public(server_key_file, server_key, err, errlen);
		if (r < 0)
			return r;
		/* libzmq copies the options into each connection when it is
		 * made, so every endpoint can have its own server key. */
		if (zmq_setsockopt(t->sock, ZMQ_CURVE_SERVERKEY, server_key, sizeof(server_key)) <
		    0)
			return error_set(err, errlen, -errno, "cannot set the server key: %s",
				    zmq_strerror(errno));
	}
	if (zmq_connect(t->sock, endpoint) < 0)
		return error_set(err, errlen, -errno, "cannot connect to %s: %s", endpoint,
			    zmq_strerror(errno));
	return 0;
}

void *transport_socket(const struct transport *t)
{
	return t->sock;
}

int transport_fd(const struct transport *t)
{
	return t->epfd;
}

bool transport_plaintext(const struct transport *t)
{
	return t->plaintext;
}

void transport_set_pending(struct transport *t, bool pending)
{
	uint64_t v = 1;

	if (pending) {
		if (write(t->pending_fd, &v, sizeof(v)) < 0) {
			/* EAGAIN: the counter is already at its maximum, still readable. */
		}
	} else if (read(t->pending_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: was not pending. */
	}
}

/* Receive one whole multipart message into up to max frames of at most
 * ZAP_FRAME_MAX bytes. Returns the frame count, 0 when nothing waits, or a
 * negative errno. Extra frames are read and counted, not kept. */
static int recv_frames(void *sock, uint8_t frames[][ZAP_FRAME_MAX], size_t *lens, size_t max)
{
	size_t n = 0;
	int more = 1;

	while (more) {
		size_t more_len = sizeof(more);
		zmq_msg_t msg;

		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, sock, ZMQ_DONTWAIT) < 0) {
			int e = errno;

			zmq_msg_close(&msg);
			if (e == EAGAIN && n == 0)
				return 0;
			return e == EAGAIN ? -EBADMSG : -e;
		}
		if (n < max) {
			lens[n] = zmq_msg_size(&msg);
			if (lens[n] > ZAP_FRAME_MAX)
				lens[n] = ZAP_FRAME_MAX + 1; /* marks it too long */
			else
				memcpy(frames[n], zmq_msg_data(&msg), lens[n]);
		}
		n++;
		zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &more_len);
		zmq_msg_close(&msg);
	}
	return (int)(n > INT32_MAX ? INT32_MAX : n);
}

__attribute__((format(printf, 2, 3))) static void report(struct transport *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->stats.last_rejection, sizeof(t->stats.last_rejection), fmt, ap);
	va_end(ap);
}

static void frame_text(char *buf, size_t size, const uint8_t *data, size_t len)
{
	size_t i, n = len < size - 1 ? len : size - 1;

	/* Reports are one printable line whatever the peer sent. */
	for (i = 0; i < n; i++)
		buf[i] = data[i] >= 0x20 && data[i] < 0x7f ? (char)data[i] : '?';
	buf[n] = '\0';
}

/* Decide one ZAP request (RFC 27): 200 for a listed CURVE key, else 400.
 * The user id we return is the host the key is pinned to: libzmq attaches
 * it to every message from that peer as the "User-Id" property. */
static int zap_handle_one(struct transport *t)
{
	enum { VERSION, REQUEST_ID, DOMAIN, ADDRESS, IDENTITY, MECHANISM, CREDENTIAL };
	uint8_t frames[ZAP_REQUEST_FRAMES][ZAP_FRAME_MAX];
	size_t lens[ZAP_REQUEST_FRAMES] = {0}, id_len;
	const struct remote_authorized_key *entry = NULL;
	const char *status = "400", *text = "key not authorized", *user = "";
	char address[64], key_z85[REMOTE_Z85_KEY_LEN + 1];
	int n, more = ZMQ_SNDMORE;

	n = recv_frames(t->zap, frames, lens, ZAP_REQUEST_FRAMES);
	if (n <= 0)
		return n;
	id_len = n > REQUEST_ID && lens[REQUEST_ID] <= ZAP_FRAME_MAX ? lens[REQUEST_ID] : 0;
	frame_text(address, sizeof(address), frames[ADDRESS],
		   n > ADDRESS && lens[ADDRESS] <= ZAP_FRAME_MAX ? lens[ADDRESS] : 0);

	if (n != (int)ZAP_REQUEST_FRAMES || lens[VERSION] != strlen(ZAP_VERSION) ||
	    memcmp(frames[VERSION], ZAP_VERSION, lens[VERSION]) != 0 ||
	    lens[MECHANISM] != strlen(ZAP_MECHANISM_CURVE) ||
	    memcmp(frames[MECHANISM], ZAP_MECHANISM_CURVE, lens[MECHANISM]) != 0 ||
	    lens[CREDENTIAL] != REMOTE_KEY_LEN) {
		status = "500";
		text = "unexpected ZAP request";
		t->stats.rejected++;
		report(t, "refused a %s from %s: not a CURVE request", t->peer_role, address);
	} else {
		entry = remote_authorized_keys_find(t->authorized, frames[CREDENTIAL]);
		if (entry) {
			status = "200";
			text = "OK";
			user = entry->host;
		} else {
			remote_key_z85(frames[CREDENTIAL], key_z85);
			t->stats.rejected++;
			report(t, "rejected %s key %s from %s: not in %s", t->peer_role, key_z85,
			       address, t->authorized_path);
		}
	}

	/* Reply frames: version, request id, status code, status text, user
	 * id, metadata. A REP socket must answer before its next request. */
	if (zmq_send(t->zap, ZAP_VERSION, strlen(ZAP_VERSION), more) < 0 ||
	    zmq_send(t->zap, frames[REQUEST_ID], id_len, more) < 0 ||
	    zmq_send(t->zap, status, strlen(status), more) < 0 ||
	    zmq_send(t->zap, text, strlen(text), more) < 0 ||
	    zmq_send(t->zap, user, strlen(user), more) < 0 || zmq_send(t->zap, "", 0, 0) < 0)
		return -errno;
	return 1;
}

static struct connect_state *connect_state(struct transport *t, const char *endpoint)
{
	struct connect_state *c;
	size_t i;

	for (i = 0; i < t->n_connects; i++)
		if (strcmp(t->connects[i].endpoint, endpoint) == 0)
			return &t->connects[i];
	if (t->n_connects == REMOTE_CONNECT_MAX)
		return NULL;
	c = &t->connects[t->n_connects++];
	snprintf(c->endpoint, sizeof(c->endpoint), "%s", endpoint);
	return c;
}

static const char *protocol_error_text(uint32_t value)
{
	switch (value) {
	case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
		return "CURVE cryptographic error: the peer used a server public key that does "
		       "not match our secret key";
	case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
		return "security mismatch: one side uses CURVE, the other plain TCP";
	default:
		return "ZMTP protocol error";
	}
}

static void monitor_event(struct transport *t, uint16_t event, uint32_t value, const char *endpoint)
{
	struct connect_state *c = t->server ? NULL : connect_state(t, endpoint);

	switch (event) {
	case ZMQ_EVENT_CONNECTED:
		if (c) {
			c->connected = true;
			c->handshaken = false;
		}
		break;
	case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
		t->stats.handshakes++;
		if (c)
			c->handshaken = true;
		break;
	case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
		t->stats.handshake_failed++;
		if (c)
			c->connected = false; /* reported here, not again at the disconnect */
		/* As the server the ZAP handler has reported it, with the key. */
		if (!t->server)
			report(t, "%s: the %s rejected our key (ZAP status %u)", endpoint,
			       t->peer_role, value);
		break;
	case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
		t->stats.handshake_failed++;
		if (c)
			c->connected = false;
		report(t, "%s: handshake with a %s failed: %s (0x%x)", endpoint, t->peer_role,
		       protocol_error_text(value), value);
		break;
	case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
		t->stats.handshake_failed++;
		if (c)
			c->connected = false;
		/* The value is an errno: usually the peer hung up because it
		 * disliked our greeting (plain TCP against CURVE, or keys). */
		report(t, "%s: handshake with a %s failed: %s (does it use CURVE with our key?)",
		       endpoint, t->peer_role, strerror((int)value));
		break;
	case ZMQ_EVENT_DISCONNECTED:
		t->stats.disconnects++;
		/* A CURVE server that cannot open our HELLO (we hold the wrong
		 * server key) just closes: no handshake event on our side. */
		if (c && c->connected && !c->handshaken && !t->plaintext) {
			t->stats.handshake_failed++;
			report(t,
			       "%s: the %s closed the connection during the CURVE handshake "
			       "(is our copy of its public key right, and is our key listed?)",
			       endpoint, t->peer_role);
		}
		if (c)
			c->connected = false;
		break;
	default:
		break;
	}
}

static int monitor_read_one(struct transport *t)
{
	uint8_t frames[2][ZAP_FRAME_MAX];
	size_t lens[2] = {0};
	char endpoint[REMOTE_ENDPOINT_MAX + 1];
	uint16_t event;
	uint32_t value;
	int n;

	n = recv_frames(t->monitor, frames, lens, 2);
	if (n <= 0)
		return n;
	if (n != 2 || lens[0] != MONITOR_EVENT_LEN)
		return 1;
	memcpy(&event, frames[0], sizeof(event));
	memcpy(&value, frames[0] + sizeof(event), sizeof(value));
	frame_text(endpoint, sizeof(endpoint), frames[1],
		   lens[1] <= ZAP_FRAME_MAX ? lens[1] : ZAP_FRAME_MAX);
	monitor_event(t, event, value, endpoint);
	return 1;
}

int transport_service(struct transport *t)
{
	unsigned budget = SERVICE_BUDGET;
	int r;

	transport_set_pending(t, false);
	/* ZAP first: handshakes wait for its answers. */
	while (t->zap && budget) {
		r = zap_handle_one(t);
		if (r < 0 && r != -EBADMSG)
			return r;
		if (r == 0)
			break;
		budget--;
	}
	while (budget) {
		r = monitor_read_one(t);
		if (r < 0 && r != -EBADMSG)
			return r;
		if (r == 0)
			break;
		budget--;
	}
	if (!budget)
		transport_set_pending(t, true);
	return 0;
}

void transport_stats(const struct transport *t, struct transport_stats *ret)
{
	*ret = t->stats;
}

struct transport *transport_free(struct transport *t)
{
	if (!t)
		return NULL;
	if (t->sock) {
		zmq_socket_monitor(t->sock, NULL, 0);
		zmq_close(t->sock);
	}
	if (t->monitor)
		zmq_close(t->monitor);
	if (t->zap)
		zmq_close(t->zap);
	/* Blocks at most for the main socket's linger time. */
	if (t->ctx)
		zmq_ctx_term(t->ctx);
	if (t->epfd >= 0)
		close(t->epfd);
	if (t->pending_fd >= 0)
		close(t->pending_fd);
	free(t->authorized);
	explicit_bzero(&t->keys, sizeof(t->keys));
	free(t);
	return NULL;
}
