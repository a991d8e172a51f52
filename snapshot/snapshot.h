/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The socket snapshot: TCP connections and bound UDP sockets that were
 * already open when the capture started, and who owns them.
 *
 * snapshot_take() finds every network namespace on the host (/run/netns
 * and /proc/<pid>/ns/net), dumps its TCP and UDP sockets with
 * NETLINK_SOCK_DIAG (inet_diag), maps each socket inode to a process
 * through a scan of /proc/<pid>/fd, and hands one TCP_Open or UDP_Open
 * event per socket to a callback. A snapshot is a picture of one moment
 * taken over some milliseconds, not a transaction: sockets opened or closed
 * while it runs may be missed or reported without an owner. Attach the
 * kernel probes first, so that whatever the snapshot misses is an event.
 *
 * struct snapshot is the owner table kept afterwards: it remembers the
 * owner of each socket the snapshot saw, so that a later kernel event
 * about such a socket that arrives without a process (a TCP_Close or
 * TCP_Retransmit whose connect/accept happened before the capture) can be
 * attributed with snapshot_fill_owner().
 *
 * Needs: root (CAP_SYS_ADMIN to enter other namespaces, CAP_SYS_PTRACE to
 * read other users' /proc/<pid>/fd); without it, what can be seen is
 * reported and the rest counted. Pure user space, no BPF. Does not print;
 * failures return a negative errno and a reason in the stats. Not
 * thread-safe.
 */
#ifndef EBPFDUMP_SNAPSHOT_H
#define EBPFDUMP_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "event/event.h"

/* Sockets reported by one snapshot; more are counted as skipped. */
#define SNAPSHOT_SOCKETS_DEFAULT (1u << 20)
#define SNAPSHOT_SOCKETS_LIMIT (1u << 24)
/* Distinct socket inodes remembered from the fd scan (every kind of
 * socket, unix sockets included, since a link name does not say which). */
#define SNAPSHOT_INODES_DEFAULT (1u << 20)
#define SNAPSHOT_INODES_LIMIT (1u << 24)
/* Processes whose fds are scanned (pid_max is at most 4M). */
#define SNAPSHOT_PROCESSES_DEFAULT (1u << 20)
#define SNAPSHOT_PROCESSES_LIMIT (1u << 22)
/* Distinct network namespaces dumped. */
#define SNAPSHOT_NETNS_DEFAULT 4096u
#define SNAPSHOT_NETNS_LIMIT 65536u
/* Wall-clock time one snapshot may take; then it stops and says so. */
#define SNAPSHOT_TIME_BUDGET_DEFAULT_MS 5000u
#define SNAPSHOT_TIME_BUDGET_LIMIT_MS 600000u
/* Sockets an owner table remembers after the snapshot. */
#define SNAPSHOT_TABLE_DEFAULT (1u << 18)
#define SNAPSHOT_TABLE_LIMIT (1u << 24)
/* Size of snapshot_stats.reason, NUL included. */
#define SNAPSHOT_REASON_MAX 160

struct snapshot;

struct snapshot_config {
	/* Bits (1 << EVENT_TCP_OPEN), (1 << EVENT_UDP_OPEN) and
	 * (1 << EVENT_TCP_LISTEN: listening TCP sockets, raddr 0, rport 0);
	 * 0 means TCP_Open and UDP_Open. */
	uint32_t event_mask;
	bool host_netns_only;	 /* only the caller's network namespace */
	uint32_t max_sockets;	 /* 0: SNAPSHOT_SOCKETS_DEFAULT */
	uint32_t max_inodes;	 /* 0: SNAPSHOT_INODES_DEFAULT */
	uint32_t max_processes;	 /* 0: SNAPSHOT_PROCESSES_DEFAULT */
	uint32_t max_netns;	 /* 0: SNAPSHOT_NETNS_DEFAULT */
	uint32_t time_budget_ms; /* 0: SNAPSHOT_TIME_BUDGET_DEFAULT_MS */
	/* When set, every reported socket that has an owner is added to this
	 * table (snapshot_add); what does not fit is counted there. */
	struct snapshot *table;
};

struct snapshot_stats {
	uint64_t ts_ns;		/* the snapshot time every event carries */
	uint64_t elapsed_ns;	/* how long it took */
	uint32_t netns_found;	/* distinct namespaces seen */
	uint32_t netns_dumped;	/* namespaces whose sockets were dumped */
	uint32_t netns_failed;	/* vanished, could not be entered or dumped */
	uint32_t netns_skipped; /* over max_netns or out of time */
	uint32_t processes_scanned;
	uint32_t processes_vanished; /* exited during the scan (normal) */
	uint32_t processes_denied;   /* fd directory not readable */
	uint32_t processes_skipped;  /* over max_processes or out of time */
	uint64_t socket_fds;	     /* "socket:[N]" links seen */
	uint64_t inodes_skipped;     /* socket inodes over max_inodes */
	uint64_t tcp_reported;	     /* TCP_Open events handed to the callback */
	uint64_t udp_reported;	     /* UDP_Open events */
	uint64_t sockets_unowned;    /* reported without a process (see docs) */
	uint64_t sockets_shared;     /* open in several processes; lowest pid named */
	uint64_t sockets_orphaned;   /* TCP closed by its process, not reported */
	uint64_t sockets_skipped;    /* over max_sockets, not reported */
	uint64_t table_dropped;	     /* owned sockets that did not fit the table */
	uint32_t dumps_interrupted;  /* kernel flagged a dump inconsistent */
	bool out_of_time;	     /* stopped by the time budget */
	/* Why the snapshot failed, or the first thing that went wrong in a
	 * snapshot that still succeeded; empty when nothing did. */
	char reason[SNAPSHOT_REASON_MAX];
};

/* Called once per socket, in the caller's own network namespace. A
 * negative return stops the snapshot and is returned by snapshot_take(). */
typedef int (*snapshot_event_fn)(const struct event *ev, void *ctx);

/* Take the snapshot (cfg may be NULL for the defaults). Every event has
 * type EVENT_TCP_OPEN, EVENT_UDP_OPEN or (a listening socket, when asked)
 * EVENT_TCP_LISTEN, ts_ns = the snapshot time (wall
 * clock at its start, so it sorts before events recorded during it), seq
 * counting from 1, proto, family, addresses, ports, netns, socket cookie,
 * uid, and when the owner is known pid, tid (= pid: a snapshot cannot know
 * the thread), gid, comm, ppid, pcomm; TCP adds bytes_sent/received,
 * retransmits and srtt_us so far. An IPv6 socket talking IPv4 is reported
 * as IPv4, as the kernel probe does.
 * Returns 0 (also when parts were skipped: see the stats), -EINVAL for a
 * bad config, -ENOMEM, -errno when /proc or sock_diag cannot be used at
 * all, the callback's negative value, or the error of returning to the
 * original network namespace (then the calling thread is in another
 * namespace: stop the program). ret_stats (may be NULL) is written in
 * every case, with a reason on failure, since partial counts matter. */
int snapshot_take(const struct snapshot_config *cfg, snapshot_event_fn fn, void *ctx,
		  struct snapshot_stats *ret_stats);

struct snapshot_table_stats {
	uint32_t entries;   /* sockets remembered (closed ones included) */
	uint32_t processes; /* distinct owners */
	uint64_t dropped;   /* snapshot_add refused: table full */
	uint64_t filled;    /* snapshot_fill_owner successes */
	uint64_t missed;    /* lookups that found no (or no unambiguous) socket */
	uint64_t closed;    /* entries retired by a TCP_Close */
};

/* An empty owner table for at most max_sockets sockets (0:
 * SNAPSHOT_TABLE_DEFAULT). Memory grows with use, ~100 bytes per socket.
 * Returns 0, -EINVAL (over SNAPSHOT_TABLE_LIMIT) or -ENOMEM. */
int snapshot_new(uint32_t max_sockets, struct snapshot **ret);
/* Frees the table; accepts NULL, returns NULL. */
struct snapshot *snapshot_free(struct snapshot *s);

/* Remember the owner of the socket ev describes: ev needs ITEM_PID,
 * ITEM_PROTO, ITEM_LADDR and ITEM_LPORT (remote items and netns may be
 * absent, meaning zero / unknown). Identity items copied: pid, tid, uid,
 * gid, ppid, comm, pcomm. Returns 0, -EINVAL (missing items), -ENOSPC
 * (table full; counted) or -ENOMEM. */
int snapshot_add(struct snapshot *s, const struct event *ev);

/* For an event without ITEM_PID, find its socket and copy the owner's
 * identity in (pid, tid, uid, gid, ppid, comm, pcomm and their bits).
 * The socket is found by ITEM_SOCK_COOKIE when present, else by (netns,
 * proto, laddr, lport, raddr, rport); an event without ITEM_NETNS matches
 * only when every namespace holding that tuple names the same owner. For
 * UDP, a socket bound to the local port with no fixed remote (or to the
 * wildcard address) matches too. A TCP_Close retires the socket, so a
 * later connection reusing the tuple is not given the old owner.
 * Returns 0 when filled, -EALREADY when ev has a pid (left alone),
 * -ENOENT when the socket is unknown or ambiguous, -EINVAL. */
int snapshot_fill_owner(struct snapshot *s, struct event *ev);

void snapshot_table_get_stats(const struct snapshot *s, struct snapshot_table_stats *ret);

#endif
