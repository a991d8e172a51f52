/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The structs shared by ebpfdump.bpf.c (writer) and probe.c (reader): the
 * ring-buffer record, the UDP flow table's key and value, the per-CPU
 * counters. Fixed-width fields only, no pointers, no implicit padding, so
 * both compilers lay them out the same and no kernel memory leaks through
 * holes. A change of layout is a change of the *_SIZE constants.
 */
#ifndef EBPFDUMP_BPF_EVENT_H
#define EBPFDUMP_BPF_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Record types. Same values as enum event_type (event/event.h), which the
 * BPF side cannot include; probe.c asserts that they agree. */
#define EBPFDUMP_EV_TCP_CONNECT 1
#define EBPFDUMP_EV_TCP_CONNECT_FAILED 2
#define EBPFDUMP_EV_TCP_ACCEPT 3
#define EBPFDUMP_EV_TCP_CLOSE 4
#define EBPFDUMP_EV_TCP_RETRANSMIT 5
#define EBPFDUMP_EV_UDP_SEND 6
#define EBPFDUMP_EV_UDP_RECV 7
#define EBPFDUMP_EV_TCP_LISTEN 11
#define EBPFDUMP_EV_TCP_LISTEN_CLOSE 12
/* Slots for per-type counters: a power of two above every type. */
#define EBPFDUMP_EV_SLOTS 16

/* Which parts of a record are valid (struct ebpfdump_record.flags). */
#define EBPFDUMP_F_OWNER (1u << 0)	 /* owner.id */
#define EBPFDUMP_F_CGROUP_NAME (1u << 1) /* owner.s.cgroup */
#define EBPFDUMP_F_NETNS (1u << 2)
#define EBPFDUMP_F_IFINDEX (1u << 3)
#define EBPFDUMP_F_IFNAME (1u << 4)
#define EBPFDUMP_F_COOKIE (1u << 5)
#define EBPFDUMP_F_LATENCY (1u << 6) /* latency_ns */
#define EBPFDUMP_F_TOTALS (1u << 7)  /* bytes_*, retransmits, srtt_us */
#define EBPFDUMP_F_ERROR (1u << 8)
/* The socket was opened before the probe was attached, so whether its SYN
 * is inside tcp_sock.bytes_acked is unknown; bytes_sent assumed it is not
 * (a client's count may then be one too high). */
#define EBPFDUMP_F_SYN_UNKNOWN (1u << 9)
#define EBPFDUMP_F_COUNTS (1u << 10) /* packets, bytes */
/* The remote end of this datagram is not known (an unconnected socket read
 * without asking for the sender's address): raddr/rport are not valid. */
#define EBPFDUMP_F_NO_PEER (1u << 11)
#define EBPFDUMP_F_EXE (1u << 12) /* owner.s.exe */
/* owner.s.cmdline holds owner.s.cmdline_len bytes of the process's arguments
 * (NUL-separated, as in /proc/PID/cmdline); with _CUT they were longer and
 * this is their start. */
#define EBPFDUMP_F_CMDLINE (1u << 13)
#define EBPFDUMP_F_CMDLINE_CUT (1u << 14)

/* String limits, including the NUL. The kernel's own limits for comm
 * (TASK_COMM_LEN) and interface names (IFNAMSIZ) are 16; cgroup leaf names
 * such as docker-<64 hex>.scope are 77 bytes, so 128 leaves room. */
#define EBPFDUMP_COMM_LEN 16
#define EBPFDUMP_IFNAME_LEN 16
#define EBPFDUMP_CGROUP_LEN 128
/* The executable's path as the kernel can rebuild it (see owner.exe).
 * Longer paths are not sent (user space then reads /proc/PID/exe, whose
 * limit is EVENT_EXE_MAX); 255 characters cover ordinary install paths.
 * A power of two: the BPF side masks offsets with EBPFDUMP_EXE_LEN - 1. */
#define EBPFDUMP_EXE_LEN 256
/* The process's arguments as the kernel keeps them (mm->arg_start ..
 * arg_end), read in the owner's own context so that a process that exits
 * at once still has them; longer ones are cut (EBPFDUMP_F_CMDLINE_CUT) and
 * user space prefers /proc/PID/cmdline for those while it exists. */
#define EBPFDUMP_CMDLINE_LEN 256
_Static_assert((EBPFDUMP_CMDLINE_LEN & (EBPFDUMP_CMDLINE_LEN - 1)) == 0,
	       "EBPFDUMP_CMDLINE_LEN: a power of two (the BPF side masks with it)");
/* Set in cmdline_len when the arguments were longer than that. */
#define EBPFDUMP_CMDLINE_CUT_BIT (1u << 31)

/* Who a socket belongs to: the task that called connect(), accept() or
 * listen() on it, remembered per socket because later state changes run
 * in softirq or in the peer's context. Without the process's long strings
 * (below), which the kernel sends once per process: every TCP record and
 * every socket's entry carries this much only. */
