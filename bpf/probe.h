/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel event source: opens, configures, loads and attaches the CO-RE
 * BPF programs of ebpfdump.bpf.c, and turns ring-buffer records and the
 * kernel's UDP flow counts into struct event (timestamps converted to
 * wall-clock time). Filters (event types, pid, uid, comm, cgroup, network
 * namespace) run in the kernel.
 *
 * Owns: the BPF skeleton, its links and its ring buffer. Needs: root or
 * CAP_BPF+CAP_PERFMON, a kernel with BTF (no tracefs: raw tracepoints only).
 * Does not print: failures return a negative errno and a one-line reason
 * in the caller's buffer, naming the cause and what to do.
 */
#ifndef EBPFDUMP_PROBE_H
#define EBPFDUMP_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event/event.h"

/* Default ring buffer size in bytes (power of two, multiple of page size). */
#define PROBE_RINGBUF_DEFAULT (8u << 20)
#define PROBE_RINGBUF_MIN (64u << 10)
#define PROBE_RINGBUF_MAX (1u << 30)
/* Sockets whose owner is remembered in the kernel at once (LRU). */
#define PROBE_SOCKETS_DEFAULT 65536u
#define PROBE_SOCKETS_MIN 1024u
#define PROBE_SOCKETS_MAX (1u << 20) /* ~300 bytes of kernel memory each */
/* UDP flows (5-tuple, pid, direction) counted in the kernel at once (LRU). */
#define PROBE_UDP_FLOWS_DEFAULT 16384u
#define PROBE_UDP_FLOWS_MIN 256u
#define PROBE_UDP_FLOWS_MAX (1u << 20) /* ~400 bytes of kernel memory each */
/* A UDP flow reports its counts at most once per interval. */
#define PROBE_UDP_INTERVAL_DEFAULT_MS 1000u
#define PROBE_UDP_INTERVAL_MIN_MS 10u
#define PROBE_UDP_INTERVAL_MAX_MS 3600000u
/* Longest task name the comm filter can match (the kernel's TASK_COMM_LEN - 1). */
#define PROBE_COMM_MAX 15
/* Generations of real_parent the pid_tree filter looks up. */
#define PROBE_PID_TREE_DEPTH 32

/* The event types the kernel side reports (the others come from the
 * socket snapshot). A mask holding all of them means "all this kernel can
 * observe". */
#define PROBE_KERNEL_TYPES                                                                   \
	(1u << EVENT_TCP_CONNECT | 1u << EVENT_TCP_CONNECT_FAILED | 1u << EVENT_TCP_ACCEPT |   \
	 1u << EVENT_TCP_CLOSE | 1u << EVENT_TCP_RETRANSMIT | 1u << EVENT_UDP_SEND |          \
	 1u << EVENT_UDP_RECV | 1u << EVENT_TCP_LISTEN | 1u << EVENT_TCP_LISTEN_CLOSE)
/* Longest verifier verdict kept for a load error (program and last lines). */
#define PROBE_VERDICT_MAX 400

/* Which kernel hooks observe accepts and UDP (docs/kernel-side.md). */
enum probe_hooks {
	PROBE_HOOKS_AUTO = 0, /* fentry, else tracepoint, else raw: the first that works */
	PROBE_HOOKS_FENTRY,   /* fexit on inet_csk_accept, udp(v6)_sendmsg/recvmsg */
	PROBE_HOOKS_RAW,      /* raw sys_enter/sys_exit, sock_send/recv_length */
	/* syscalls:sys_enter_X/sys_exit_X of accept(4), send/recv calls (needs
	 * tracefs mounted), sock_send/recv_length */
	PROBE_HOOKS_TRACEPOINT,
};

/* Level passed to the probe_set_log() callback (syslog's LOG_DEBUG). */
#define PROBE_LOG_DEBUG 7

/* Filters applied in the kernel; an event must pass all that are set.
 * Events that fire outside the owner's context (TCP_Connect at
 * ESTABLISHED, TCP_Close, TCP_Retransmit) are judged by the owner stored
 * with the socket; a socket whose owner is unknown (opened before the
 * probe) passes only the netns filter. */
struct probe_filter {
	uint32_t pid;	  /* thread-group id as seen from the initial pid namespace; 0: any */
	bool pid_tree;	  /* also the descendants of pid (PROBE_PID_TREE_DEPTH generations) */
	bool match_uid;	  /* uid below is a filter (0 is root, so it needs the flag) */
	uint32_t uid;	  /* real user id */
	char comm[PROBE_COMM_MAX + 1]; /* exact task (thread) name; "" any */
	uint64_t cgroup_id; /* the cgroup_id events carry (ITEM_CGROUP_ID); 0: any */
	uint32_t netns;	    /* network namespace inode (ITEM_NETNS); 0: any */
};

struct probe_config {
	uint32_t event_mask;	 /* bit (1 << enum event_type); 0 means all */
	uint32_t ringbuf_bytes;	 /* 0 means PROBE_RINGBUF_DEFAULT */
	uint32_t max_sockets;	 /* 0 means PROBE_SOCKETS_DEFAULT */
	uint32_t max_udp_flows;	 /* 0 means PROBE_UDP_FLOWS_DEFAULT */
	uint32_t udp_interval_ms; /* 0 means PROBE_UDP_INTERVAL_DEFAULT_MS */
	/* Batched wake-ups: the kernel wakes the reader only when an eighth
	 * of the ring is filled; the caller must then call probe_consume()
	 * every few ms itself (ebpfdump: every PROBE_BATCH_TICK_MS). false:
	 * the kernel's own policy, a wake-up for every record that finds the
	 * reader idle. */
	bool batch_wakeups;
	enum probe_hooks hooks;
	struct probe_filter filter;
	/* The kernel's BTF from this file (a vmlinux with BTF, or a .btf file
	 * such as BTFHub's) for a kernel without /sys/kernel/btf/vmlinux.
	 * It serves CO-RE only: the fentry tier still needs the kernel's
	 * own. NULL: the kernel's. */
	const char *btf_path;
};

