/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to remote/: one ZeroMQ socket with everything around it — its
 * own context, the CURVE setup, the ZAP handler that admits listed keys
 * when we are the server, a socket monitor that notices failed handshakes,
 * and the one file descriptor the caller polls.
 *
 * Why one fd: ZMQ_FD is edge-triggered (it signals when commands arrive,
 * not while messages wait), and there are up to three sockets to watch. We
 * put their ZMQ_FDs and an eventfd into a private epoll instance and hand
 * out that epoll fd: it is readable while any of them is, and the owner
 * keeps it readable through the eventfd (transport_set_pending) when it
 * stops draining early. So the caller can poll it level-triggered and
 * simply dispatch whenever it is readable.
 *
 * Single-threaded: no background thread; the ZAP handler runs when the
 * owner calls transport_service() from its event loop.
 */
#ifndef EBPFDUMP_REMOTE_TRANSPORT_H
#define EBPFDUMP_REMOTE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "remote/remote.h"

struct transport_config {
	int socket_type;       /* ZMQ_PUB or ZMQ_SUB */
	bool server;	       /* we bind: CURVE server with a ZAP handler */
	bool poll_socket;      /* the fd also signals the main socket (receivers) */
	int hwm;	       /* ZMQ_SNDHWM or ZMQ_RCVHWM, messages */
	int linger_ms;	       /* ZMQ_LINGER of the main socket */
	const char *peer_role; /* "publisher" / "subscriber", for reports */
	const struct remote_security *security;
};

struct transport_stats {
	uint64_t rejected;	   /* peers whose key the ZAP handler refused */
	uint64_t handshakes;	   /* handshakes that succeeded */
	uint64_t handshake_failed; /* handshakes that failed, rejections included */
	uint64_t disconnects;	   /* connections closed */
	char last_rejection[REMOTE_REPORT_MAX];
};

struct transport;

int transport_new(const struct transport_config *cfg, struct transport **ret, char *err,
		  size_t errlen);
int transport_bind(struct transport *t, const char *endpoint, char *err, size_t errlen);
/* server_key_file: the binding peer's PREFIX.pub; NULL means the
 * security's server_public_key_file. Ignored in plain TCP. */
int transport_connect(struct transport *t, const char *endpoint, const char *server_key_file,
		      char *err, size_t errlen);
void *transport_socket(const struct transport *t);
int transport_fd(const struct transport *t);
bool transport_plaintext(const struct transport *t);
/* Answer pending ZAP requests and read monitor events, bounded; clears the
 * pending flag (set it again when the main socket still has work). */
int transport_service(struct transport *t);
void transport_set_pending(struct transport *t, bool pending);
void transport_stats(const struct transport *t, struct transport_stats *ret);
struct transport *transport_free(struct transport *t);

#endif