struct ebpfdump_ident {
	__u64 cgroup_id; /* kernfs id (inode) of the owner's cgroup */
	__u32 pid;	 /* thread-group id */
	__u32 tid;
	__u32 uid;
	__u32 gid;
	__u32 ppid; /* real_parent's thread-group id */
	__u32 reserved;
	/* The EBPFDUMP_EV_PROCESS record that carried this process's
	 * strings, 0 when none was sent (nothing to send, or the ring was
	 * full: user space then reads /proc). */
	__u64 proc_id;
	char comm[EBPFDUMP_COMM_LEN];	/* the process's name: its group leader's */
	char thread[EBPFDUMP_COMM_LEN]; /* the calling thread's own name */
	char pcomm[EBPFDUMP_COMM_LEN];
};

/* The strings of a process that cost the most to read and to carry, read
 * once per process (the kernel's procs cache) in the process's own
 * context, so that a process that exits at once still has them. */
struct ebpfdump_proc_strings {
	__u32 cmdline_len; /* bytes of cmdline that are valid, | CUT_BIT */
	__u16 flags;	   /* EBPFDUMP_F_CGROUP_NAME, _EXE, _CMDLINE, _CMDLINE_CUT */
	__u16 reserved;
	char cgroup[EBPFDUMP_CGROUP_LEN]; /* leaf name, v1 memory/pids or v2 */
	/* mm->exe_file's path from the root of its mount, e.g. "/usr/bin/curl";
	 * empty when unknown (kernel thread, other mount, too long or deep). */
	char exe[EBPFDUMP_EXE_LEN];
	char cmdline[EBPFDUMP_CMDLINE_LEN]; /* NUL-separated arguments */
};

/* An owner in full: what a UDP flow keeps, and what user space rebuilds
 * for a TCP record from its ident and its process's strings. */
struct ebpfdump_owner {
	struct ebpfdump_ident id;
	struct ebpfdump_proc_strings s;
};

/* The fields every record starts with, the same in both layouts below so
 * that user space can copy them across in one piece. */
#define EBPFDUMP_RECORD_HEAD                                                           \
	__u16 type;  /* EBPFDUMP_EV_* */                                               \
	__u16 flags; /* EBPFDUMP_F_* */                                                \
	__u8 family; /* AF_INET or AF_INET6 (as the socket has it) */                  \
	__u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */                                  \
	__u16 lport; /* host byte order */                                             \
	__u16 rport; /* host byte order */                                             \
	__u16 reserved;                                                                \
	__u32 netns;	      /* network namespace inode */                             \
	__u64 ts_ns;	      /* CLOCK_BOOTTIME (bpf_ktime_get_boot_ns) */              \
	__u64 sock_cookie;                                                             \
	__u64 latency_ns;     /* connect: SYN sent -> established or failed */          \
	__u64 bytes_sent;     /* payload bytes the application wrote */                 \
	__u64 bytes_received; /* payload bytes that arrived in order */                 \
	__u64 packets;	      /* UDP: datagrams counted by this record */               \
	__u64 bytes;	      /* UDP: their payload bytes */                            \
	__u32 retransmits;    /* tcp_sock.total_retrans */                              \
	__u32 srtt_us;                                                                 \
	__u32 error; /* errno from sk_err (connect failures), 0 if none */             \
	__u32 ifindex;                                                                 \
	__u8 laddr[16]; /* IPv4 uses the first 4 bytes; network order */               \
	__u8 raddr[16];                                                                \
	char ifname[EBPFDUMP_IFNAME_LEN];

/* A record with its owner in full: the kernel's UDP records, and every
 * event as user space hands it on (probe.c). */
struct ebpfdump_record {
	EBPFDUMP_RECORD_HEAD
	struct ebpfdump_owner owner;
};

/* A TCP record as the kernel writes it: the owner's ident only; its
 * process's strings came before it in the ring (EBPFDUMP_EV_PROCESS). */
struct ebpfdump_tcp_record {
	EBPFDUMP_RECORD_HEAD
	struct ebpfdump_ident ident;
};

/* Not an event: a process's strings, written to the ring the first time
 * one of its sockets needs them (and again when its procs cache entry is
 * rebuilt: another executable, cgroup or root, or evicted). Records that
 * name proc_id follow it in the ring. */
#define EBPFDUMP_EV_PROCESS 15
struct ebpfdump_proc_record {
	__u16 type; /* EBPFDUMP_EV_PROCESS */
	__u16 reserved;
	__u32 pid;
	__u64 proc_id;
	struct ebpfdump_proc_strings s;
};

#define EBPFDUMP_IDENT_SIZE 88
#define EBPFDUMP_STRINGS_SIZE (8 + EBPFDUMP_CGROUP_LEN + EBPFDUMP_EXE_LEN + EBPFDUMP_CMDLINE_LEN)
#define EBPFDUMP_OWNER_SIZE (EBPFDUMP_IDENT_SIZE + EBPFDUMP_STRINGS_SIZE)
#define EBPFDUMP_HEAD_SIZE 136
#define EBPFDUMP_RECORD_SIZE (EBPFDUMP_HEAD_SIZE + EBPFDUMP_OWNER_SIZE)