/* Per-type counters: every type the kernel side reports is below this. */
#define PROBE_TYPE_SLOTS 16

struct probe_stats {
	uint64_t delivered; /* events handed to the callback */
	uint64_t dropped;   /* records the kernel could not reserve (ring full) */
	/* Events our programs never ran for: runs the kernel skipped because
	 * a BPF program was already running on that CPU and nothing covered
	 * for them (bpf_prog_info.recursion_misses), each of which may have
	 * lost an event, and the two below. Report dropped + missed as lost. */
	uint64_t missed;
	/* Of missed: calls of the hook that never ran our program and that
	 * the kernel counts nowhere, found afterwards from the socket (see
	 * ebpfdump_counters; a run of missed retransmissions counts one). */
	uint64_t missed_retransmits;
	uint64_t missed_closes;
	uint64_t missed_connects;
	/* Events the kernel considered (UDP: datagrams, as a filtered one
	 * never reaches the flow table), and of those the ones a filter
	 * (event type included) excluded; they cost no ring-buffer traffic.
	 * seen > 0 && filtered == seen: the filters match nothing seen.
	 * Event types whose hooks were not attached (not in event_mask) are
	 * not seen at all. */
	uint64_t seen;
	uint64_t filtered;
	/* UDP datagrams not counted because the flow table refused a new
	 * flow (they are lost), and datagrams of unconnected sockets whose
	 * peer could not be observed (reported without raddr/rport). */
	uint64_t udp_lost;
	uint64_t udp_no_peer;
	/* dropped by event type (index: enum event_type); they add up to
	 * dropped */
	uint64_t dropped_by_type[PROBE_TYPE_SLOTS];
};

/* How full the kernel's LRU tables are and how many entries they evicted.
 * evicted = new keys inserted - keys deleted - keys present; exact when
 * nothing runs concurrently (after probe_detach()), a close estimate while
 * attached. An evicted socket loses its owner (later events of it carry
 * none); an evicted UDP flow loses the counts not yet reported. */
struct probe_table_usage {
	uint32_t capacity;
	uint32_t used;
	uint64_t inserted;
	uint64_t evicted;
	uint64_t failed; /* inserts the kernel refused */
};

struct probe_map_usage {
	struct probe_table_usage sockets;
	struct probe_table_usage udp_flows;
};

struct probe;

/* Called for each event, in ring-buffer order. A negative return stops
 * probe_consume() and is passed back to its caller. The event is the
 * probe's own and is rebuilt for the next one: the callback may change it
 * (enrich it in place) instead of copying its ~5 KB. */
typedef int (*probe_event_fn)(struct event *ev, void *ctx);

/* Where libbpf's own messages and the probe's debug notes go, one line per
 * call without the newline, all at PROBE_LOG_DEBUG. Process-wide (libbpf
 * has one print hook); NULL discards them, which is also the default. Call
 * before probe_open() to see what loading does. */
void probe_set_log(void (*fn)(int level, const char *msg, void *ctx), void *ctx);

/* Open, configure, load, attach. On failure returns -errno, writes a
 * one-line reason into errbuf and leaves nothing attached; *ret untouched. */
int probe_open(const struct probe_config *cfg, probe_event_fn fn, void *ctx, struct probe **ret,
	       char *errbuf, size_t errlen);
/* File descriptor to poll (epoll) for readable ring-buffer data. */
/* The event types asked for as "all" that this kernel cannot observe and
 * were left out (0: none), with a one-line reason in why. */
uint32_t probe_left_out(const struct probe *p, char *why, size_t why_len);
/* In the debug log (as libbpf's lines), one line per attached program: its
 * runs and the runs the kernel skipped because it was already running on
 * that CPU (bpf_prog_info.recursion_misses). */
void probe_log_programs(const struct probe *p);
/* "fentry" or "raw": the tier of hooks that loaded. */
const char *probe_hooks_name(const struct probe *p);
int probe_fd(const struct probe *p);
/* Read every record available now without blocking. Returns the number of
 * events handled or a negative errno. */
int probe_consume(struct probe *p);
/* Report the UDP counts the kernel accumulated: one UDP_Send/UDP_Recv
 * event per flow with new datagrams whose last report is at least
 * udp_interval_ms old (all: every flow with new datagrams), through the
 * event callback, stamped with the current time. Call it from a timer (a
 * period of a fraction of the interval, e.g. 100-250 ms) and once at stop
 * with all=true. Returns the number of events or a negative errno (the
 * callback's error stops it). */
int probe_flush(struct probe *p, bool all);
/* Detach every program: no new events from here on. For an exact end:
 * probe_detach(), probe_consume(), probe_flush(p, true), probe_stats().
 * Idempotent; probe_free() detaches too. */
int probe_detach(struct probe *p);
/* Counters summed over all CPUs. */
void probe_stats(const struct probe *p, struct probe_stats *ret);
/* Usage of the kernel tables; walks them (tens of ms for a full socket
 * table), so call it at stop or rarely. */
int probe_map_usage(struct probe *p, struct probe_map_usage *ret);
/* Detach and free everything; accepts NULL, returns NULL. */
struct probe *probe_free(struct probe *p);

#endif
