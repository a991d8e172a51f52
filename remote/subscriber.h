/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ZeroMQ event subscriber: receives event messages (docs/remote.md)
 * from publishers it connects to, or from many publishers connecting in to
 * the one endpoint it binds, checks each message and hands valid events to
 * a callback with ev->host set from the message (ITEM_HOST present).
 *
 * Bad input never crashes or stalls it: malformed, truncated, oversized,
 * wrong-version, wrong-topic or wrong-frame-count messages are counted by
 * reason (enum remote_drop) and dropped, and the next message is read.
 * Security (struct remote_security): when binding we are the CURVE server
 * and admit only the publisher keys listed in the authorized-keys file; a
 * key listed with a host name may only send messages for that host. When
 * connecting, each publisher's public key must be known. Rejections are
 * counted and the last one is described in the stats.
 *
 * Loop: put subscriber_fd() into epoll (EPOLLIN; level-triggered use is
 * correct) and call subscriber_dispatch() when it is readable. ZeroMQ's own
 * ZMQ_FD is edge-triggered and signals commands, not messages; the fd we
 * hand out hides that: dispatch drains until EAGAIN and re-checks
 * ZMQ_EVENTS, and when it stops early (budget) it keeps the fd readable.
 * Authentication requests are answered in the same call, in this thread.
 * Owns its own ZeroMQ context. Needs no libbpf.
 */
#ifndef EBPFDUMP_REMOTE_SUBSCRIBER_H
#define EBPFDUMP_REMOTE_SUBSCRIBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event/event.h"
#include "remote/remote.h"

/* Messages queued per publisher before libzmq stops reading its socket
 * (ZMQ_RCVHWM); memory is bounded by it times REMOTE_WIRE_FRAME_MAX. */
#define SUBSCRIBER_HWM_DEFAULT 1000u
#define SUBSCRIBER_HWM_MAX 100000u
/* Frames read per subscriber_dispatch() call, so a flood cannot starve
 * the rest of the event loop. */
#define SUBSCRIBER_DISPATCH_BUDGET 4096u

struct remote_peer {
	const char *endpoint;		    /* "tcp://host:5556", "ipc:///run/x" */
	const char *server_public_key_file; /* its PREFIX.pub; NULL: the security's */
};

struct subscriber_config {
	const char *bind;		   /* one endpoint publishers connect in to, or */
	const struct remote_peer *connect; /* endpoints to connect to */
	size_t n_connect;		   /* 1..REMOTE_CONNECT_MAX when bind is NULL */
	uint32_t event_mask;		   /* bit (1 << enum event_type); 0: all */
	uint32_t hwm;			   /* 0: SUBSCRIBER_HWM_DEFAULT */
	struct remote_security security;
};

struct subscriber_stats {
	uint64_t received; /* events handed to the callback */
	uint64_t filtered; /* valid events of types outside event_mask */
	uint64_t dropped;  /* messages dropped, all reasons */
	uint64_t dropped_by_reason[REMOTE_DROP_MAX];
	uint64_t rejected;	   /* publishers whose key the ZAP handler refused */
	uint64_t handshakes;	   /* publisher connections authenticated */
	uint64_t handshake_failed; /* failed handshakes, rejections included */
	uint64_t disconnects;
	/* Empty until the first one; the key or address is named. A peer that
	 * keeps retrying is counted at each attempt: log when it changes. */
	char last_rejection[REMOTE_REPORT_MAX];
	char last_drop[REMOTE_REPORT_MAX];
};

/* Called for each valid event. A negative return stops
 * subscriber_dispatch(), which returns it; unread messages stay queued. */
typedef int (*subscriber_event_fn)(const struct event *ev, void *ctx);

struct subscriber;

/* Set up, bind or connect. On failure returns -errno, writes a one-line
 * reason into err and leaves *ret untouched. */
int subscriber_new(const struct subscriber_config *cfg, subscriber_event_fn fn, void *ctx,
		   struct subscriber **ret, char *err, size_t errlen);
/* Poll for EPOLLIN; see above. */
int subscriber_fd(const struct subscriber *s);
/* Read what is there without blocking (at most SUBSCRIBER_DISPATCH_BUDGET
 * frames), answer authentication requests. Returns the number of events
 * delivered, or a negative errno (the callback's, or ZeroMQ's). */
int subscriber_dispatch(struct subscriber *s);
/* True when running without CURVE (the caller should warn). */
bool subscriber_plaintext(const struct subscriber *s);
void subscriber_stats(const struct subscriber *s, struct subscriber_stats *ret);
/* Accepts NULL, returns NULL. Does not wait. */
struct subscriber *subscriber_free(struct subscriber *s);

#endif