_Static_assert(sizeof(struct ebpfdump_ident) == EBPFDUMP_IDENT_SIZE,
	       "struct ebpfdump_ident changed size: padding or a layout change");
_Static_assert(sizeof(struct ebpfdump_owner) == EBPFDUMP_OWNER_SIZE,
	       "struct ebpfdump_owner changed size: padding or a layout change");
_Static_assert(sizeof(struct ebpfdump_record) == EBPFDUMP_RECORD_SIZE,
	       "struct ebpfdump_record changed size: padding or a layout change");
_Static_assert(sizeof(struct ebpfdump_tcp_record) == EBPFDUMP_HEAD_SIZE + EBPFDUMP_IDENT_SIZE,
	       "struct ebpfdump_tcp_record changed size: padding or a layout change");
_Static_assert(sizeof(struct ebpfdump_proc_record) == 16 + EBPFDUMP_STRINGS_SIZE,
	       "struct ebpfdump_proc_record changed size: padding or a layout change");

/* UDP flows: the kernel counts datagrams per flow in the LRU hash
 * udp_flows (key and value below); user space reads the map to report the
 * counts (probe_flush), so both sides see these structs. */
#define EBPFDUMP_UDP_SEND 0
#define EBPFDUMP_UDP_RECV 1

struct ebpfdump_udp_key {
	__u8 laddr[16]; /* network order; IPv4 in the first 4 bytes */
	__u8 raddr[16]; /* zero when the peer is unknown (EBPFDUMP_F_NO_PEER) */
	__u32 pid;	/* thread-group id of the sender/receiver */
	__u32 netns;
	__u16 lport; /* host byte order */
	__u16 rport;
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 dir;    /* EBPFDUMP_UDP_SEND or EBPFDUMP_UDP_RECV */
	__u16 flags; /* EBPFDUMP_F_NO_PEER */
};

struct ebpfdump_udp_flow {
	struct ebpfdump_owner owner; /* the thread of the flow's first datagram */
	__u64 birth_ns;		     /* first datagram (CLOCK_BOOTTIME) */
	__u64 last_ns;		     /* latest datagram */
	/* Totals since birth, only ever added to (atomically) by the kernel;
	 * user space reports differences, so nothing is counted twice. */
	__u64 packets;
	__u64 bytes;
	/* What the kernel reported itself in the flow's first record
	 * (0 when that record could not be reserved). Written once, before
	 * the entry becomes visible. */
	__u64 inline_packets;
	__u64 inline_bytes;
	__u64 sock_cookie;
	__u32 ifindex;
	__u16 flags; /* EBPFDUMP_F_* valid for the record: IFINDEX, IFNAME, COOKIE, OWNER... */
	__u16 reserved;
	char ifname[EBPFDUMP_IFNAME_LEN];
};

#define EBPFDUMP_UDP_KEY_SIZE 48
#define EBPFDUMP_UDP_FLOW_SIZE (EBPFDUMP_OWNER_SIZE + 80)

_Static_assert(sizeof(struct ebpfdump_udp_key) == EBPFDUMP_UDP_KEY_SIZE,
	       "struct ebpfdump_udp_key changed size: padding or a layout change");
_Static_assert(sizeof(struct ebpfdump_udp_flow) == EBPFDUMP_UDP_FLOW_SIZE,
	       "struct ebpfdump_udp_flow changed size: padding or a layout change");

/* Per-CPU counters (map "counters"), summed by user space. */
struct ebpfdump_counters {
	__u64 dropped;	     /* records lost: ring buffer full */
	__u64 seen;	     /* events (UDP: datagrams) before filtering */
	__u64 filtered;	     /* of those, excluded by a filter */
	__u64 sock_inserts;  /* new keys in "sockets" */
	__u64 sock_deletes;  /* keys removed from "sockets" at close */
	__u64 sock_failed;   /* inserts the map refused */
	__u64 udp_inserts;   /* new keys in "udp_flows" */
	__u64 udp_failed;    /* inserts refused: those datagrams are lost */
	__u64 udp_lost_packets; /* datagrams not counted because of that */
	__u64 udp_no_peer;   /* datagrams of unconnected sockets, peer unknown */
	/* Events whose hook never ran our program, found afterwards from the
	 * socket (nothing else counts them): tcp:tcp_retransmit_skb calls that
	 * tcp_sock.total_retrans shows, closes found missing when the
	 * socket's memory started a new socket or by the sweep at the stop,
	 * and connects whose socket closed without its ESTABLISHED seen. */
	__u64 missed_retransmits;
	__u64 missed_closes;
	__u64 missed_connects;
	/* EBPFDUMP_EV_PROCESS records the ring had no room for: not events;
	 * the process's events lack its strings until the next try. */
	__u64 proc_dropped;
	/* dropped, by record type (EBPFDUMP_EV_*): the stage that lost an
	 * event says which one, so that written + lost adds up per type */
	__u64 dropped_type[EBPFDUMP_EV_SLOTS];
};

#endif
