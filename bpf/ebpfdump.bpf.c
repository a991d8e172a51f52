/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel side of ebpfdump: TCP connect, connect failure, accept, close and
 * retransmit events, and UDP send/receive counts per flow, from tracepoints
 * only; attributed to the owning process through per-socket state,
 * filtered in the kernel, delivered through one ring buffer.
 *
 * Layout: configuration (rodata), state (maps), owner capture
 * (ident_from_current, proc_announce), filters (event_allowed,
 * current_wanted), record helpers (record_reserve, record_fill_sock,
 * record_submit), TCP hooks, UDP flow accounting and its hooks. docs/kernel-side.md explains the choices.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "core_fixes.bpf.h"
#include "ebpfdump_event.h"

char LICENSE[] SEC("license") = "GPL";

/* Socket families are preprocessor constants in the kernel, so vmlinux.h
 * does not carry them; their values are ABI. */
#define AF_INET 2
#define AF_INET6 10

/* errno values the map helpers return (ABI, not in vmlinux.h). */
#define EEXIST 17
#define ENOENT 2

/* Message flags (include/linux/socket.h), ABI values. */
#define MSG_PEEK 2
#define MSG_ERRQUEUE 0x2000

/* Configuration, set by user space between open and load. Being rodata,
 * the verifier sees the values and drops the code of filters not in use. */
const volatile __u32 event_mask = 0xffffffff; /* bits of enum event_type */
/* Bytes of unread records at which a submit wakes the reader; below it no
 * wake-up (the reader polls on a timer). 0: the kernel's adaptive wake-up,
 * one per record that finds the reader idle (probe_config.batch_wakeups). */
const volatile __u64 wakeup_bytes = 0;
const volatile bool filter_process = false;   /* any of the process filters below */
const volatile __u32 filter_pid = 0;	      /* thread-group id, 0: any */
const volatile bool filter_pid_tree = false;  /* also descendants of filter_pid */
const volatile bool filter_uid_set = false;
const volatile __u32 filter_uid = 0;
const volatile bool filter_comm_set = false;
const volatile char filter_comm[EBPFDUMP_COMM_LEN] = {};
const volatile __u64 filter_cgroup_id = 0; /* 0: any */
const volatile __u32 filter_netns = 0;	   /* network namespace inode, 0: any */
/* tcp:tcp_retransmit_skb has a third argument, err (newer kernels fire it
 * for failed attempts too); user space reads the kernel's BTF. While
 * false the verifier drops the read of args[2], which a two-argument
 * tracepoint would refuse at attach. */
const volatile bool retransmit_has_err = false;

/* Ancestors of a task inspected for filter_pid_tree. Each level is two
 * reads; init is rarely more than a dozen levels away. */
#define PID_TREE_DEPTH 32

/* What is remembered per socket from connect()/accept() until close. */
#define STATE_OWNER (1u << 0)	/* owner is valid */
#define STATE_ACTIVE (1u << 1)	/* we sent the SYN (connect) */
#define STATE_PASSIVE (1u << 2) /* the peer sent the SYN (accept) */
#define STATE_MATCH (1u << 3)	/* the owner passed the process filters */
#define STATE_RTX (1u << 4)	/* rtx_total is known */
#define STATE_NETNS (1u << 5)	/* the socket is in filter_netns (or no such filter) */
#define STATE_GONE (1u << 6)	/* ebd_sweep counted its close as missed */
#define STATE_CONNECTED (1u << 7) /* its SYN_SENT -> ESTABLISHED was seen */

struct sock_state {
	struct ebpfdump_ident owner;
	__u64 connect_start_ns; /* SYN_SENT time, for the handshake latency */
	__u64 listener;		/* listeners map: the listening socket's address */
	__u32 flags;		/* STATE_* */
	/* tcp_sock.total_retrans after the last tcp:tcp_retransmit_skb call
	 * seen for this socket (or when the entry was made): a call that
	 * never reached ebd_retransmit shows as a jump (see there). */
	__u32 rtx_total;
};

/* Size set by user space before load (probe_config.ringbuf_bytes). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Keyed by the struct sock address: unique while the socket lives, and the
 * entry is deleted at TCP_CLOSE. LRU, so sockets whose close we never see
 * (opened before attach and never closed) cannot fill it. Size set by user
 * space before load (probe_config.max_sockets). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct sock_state);
} sockets SEC(".maps");

/* Listening sockets by network namespace and port: the owner of listen()
 * (CLOSE -> LISTEN runs in its context), for a connection that ends in the
 * accept queue before anyone accepted it. Keyed by port, not by socket: a
 * child socket does not point to its listener. Two listeners on one port
 * (other addresses, SO_REUSEPORT): the last one's owner. */
struct listen_key {
	__u32 netns;
	__u32 port;
};

#define LISTENERS_MAX 4096

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LISTENERS_MAX);
	__type(key, struct listen_key);
	__type(value, struct sock_state);
} listeners SEC(".maps");

/* Lost records, filtered events, map inserts; per CPU to stay cheap. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ebpfdump_counters);
} counters SEC(".maps");

/* Datagram and byte counts per UDP flow (5-tuple, pid, direction). LRU so
 * that a scan of many peers cannot fill it; size set by user space before
 * load (probe_config.max_udp_flows). Only the kernel writes it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ebpfdump_udp_key);
	__type(value, struct ebpfdump_udp_flow);
} udp_flows SEC(".maps");

/* A flow value is built here (800 bytes) rather than on the stack. Only
 * process-context programs use it, and they never nest on one CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ebpfdump_udp_flow);
} udp_scratch SEC(".maps");

/* The user-space address arguments of a send/receive system call in
 * progress, per thread: sock:sock_send_length and sock_recv_length only
 * give the socket, and an unconnected socket's peer is in these. */
#define CALL_ADDR 1 /* uptr is a struct sockaddr (sendto, sendmsg, recvfrom, recvmsg) */
#define CALL_MMSG 2 /* uptr is a struct mmsghdr array (sendmmsg, recvmmsg) */

struct call_args {
	__u64 uptr;
	__u64 pending_sk; /* unconnected receive whose sender is not written yet */
	__u32 kind;	  /* CALL_* */
	__u32 index;	  /* datagrams of this call so far (mmsg) */
	__u32 vlen;	  /* entries in the mmsghdr array */
	__u32 pending_bytes;
};

/* Threads inside such a call at once; LRU: a thread blocked long in
 * recvfrom() may lose its entry, and its datagram then has no peer. */
#define CALLS_MAX 16384

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CALLS_MAX);
	__type(key, __u32); /* thread id */
	__type(value, struct call_args);
} calls SEC(".maps");

/* A sock_state is built here rather than on the 512-byte BPF stack, one
 * slot per program: a program can be interrupted by a softirq that runs
 * another of ours on the same CPU, and must find its slot untouched. */
enum scratch_slot {
	SLOT_STATE_MAIN,
	SLOT_STATE_NESTED,
	SLOT_ACCEPT,
	SLOT_RETRANSMIT,
	SLOT_COUNT,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SLOT_COUNT);
	__type(key, __u32);
	__type(value, struct sock_state);
} scratch SEC(".maps");

/* Directory levels walked up from an executable's dentry: one name copy
 * each. /usr/lib/x86_64-linux-gnu/<pkg>/libexec/<name> is 6; deeper
 * binaries get no kernel-side path (user space reads /proc instead). */
#define EXE_DEPTH 16

/* Work space for the executable path (exe_path_build), built right to left
 * ending at buf[EBPFDUMP_EXE_LEN - 1]. Twice the path limit so that a name
 * (under EBPFDUMP_EXE_LEN bytes) copied at any offset below
 * EBPFDUMP_EXE_LEN stays inside it, which is what the verifier checks.
 * Used only from process context (connect(), accept() exit, a UDP flow's
 * first datagram), where our programs do not nest on one CPU. */
struct exe_scratch {
	char buf[2 * EBPFDUMP_EXE_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exe_scratch);
} exe_scratch SEC(".maps");

/* What the owner captures learn of a process that costs the most to read
 * and to carry (the executable's path walk, the cgroup's name, the
 * arguments), kept per thread group so that a process's second and later
 * sockets skip it, and sent to user space once (proc_announce) so that
 * records carry an ident only. An entry is used only while all of its keys
 * still match: the same process (group leader's start time: a reused pid
 * does not match), the same executable file (an exec replaces it), the
 * same css_set (moving to another cgroup replaces it) and the same root
 * mount (which decides whether exe can be named). The arguments are those
 * of the process's first socket: a process that rewrites them later
 * (setproctitle) keeps its first ones here. LRU: processes come and go. */
struct proc_info {
	__u64 start_time; /* group leader's, CLOCK_MONOTONIC ns */
	__u64 exe_file;	  /* mm->exe_file, compared as a number */
	__u64 css_set;	  /* task->cgroups */
	__u64 root_mnt;	  /* fs->root.mnt */
	__u64 cgroup_id;
	__u64 proc_id;	  /* names these strings in the ring (proc_announce) */
	__u32 announced;  /* the ring has them under proc_id */
	__u32 pad;
	struct ebpfdump_proc_strings s;
};

#define PROCS_MAX 8192

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PROCS_MAX);
	__type(key, __u32); /* thread-group id */
	__type(value, struct proc_info);
} procs SEC(".maps");

/* A proc_info is built here on a cache miss. Process context only, like
 * exe_scratch. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct proc_info);
} proc_scratch SEC(".maps");

/* Per CPU: the last proc_id handed out there (proc_new_id). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} proc_seq SEC(".maps");

/* Per CPU: the state changes ebd_state_main took on and ebd_state_nested
 * has not yet seen, innermost last (see the two programs below). Each
 * level of interrupt nesting adds one at most. A note is left behind only
 * when the kernel skipped ebd_state_nested for it (a rare moment); notes
 * older than STATE_TAKEN_STALE_JIFFIES cannot belong to a change in flight
 * (tracepoint programs run with preemption off) and are dropped. Their age
 * is in jiffies: one load (the verifier inlines bpf_jiffies64) where
 * bpf_ktime_get_ns reads a clock, 10 times per connection. 25 jiffies are
 * 25 ms at HZ=1000, 100 ms at HZ=250. */
#define STATE_TAKEN_MAX 8
#define STATE_TAKEN_STALE_JIFFIES 25
struct state_taken {
	__u32 n;
	__u32 pad;
	struct {
		__u64 sk;
		__u64 ts; /* jiffies */
		__u32 oldstate, newstate;
	} e[STATE_TAKEN_MAX];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct state_taken);
} state_taken SEC(".maps");

/* The system calls we watch, seen through the raw tracepoints
 * raw_syscalls:sys_enter (regs, id) and raw_syscalls:sys_exit (regs, ret).
 * Two raw tracepoints instead of fourteen syscalls:* ones: detaching a
 * syscalls:* tracepoint waits for an RCU grace period under a global
 * mutex (about 80 ms each), which made every stop take a second. The
 * numbers are the architecture's native ones. */
#if defined(__TARGET_ARCH_x86)
#define NR_ACCEPT 43
#define NR_SENDTO 44
#define NR_RECVFROM 45
#define NR_SENDMSG 46
#define NR_RECVMSG 47
#define NR_ACCEPT4 288
#define NR_RECVMMSG 299
#define NR_SENDMMSG 307
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define NR_ACCEPT 202
#define NR_SENDTO 206
#define NR_RECVFROM 207
#define NR_SENDMSG 211
#define NR_RECVMSG 212
#define NR_ACCEPT4 242
#define NR_RECVMMSG 243
#define NR_SENDMMSG 269
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, syscallno)
#else
#error "ebpfdump knows the socket system call numbers of x86_64 and arm64 only (bpf/ebpfdump.bpf.c)"
#endif

/* A 32-bit task on a 64-bit kernel numbers its system calls differently:
 * its calls are not ours to decode. */
static __always_inline bool compat_syscall(void)
{
#if defined(__TARGET_ARCH_x86)
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	if (bpf_core_field_exists(task->thread_info.status))
		return BPF_CORE_READ(task, thread_info.status) & 0x0002; /* TS_COMPAT */
#endif
	return false;
}


static __always_inline struct sock_state *scratch_state(__u32 slot)
{
	struct sock_state *st = bpf_map_lookup_elem(&scratch, &slot);

	if (st)
		__builtin_memset(st, 0, sizeof(*st));
	return st;
}

/* The cgroup whose leaf name identifies a container. With cgroup v1
 * (Docker's cgroupfs driver) the default (v2) hierarchy is usually just the
 * root, so a v1 hierarchy that has the memory or pids controller is asked
 * first; a hierarchy id of 0 is the default hierarchy itself. */
static __always_inline struct cgroup *task_v1_cgroup(struct task_struct *task, int subsys_id)
{
	struct cgroup_subsys_state *css;
	struct cgroup *cgrp;

	if (subsys_id < 0 ||
	    subsys_id >= (int)bpf_core_enum_value(enum cgroup_subsys_id, CGROUP_SUBSYS_COUNT))
		return NULL;
	css = BPF_CORE_READ(task, cgroups, subsys[subsys_id]);
	if (!css)
		return NULL;
	cgrp = BPF_CORE_READ(css, cgroup);
	if (!cgrp || BPF_CORE_READ(cgrp, root, hierarchy_id) == 0)
		return NULL;
	return cgrp;
}

/* The cgroup that identifies a task's container: the v1 memory, else v1
 * pids, else the default hierarchy's. Events and the cgroup filter both
 * use it, so the id a user copies from an event selects that event. */
static __always_inline struct kernfs_node *task_cgroup_node(struct task_struct *task)
{
	struct cgroup *cgrp;

	cgrp = task_v1_cgroup(task, cgroup_memory_subsys_id());
	if (!cgrp)
		cgrp = task_v1_cgroup(task, cgroup_pids_subsys_id());
	if (!cgrp)
		cgrp = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	return cgrp ? BPF_CORE_READ(cgrp, kn) : NULL;
}

static __always_inline void proc_cgroup(struct task_struct *task, struct proc_info *pi)
{
	struct kernfs_node *kn = task_cgroup_node(task);
	const char *name;

	if (!kn)
		return;
	pi->cgroup_id = kernfs_node_id(kn);
	name = BPF_CORE_READ(kn, name);
	if (name)
		bpf_probe_read_kernel_str(pi->s.cgroup, sizeof(pi->s.cgroup), name);
}

/* The path of the current task's executable, rebuilt from
 * mm->exe_file's dentry by walking d_parent up to the root of the file's
 * mount (mount points are not crossed). Only files on the task's root
 * mount are named: there the path is the one the process itself sees
 * ("/usr/bin/curl", also in a container whose root is an overlay); a
 * binary on another mount (a tmpfs /tmp, a volume) would come out as a
 * path inside that mount, so it is left out and user space falls back to
 * /proc/PID/exe. Also left out when deeper than EXE_DEPTH or longer than
 * EBPFDUMP_EXE_LEN - 1: a truncated path would look valid and win over
 * /proc's.
 *
 * Builds the path in exe_scratch.buf ending at EBPFDUMP_EXE_LEN - 1 and
 * returns where it starts, or -1. One upward pass, each name copied in
 * front of the previous one (its length is d_name.len). A global function:
 * the verifier checks it once per program instead of once per path that
 * reaches an owner capture (the UDP programs have many). */
__noinline int exe_path_build(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct dentry *d, *parent, *mnt_root;
	__u32 zero = 0, pos, len, i;
	const unsigned char *name;
	struct exe_scratch *s;
	struct vfsmount *mnt;
	struct file *file;

	file = BPF_CORE_READ(task, mm, exe_file);
	if (!file)
		return -1; /* kernel thread, or an exiting task */
	mnt = BPF_CORE_READ(file, f_path.mnt);
	if (!mnt || mnt != BPF_CORE_READ(task, fs, root.mnt))
		return -1;
	mnt_root = BPF_CORE_READ(mnt, mnt_root);
	d = BPF_CORE_READ(file, f_path.dentry);
	s = bpf_map_lookup_elem(&exe_scratch, &zero);
	if (!s || !d)
		return -1;

	pos = EBPFDUMP_EXE_LEN - 1;
	s->buf[pos] = '\0';
	/* The mount's root ends the walk (a bind-mounted root is a directory
	 * inside its file system); d_parent == itself is the file system's
	 * root. Offsets and lengths are masked so that the verifier sees them
	 * below EBPFDUMP_EXE_LEN; the checks before make the masks no-ops. */
	for (i = 0; i <= EXE_DEPTH; i++) {
		parent = BPF_CORE_READ(d, d_parent);
		if (d == mnt_root || d == parent || !parent)
			break;
		if (i == EXE_DEPTH)
			return -1; /* deeper than we follow */
		len = BPF_CORE_READ(d, d_name.len);
		name = BPF_CORE_READ(d, d_name.name);
		if (len == 0 || len >= pos)
			return -1; /* no room for "/" and the name */
		pos = (pos - len) & (EBPFDUMP_EXE_LEN - 1);
		len &= EBPFDUMP_EXE_LEN - 1;
		if (bpf_probe_read_kernel(&s->buf[pos], len, name))
			return -1;
		pos = (pos - 1) & (EBPFDUMP_EXE_LEN - 1);
		s->buf[pos] = '/';
		d = parent;
	}
	if (i == 0)
		return -1; /* the file is its mount's root: not an executable */
	return (int)pos;
}

/* The current task's executable path, or left empty (see exe_path_build). */
static __always_inline void proc_exe(struct proc_info *pi)
{
	struct exe_scratch *s;
	__u32 zero = 0;
	int pos = exe_path_build();

	if (pos < 0 || pos >= EBPFDUMP_EXE_LEN)
		return;
	s = bpf_map_lookup_elem(&exe_scratch, &zero);
	if (s)
		bpf_probe_read_kernel_str(pi->s.exe, sizeof(pi->s.exe), &s->buf[pos]);
}

static __always_inline struct ebpfdump_counters *counters_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&counters, &zero);
}

/* Counters are per CPU, but a softirq can run one of our programs in the
 * middle of another's increment on the same CPU; an atomic add (uncontended,
 * so cheap) keeps every count exact. */
#define COUNT(c, field, n) __sync_fetch_and_add(&(c)->field, (n))

static __always_inline void count_drop(__u16 type)
{
	struct ebpfdump_counters *c = counters_get();

	if (c) {
		COUNT(c, dropped, 1);
		COUNT(c, dropped_type[type & (EBPFDUMP_EV_SLOTS - 1)], 1);
	}
}

/* A wake-up is an interrupt and a context switch in the reader, per
 * record when the reader keeps up: batching them is most of what a
 * connection costs in user space. */
static __always_inline __u64 submit_flags(void)
{
	if (!wakeup_bytes)
		return 0;
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									 : BPF_RB_NO_WAKEUP;
}

/* A proc_id no other entry has had: this CPU's own sequence under the
 * CPU's number. Process context only, where our programs do not nest on
 * one CPU. */
static __always_inline __u64 proc_new_id(void)
{
	__u32 zero = 0;
	__u64 *seq = bpf_map_lookup_elem(&proc_seq, &zero);

	if (!seq)
		return 0;
	*seq += 1;
	return ((__u64)bpf_get_smp_processor_id() << 48) | (*seq & ((1ull << 48) - 1));
}

/* The process's arguments, read from its own memory while it runs (a
 * process that exits right after its query has no /proc/PID/cmdline by the
 * time user space looks). At most EBPFDUMP_CMDLINE_LEN bytes; longer ones
 * are cut and flagged. A page of them not resident (swapped out) fails the
 * read: no cmdline then, user space tries /proc and counts the misses.
 * ps->cmdline is zeroed already. */
static __always_inline void proc_cmdline(struct task_struct *task, struct ebpfdump_proc_strings *ps)
{
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	__u64 start, end, n;
	bool cut;

	if (!mm)
		return; /* a kernel thread */
	start = BPF_CORE_READ(mm, arg_start);
	end = BPF_CORE_READ(mm, arg_end);
	if (!start || end <= start)
		return;
	n = end - start;
	cut = n > EBPFDUMP_CMDLINE_LEN;
	if (n > EBPFDUMP_CMDLINE_LEN)
		n = EBPFDUMP_CMDLINE_LEN;
	/* The same n (1 .. EBPFDUMP_CMDLINE_LEN), as a mask and an add that
	 * every verifier bounds: Linux 6.1's took the clamp above for a
	 * possibly negative size ("R2 min value is negative"). */
	n = ((n - 1) & (EBPFDUMP_CMDLINE_LEN - 1)) + 1;
	if (bpf_probe_read_user(ps->cmdline, n, (const void *)(unsigned long)start) == 0)
		ps->cmdline_len = (__u32)n | (cut ? EBPFDUMP_CMDLINE_CUT_BIT : 0);
}

static __always_inline __u16 strings_flags(const struct ebpfdump_proc_strings *ps)
{
	return (ps->cgroup[0] ? EBPFDUMP_F_CGROUP_NAME : 0) | (ps->exe[0] ? EBPFDUMP_F_EXE : 0) |
	       ((ps->cmdline_len & ~EBPFDUMP_CMDLINE_CUT_BIT) ? EBPFDUMP_F_CMDLINE : 0) |
	       ((ps->cmdline_len & EBPFDUMP_CMDLINE_CUT_BIT) ? EBPFDUMP_F_CMDLINE_CUT : 0);
}

/* The process's strings to the ring, once per cache entry: the records
 * that name its proc_id come after it, so user space has them first. When
 * the ring is full, not marked: the next owner capture tries again, and
 * the idents taken meanwhile say proc_id 0 (user space reads /proc). */
static __always_inline void proc_announce(struct proc_info *pi, __u32 tgid)
{
	struct ebpfdump_proc_record *r;

	if (pi->announced || !pi->s.flags)
		return;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		struct ebpfdump_counters *c = counters_get();

		if (c)
			COUNT(c, proc_dropped, 1);
		return;
	}
	r->type = EBPFDUMP_EV_PROCESS;
	r->reserved = 0;
	r->pid = tgid;
	r->proc_id = pi->proc_id;
	__builtin_memcpy(&r->s, &pi->s, sizeof(r->s));
	bpf_ringbuf_submit(r, submit_flags());
	pi->announced = 1;
}

/* The current process's strings: from the procs cache when its keys still
 * match, else read, announced and cached. NULL if no room to build. */
static __always_inline const struct proc_info *proc_current(struct task_struct *task, __u32 tgid)
{
	__u64 start = BPF_CORE_READ(task, group_leader, start_time);
	__u64 exe_file = (__u64)(unsigned long)BPF_CORE_READ(task, mm, exe_file);
	__u64 css_set = (__u64)(unsigned long)BPF_CORE_READ(task, cgroups);
	__u64 root_mnt = (__u64)(unsigned long)BPF_CORE_READ(task, fs, root.mnt);
	struct proc_info *pi = bpf_map_lookup_elem(&procs, &tgid);
	__u32 zero = 0;

	if (pi && pi->start_time == start && pi->exe_file == exe_file && pi->css_set == css_set &&
	    pi->root_mnt == root_mnt) {
		proc_announce(pi, tgid);
		return pi;
	}
	pi = bpf_map_lookup_elem(&proc_scratch, &zero);
	if (!pi)
		return NULL;
	__builtin_memset(pi, 0, sizeof(*pi));
	pi->start_time = start;
	pi->exe_file = exe_file;
	pi->css_set = css_set;
	pi->root_mnt = root_mnt;
	proc_cgroup(task, pi);
	proc_exe(pi);
	proc_cmdline(task, &pi->s);
	pi->s.flags = strings_flags(&pi->s);
	pi->proc_id = proc_new_id();
	proc_announce(pi, tgid);
	/* A kernel thread (no executable) is not worth an entry. */
	if (exe_file)
		bpf_map_update_elem(&procs, &tgid, pi, BPF_ANY);
	return pi;
}

/* Only valid in the context of the task that owns the socket: connect(),
 * accept(), listen(), and later send/recv. Called once per socket or UDP
 * flow, not per packet. comm is the process's name (its group leader's,
 * what ps shows), thread the calling thread's own (a resolver thread's
 * "isc-net-0000"). Returns the process's strings (NULL when there was no
 * room to read them), announced under id->proc_id. */
static __always_inline const struct proc_info *ident_from_current(struct ebpfdump_ident *id)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	const struct proc_info *pi;

	id->pid = pid_tgid >> 32; /* upper half is the thread group */
	id->tid = (__u32)pid_tgid;
	id->uid = (__u32)uid_gid;
	id->gid = uid_gid >> 32;
	BPF_CORE_READ_STR_INTO(&id->comm, task, group_leader, comm);
	bpf_get_current_comm(id->thread, sizeof(id->thread));
	id->ppid = BPF_CORE_READ(task, real_parent, tgid);
	BPF_CORE_READ_STR_INTO(&id->pcomm, task, real_parent, comm);
	pi = proc_current(task, id->pid);
	id->cgroup_id = pi ? pi->cgroup_id : 0;
	id->proc_id = pi && pi->announced ? pi->proc_id : 0;
	return pi;
}

/* The owner in full, strings included (a UDP flow's). */
static __always_inline void owner_from_current(struct ebpfdump_owner *o)
{
	const struct proc_info *pi = ident_from_current(&o->id);

	if (pi)
		__builtin_memcpy(&o->s, &pi->s, sizeof(o->s));
	else
		__builtin_memset(&o->s, 0, sizeof(o->s));
	/* the record carries the strings itself */
	o->id.proc_id = 0;
}

/* ---- Filters ------------------------------------------------------------- */

static __always_inline bool type_wanted(__u32 type)
{
	return type < 32 && (event_mask & (1u << type));
}

static __always_inline bool pid_wanted(struct task_struct *task, __u32 tgid)
{
	if (tgid == filter_pid)
		return true;
	if (!filter_pid_tree)
		return false;
	/* Descendants: walk real_parent (who forked us, not a subreaper). */
	for (int i = 0; i < PID_TREE_DEPTH; i++) {
		__u32 t;

		task = BPF_CORE_READ(task, real_parent);
		if (!task)
			return false;
		t = BPF_CORE_READ(task, tgid);
		if (t == filter_pid)
			return true;
		if (t <= 1) /* init (or the idle task) has no further ancestors */
			return false;
	}
	return false;
}

static __always_inline bool comm_equal(const char *comm)
{
	for (int i = 0; i < EBPFDUMP_COMM_LEN; i++) {
		if (comm[i] != filter_comm[i])
			return false;
		if (!comm[i])
			return true;
	}
	return true;
}

/* The process's name (its group leader's) or the thread's own. */
static __always_inline bool comm_wanted(struct task_struct *task)
{
	char comm[EBPFDUMP_COMM_LEN];

	bpf_get_current_comm(comm, sizeof(comm));
	if (comm_equal(comm))
		return true;
	BPF_CORE_READ_STR_INTO(&comm, task, group_leader, comm);
	return comm_equal(comm);
}

/* Whether the current task passes the process filters (pid, uid, comm,
 * cgroup). Called where the task is the owner: in connect(), at accept()
 * exit and for each UDP datagram; the TCP verdict is kept with the socket
 * (STATE_MATCH) for events that fire later in softirq. */
static __always_inline bool current_wanted(void)
{
	struct task_struct *task;
	struct kernfs_node *kn;

	if (!filter_process)
		return true;
	task = (struct task_struct *)bpf_get_current_task();
	if (filter_pid && !pid_wanted(task, bpf_get_current_pid_tgid() >> 32))
		return false;
	if (filter_uid_set && (__u32)bpf_get_current_uid_gid() != filter_uid)
		return false;
	if (filter_comm_set && !comm_wanted(task))
		return false;
	if (filter_cgroup_id) {
		kn = task_cgroup_node(task);
		if (!kn || kernfs_node_id(kn) != filter_cgroup_id)
			return false;
	}
	return true;
}

static __always_inline __u32 sock_netns(struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* The one place that decides whether a TCP event is produced: its type,
 * the socket's namespace and the owner's verdict stored with the socket
 * (a socket of unknown owner fails every process filter). Counts the event
 * as seen, and as filtered when it is not produced. */
static __always_inline bool event_allowed(__u32 type, const struct sock_state *st, struct sock *sk)
{
	struct ebpfdump_counters *c = counters_get();
	bool ok = type_wanted(type);

	if (ok && filter_netns && sock_netns(sk) != filter_netns)
		ok = false;
	if (ok && filter_process && !(st && (st->flags & STATE_MATCH)))
		ok = false;
	if (c) {
		COUNT(c, seen, 1);
		if (!ok)
			COUNT(c, filtered, 1);
	}
	return ok;
}

/* Records are written in place in the ring buffer (no stack copy) and
 * zeroed first so no stale kernel memory reaches user space. */
static __always_inline struct ebpfdump_tcp_record *record_reserve(__u16 type)
{
	struct ebpfdump_tcp_record *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);

	if (!rec) {
		count_drop(type);
		return NULL;
	}
	__builtin_memset(rec, 0, sizeof(*rec));
	rec->type = type;
	rec->ts_ns = bpf_ktime_get_boot_ns();
	return rec;
}

static __always_inline void record_submit(struct ebpfdump_tcp_record *rec)
{
	bpf_ringbuf_submit(rec, submit_flags());
}

static __always_inline void record_set_owner(struct ebpfdump_tcp_record *rec,
					     const struct ebpfdump_ident *o)
{
	__builtin_memcpy(&rec->ident, o, sizeof(rec->ident));
	rec->flags |= EBPFDUMP_F_OWNER;
}

/* The interface a socket uses: its cached route's device (index and name),
 * else the receive route's index. Returns EBPFDUMP_F_IFINDEX/IFNAME. */
static __always_inline __u16 sock_iface(struct sock *sk, __u32 *ret_ifindex, char *ifname)
{
	struct dst_entry *dst = BPF_CORE_READ(sk, sk_dst_cache);
	struct net_device *dev = dst ? BPF_CORE_READ(dst, dev) : NULL;
	__u32 ifindex = 0;
	__u16 flags = 0;

	if (dev) {
		ifindex = BPF_CORE_READ(dev, ifindex);
		if (bpf_probe_read_kernel_str(ifname, EBPFDUMP_IFNAME_LEN, BPF_CORE_READ(dev, name)) >
		    1)
			flags |= EBPFDUMP_F_IFNAME;
	}
	if (!ifindex)
		ifindex = sock_rx_dst_ifindex(sk);
	if (ifindex)
		flags |= EBPFDUMP_F_IFINDEX;
	*ret_ifindex = ifindex;
	return flags;
}

/* The cookie is generated lazily by the kernel; reading it is free but it
 * is 0 until someone (sock_diag, a BPF program) asked for it. */
static __always_inline __u64 sock_cookie(struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
}

/* The fields of struct sock_common a record needs (addresses, ports,
 * family, state, namespace pointer, IPv6 addresses, cookie) lie together
 * at its start: one helper call reads them all, at offsets CO-RE
 * relocates. Per datagram or TCP record, that is half a dozen reads
 * fewer. */
#define SKC_SPAN_MAX 128

static __always_inline __u32 skc_span(void)
{
	return bpf_core_field_offset(struct sock_common, skc_v6_rcv_saddr) +
	       sizeof(struct in6_addr);
}

/* The same up to skc_cookie, which follows the IPv6 addresses. */
static __always_inline __u32 skc_span_cookie(void)
{
	return bpf_core_field_offset(struct sock_common, skc_cookie) + sizeof(__u64);
}

#define SKC_FIELD(buf, field) ((buf) + bpf_core_field_offset(struct sock_common, field))

/* Addresses, ports, namespace, interface and cookie, all from the socket so
 * that every hook (state change, syscall exit, retransmit) fills them the
 * same way: sock_common's part in one read where its layout allows. */
static __always_inline void record_fill_sock(struct ebpfdump_tcp_record *rec, struct sock *sk)
{
	__u8 buf[SKC_SPAN_MAX];
	struct net *net = NULL;
	__u16 family = 0, dport = 0;
	__u64 cookie = 0;

	rec->proto = IPPROTO_TCP;
	/* inet_sport rather than skc_num: the kernel zeroes skc_num when it
	 * releases the port, before the TCP_CLOSE state change we report. */
	rec->lport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	if (bpf_core_field_exists(struct sock_common, skc_v6_rcv_saddr) &&
	    bpf_core_field_exists(struct sock_common, skc_cookie) &&
	    skc_span_cookie() <= SKC_SPAN_MAX && !bpf_probe_read_kernel(buf, skc_span_cookie(), sk)) {
		__builtin_memcpy(&family, SKC_FIELD(buf, skc_family), sizeof(family));
		rec->family = (__u8)family;
		__builtin_memcpy(&dport, SKC_FIELD(buf, skc_dport), sizeof(dport));
		if (rec->family == AF_INET6) {
			__builtin_memcpy(rec->laddr, SKC_FIELD(buf, skc_v6_rcv_saddr), 16);
			__builtin_memcpy(rec->raddr, SKC_FIELD(buf, skc_v6_daddr), 16);
		} else {
			__builtin_memcpy(rec->laddr, SKC_FIELD(buf, skc_rcv_saddr), 4);
			__builtin_memcpy(rec->raddr, SKC_FIELD(buf, skc_daddr), 4);
		}
		__builtin_memcpy(&net, SKC_FIELD(buf, skc_net), sizeof(net));
		rec->netns = net ? BPF_CORE_READ(net, ns.inum) : 0;
		__builtin_memcpy(&cookie, SKC_FIELD(buf, skc_cookie), sizeof(cookie));
	} else {
		/* An unexpected layout, or a kernel without IPv6: field by
		 * field. */
		rec->family = BPF_CORE_READ(sk, __sk_common.skc_family);
		dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
		if (rec->family == AF_INET6 &&
		    bpf_core_field_exists(struct sock_common, skc_v6_rcv_saddr)) {
			BPF_CORE_READ_INTO(&rec->laddr, sk,
					   __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
			BPF_CORE_READ_INTO(&rec->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		} else {
			BPF_CORE_READ_INTO((__u32 *)rec->laddr, sk, __sk_common.skc_rcv_saddr);
			BPF_CORE_READ_INTO((__u32 *)rec->raddr, sk, __sk_common.skc_daddr);
		}
		rec->netns = sock_netns(sk);
		cookie = sock_cookie(sk);
	}
	rec->rport = bpf_ntohs(dport);
	if (rec->netns)
		rec->flags |= EBPFDUMP_F_NETNS;
	rec->flags |= sock_iface(sk, &rec->ifindex, rec->ifname);
	if (cookie) {
		rec->sock_cookie = cookie;
		rec->flags |= EBPFDUMP_F_COOKIE;
	}
}

/* The owner remembered for a socket, or NULL when it is unknown. */
static __always_inline const struct ebpfdump_ident *state_owner(const struct sock_state *st)
{
	return st && (st->flags & STATE_OWNER) ? &st->owner : NULL;
}

static __always_inline __u64 sock_key(const struct sock *sk)
{
	return (__u64)(unsigned long)sk;
}

/* Store a socket's state, counting keys that are new, so that user space
 * can tell LRU evictions (inserts - deletes - entries present) from
 * sockets that simply closed. overwrite: replace an existing entry;
 * present: the caller's own lookup found one (every caller looks first,
 * so none is done here). */
static __always_inline void sockets_store(__u64 key, struct sock_state *st, bool overwrite,
					  bool present)
{
	struct ebpfdump_counters *c = counters_get();
	long r = -ENOENT;

	/* One replacing update where an entry is known to be there, instead
	 * of a refused insert and then an update (each update of an LRU hash
	 * allocates and copies the value). */
	if (overwrite && present)
		r = bpf_map_update_elem(&sockets, &key, st, BPF_EXIST);
	if (r == -ENOENT) { /* absent, or deleted meanwhile */
		r = bpf_map_update_elem(&sockets, &key, st, BPF_NOEXIST);
		if (r == -EEXIST && overwrite)
			r = bpf_map_update_elem(&sockets, &key, st, BPF_EXIST);
		else if (r == 0 && c)
			COUNT(c, sock_inserts, 1);
	}
	if (r && r != -EEXIST && c)
		COUNT(c, sock_failed, 1);
}

static __always_inline __u32 sock_total_retrans(struct sock *sk)
{
	return BPF_CORE_READ((struct tcp_sock *)sk, total_retrans);
}

/* STATE_NETNS for a socket: kept with the entry, because a close that is
 * found missing later (below) is found from another socket's event. */
static __always_inline __u32 netns_flag(struct sock *sk)
{
	return !filter_netns || sock_netns(sk) == filter_netns ? STATE_NETNS : 0;
}

/* Events whose hook never ran our program, found afterwards from the
 * socket's entry (a close below and in ebd_sweep, a connect, a
 * retransmission): counted when the filters wanted them, by the verdicts
 * kept with the entry, as lost and so as seen too (seen = filtered + lost
 * + delivered). */
static __always_inline bool entry_wanted(const struct sock_state *st, __u32 type)
{
	return type_wanted(type) && (st->flags & STATE_NETNS) &&
	       (!filter_process || (st->flags & STATE_MATCH));
}

#define COUNT_FOUND(c, field)                                                  \
	do {                                                                   \
		COUNT(c, field, 1);                                            \
		COUNT(c, seen, 1);                                             \
	} while (0)

static __always_inline void count_missed_close(struct ebpfdump_counters *c,
					       const struct sock_state *st)
{
	if (c && entry_wanted(st, EBPFDUMP_EV_TCP_CLOSE))
		COUNT_FOUND(c, missed_closes);
}

/* An active socket that got past SYN_SENT without its ESTABLISHED reaching
 * either state program (no STATE_CONNECTED): its TCP_Connect was never
 * written. Not a simultaneous open, which passes through SYN_RECV and is
 * marked passive (and writes no TCP_Connect). */
static __always_inline bool connect_unseen(const struct sock_state *st)
{
	return (st->flags & (STATE_ACTIVE | STATE_CONNECTED | STATE_PASSIVE)) == STATE_ACTIVE;
}

static __always_inline void count_missed_connect(struct ebpfdump_counters *c,
						 const struct sock_state *st)
{
	if (c && entry_wanted(st, EBPFDUMP_EV_TCP_CONNECT))
		COUNT_FOUND(c, missed_connects);
}

/* A socket's entry still there when its memory starts a new socket (CLOSE
 * -> SYN_SENT, CLOSE -> LISTEN, a child's LISTEN -> SYN_RECV): its
 * change to CLOSE reached neither state program (issue 22: now and then
 * under load, not counted by the kernel either). Counted as a close
 * missed when the filters wanted it, unless ebd_sweep counted it already;
 * returns whether there was such an entry. The caller drops it or
 * replaces it, so that its owner is not lent to the new socket. */
static __always_inline bool count_stale(__u64 key)
{
	struct sock_state *old = bpf_map_lookup_elem(&sockets, &key);

	if (!old)
		return false;
	if (!(old->flags & STATE_GONE))
		count_missed_close(counters_get(), old);
	return true;
}

/* count_stale, and the stale entry dropped. (A socket about to store its
 * own entry calls count_stale alone: its update replaces the entry.) */
static __always_inline void forget_stale(__u64 key)
{
	struct ebpfdump_counters *c;

	if (!count_stale(key))
		return;
	c = counters_get();
	if (bpf_map_delete_elem(&sockets, &key) == 0 && c)
		COUNT(c, sock_deletes, 1);
}

/* The owner's verdict on the process filters, kept with the socket. */
static __always_inline __u32 match_flag(void)
{
	return current_wanted() ? STATE_MATCH : 0;
}

/* CLOSE -> SYN_SENT runs inside connect(): the current task is the owner. */
static __always_inline void on_connect_start(struct sock *sk, __u32 slot)
{
	struct sock_state *st = scratch_state(slot);
	__u64 key = sock_key(sk);
	bool present;

	if (!st)
		return;
	present = count_stale(key);
	ident_from_current(&st->owner);
	st->connect_start_ns = bpf_ktime_get_boot_ns();
	/* not 0: a socket may connect again after a failed connect, which
	 * left its SYNs sent again in the total */
	st->rtx_total = sock_total_retrans(sk);
	st->flags = STATE_OWNER | STATE_ACTIVE | STATE_RTX | match_flag() | netns_flag(sk);
	sockets_store(key, st, true, present);
}

/* SYN_SENT -> ESTABLISHED usually runs in softirq on the SYN-ACK. */
static __always_inline void on_connected(struct sock *sk, __u32 slot)
{
	__u64 key = sock_key(sk), now;
	struct sock_state *st = bpf_map_lookup_elem(&sockets, &key);
	const struct ebpfdump_ident *owner;
	struct ebpfdump_tcp_record *rec;

	if (!st) {
		/* connect() began before we attached: remember at least
		 * that this side sent the SYN, for the byte counts. */
		struct sock_state *fresh = scratch_state(slot);

		if (fresh) {
			fresh->flags = STATE_ACTIVE | STATE_CONNECTED | netns_flag(sk);
			sockets_store(key, fresh, false, false);
		}
	} else {
		/* (The socket's own changes are serialized by its lock.) */
		st->flags |= STATE_CONNECTED;
	}
	if (!event_allowed(EBPFDUMP_EV_TCP_CONNECT, st, sk))
		return;
	owner = state_owner(st);
	rec = record_reserve(EBPFDUMP_EV_TCP_CONNECT);
	if (!rec)
		return;
	record_fill_sock(rec, sk);
	if (owner)
		record_set_owner(rec, owner);
	now = rec->ts_ns;
	if (st && st->connect_start_ns && now > st->connect_start_ns) {
		rec->latency_ns = now - st->connect_start_ns;
		rec->flags |= EBPFDUMP_F_LATENCY;
	}
	record_submit(rec);
}

/* SYN_SENT -> CLOSE: refused (RST), timed out, unreachable, or abandoned
 * by the application. The kernel stores the error in sk_err before it moves
 * the socket to CLOSE (tcp_reset, tcp_write_err); 0 means nobody failed
 * it, the application closed it: then the record has no errno item
 * (docs/event-format.md: "abandoned"), errno is only a failure's. */
static __always_inline void on_connect_failed(struct sock *sk)
{
	__u64 key = sock_key(sk), now = bpf_ktime_get_boot_ns();
	struct sock_state *st = bpf_map_lookup_elem(&sockets, &key);
	const struct ebpfdump_ident *owner;
	struct ebpfdump_tcp_record *rec;

	if (!event_allowed(EBPFDUMP_EV_TCP_CONNECT_FAILED, st, sk))
		return;
	owner = state_owner(st);
	rec = record_reserve(EBPFDUMP_EV_TCP_CONNECT_FAILED);
	if (!rec)
		return;
	record_fill_sock(rec, sk);
	rec->error = (__u32)BPF_CORE_READ(sk, sk_err);
	if (rec->error)
		rec->flags |= EBPFDUMP_F_ERROR;
	if (owner)
		record_set_owner(rec, owner);
	if (st && st->connect_start_ns && now > st->connect_start_ns) {
		rec->latency_ns = now - st->connect_start_ns;
		rec->flags |= EBPFDUMP_F_LATENCY;
	}
	record_submit(rec);
}

/* SYN_RECV -> ESTABLISHED: a passive child socket, still without owner
 * (runs in softirq); accept() fills the owner in later. */
static __always_inline void on_passive_established(struct sock *sk, __u32 slot)
{
	__u64 key = sock_key(sk);
	struct sock_state *st = bpf_map_lookup_elem(&sockets, &key);

	/* SYN-ACKs sent again count in total_retrans too (copied from the
	 * request), without tcp:tcp_retransmit_skb: the count starts here. */
	if (st) {
		/* accept() came first (Fast Open), or a retransmission made
		 * the entry: keep what it holds */
		st->flags |= STATE_PASSIVE;
		if (!(st->flags & STATE_RTX)) {
			st->rtx_total = sock_total_retrans(sk);
			st->flags |= STATE_RTX;
		}
		return;
	}
	st = scratch_state(slot);
	if (!st)
		return;
	st->rtx_total = sock_total_retrans(sk);
	st->flags = STATE_PASSIVE | STATE_RTX | netns_flag(sk);
	sockets_store(key, st, false, false);
}

static __always_inline bool fin_was_queued(int oldstate)
{
	/* States a socket only enters after its FIN was queued: close() or
	 * shutdown(SHUT_WR) in ESTABLISHED (FIN_WAIT1) or CLOSE_WAIT
	 * (LAST_ACK), then FIN_WAIT2/CLOSING. Aborting closes (unread data,
	 * SO_LINGER 0) go straight to CLOSE and send no FIN. */
	return oldstate == TCP_FIN_WAIT1 || oldstate == TCP_FIN_WAIT2 || oldstate == TCP_CLOSING ||
	       oldstate == TCP_LAST_ACK;
}

/* Connection totals in application payload bytes. tcp_sock counts
 * sequence space: bytes_acked includes our SYN (active open, acked by the
 * SYN-ACK) and our FIN once acked; bytes_received includes the peer's FIN
 * (SOCK_DONE is set exactly when that FIN was taken in order). Data still
 * unacknowledged at close (write_seq - snd_una, minus an unacked FIN) was
 * written by the application too, so it is added back: bytes_sent is what
 * the application wrote, also when the connection ends in RST before the
 * last ACK came back. */
static __always_inline void record_fill_totals(struct ebpfdump_tcp_record *rec, struct sock *sk,
					       int oldstate, const struct sock_state *st)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	__u64 acked = BPF_CORE_READ(tp, bytes_acked);
	__u64 received = BPF_CORE_READ(tp, bytes_received);
	__u32 snd_una = BPF_CORE_READ(tp, snd_una);
	__u32 write_seq = BPF_CORE_READ(tp, write_seq);
	unsigned long sk_flags = BPF_CORE_READ(sk, __sk_common.skc_flags);
	int sock_done = bpf_core_enum_value(enum sock_flags, SOCK_DONE);
	bool fin_queued = fin_was_queued(oldstate);
	bool fin_acked = fin_queued && snd_una == write_seq;
	__u32 unacked = write_seq - snd_una; /* modulo 2^32, like the kernel */
	__u64 syn = 0, sent;

	if (fin_queued && !fin_acked && unacked)
		unacked -= 1;
	if (st && (st->flags & STATE_ACTIVE))
		syn = 1;
	else if (!st || !(st->flags & STATE_PASSIVE))
		rec->flags |= EBPFDUMP_F_SYN_UNKNOWN;

	sent = acked + unacked;
	sent = sent > syn + fin_acked ? sent - syn - fin_acked : 0;
	if (received && sock_done >= 0 && sock_done < 64 && (sk_flags & (1ul << sock_done)))
		received -= 1;

	rec->bytes_sent = sent;
	rec->bytes_received = received;
	rec->retransmits = BPF_CORE_READ(tp, total_retrans);
	rec->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3; /* stored as 8 x srtt */
	rec->flags |= EBPFDUMP_F_TOTALS;
}

static __always_inline void listen_key_of(struct sock *sk, struct listen_key *k)
{
	k->netns = sock_netns(sk);
	k->port = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
}

/* A listening socket's record: its bound address and port, no peer.
 * owner: &st->owner, or NULL when not known (passed, not derived from st
 * here: the compiler turns a conditional pointer into a mask the verifier
 * refuses). */
static __always_inline void listen_record(__u32 type, struct sock *sk,
					  const struct sock_state *st,
					  const struct ebpfdump_ident *owner)
{
	struct ebpfdump_tcp_record *rec;

	if (!event_allowed(type, st, sk))
		return;
	rec = record_reserve(type);
	if (!rec)
		return;
	record_fill_sock(rec, sk);
	if (owner)
		record_set_owner(rec, owner);
	record_submit(rec);
}

/* CLOSE -> LISTEN runs inside listen(): the current task owns the socket.
 * TCP_Listen tells user space too: the merge names the listener's owner
 * for a connection's packets that arrive before anyone accepted it. */
static __always_inline void on_listen(struct sock *sk, __u32 slot)
{
	struct sock_state *st = scratch_state(slot);
	struct listen_key k = {};

	if (!st)
		return;
	forget_stale(sock_key(sk));
	ident_from_current(&st->owner);
	st->flags = STATE_OWNER | match_flag();
	st->listener = sock_key(sk);
	listen_key_of(sk, &k);
	bpf_map_update_elem(&listeners, &k, st, BPF_ANY);
	listen_record(EBPFDUMP_EV_TCP_LISTEN, sk, st, &st->owner);
}

/* LISTEN -> CLOSE: forget the port's owner, unless another socket has
 * listened on it since. TCP_Listen_Close names the owner listen() had
 * (close may run in another task, or at exit). */
static __always_inline void on_unlisten(struct sock *sk)
{
	struct listen_key k = {};
	struct sock_state *st;

	listen_key_of(sk, &k);
	st = bpf_map_lookup_elem(&listeners, &k);
	if (st && st->listener == sock_key(sk)) {
		listen_record(EBPFDUMP_EV_TCP_LISTEN_CLOSE, sk, st, &st->owner);
		bpf_map_delete_elem(&listeners, &k);
		return;
	}
	/* Another socket's entry, or none: this one listened before we
	 * attached, and its owner is not known. */
	listen_record(EBPFDUMP_EV_TCP_LISTEN_CLOSE, sk, NULL, NULL);
}

/* -> CLOSE from a connected state. Often runs in softirq or in the peer's
 * task (the final ACK, a RST), so the owner comes from the socket's state.
 * A passive socket nobody accepted yet (reset in the accept queue) has no
 * owner of its own: the listening socket's owner stands for it (the
 * process that would have accepted it), and its verdict on the filters. */
static __always_inline void on_close(struct sock *sk, int oldstate)
{
	__u64 key = sock_key(sk);
	struct sock_state *st = bpf_map_lookup_elem(&sockets, &key);
	const struct ebpfdump_ident *owner;
	struct ebpfdump_tcp_record *rec;

	/* Closing from a connected state: the connect got through. */
	if (st && connect_unseen(st))
		count_missed_connect(counters_get(), st);
	/* Retransmissions after the last one ebd_retransmit saw. */
	if (retransmit_has_err && st && (st->flags & STATE_RTX) &&
	    st->rtx_total != sock_total_retrans(sk) &&
	    entry_wanted(st, EBPFDUMP_EV_TCP_RETRANSMIT)) {
		struct ebpfdump_counters *c = counters_get();

		if (c)
			COUNT_FOUND(c, missed_retransmits);
	}
	if (st && (st->flags & STATE_PASSIVE) && !(st->flags & STATE_OWNER)) {
		struct listen_key k = {};
		struct sock_state *lst;

		listen_key_of(sk, &k);
		lst = bpf_map_lookup_elem(&listeners, &k);
		if (lst)
			st = lst;
	}
	if (!event_allowed(EBPFDUMP_EV_TCP_CLOSE, st, sk))
		return;
	owner = state_owner(st);
	rec = record_reserve(EBPFDUMP_EV_TCP_CLOSE);
	if (!rec)
		return;
	record_fill_sock(rec, sk);
	record_fill_totals(rec, sk, oldstate, st);
	if (owner)
		record_set_owner(rec, owner);
	record_submit(rec);
}

/* The changes on_set_state acts on. The others (into FIN_WAIT1,
 * FIN_WAIT2, CLOSE_WAIT, LAST_ACK, CLOSING: four of a connection's ten)
 * cost each state program this test only. */
static __always_inline bool state_change_wanted(int oldstate, int newstate)
{
	switch (newstate) {
	case TCP_SYN_RECV:
		return oldstate == TCP_LISTEN;
	case TCP_LISTEN:
	case TCP_SYN_SENT:
		return oldstate == TCP_CLOSE;
	case TCP_ESTABLISHED:
		return oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV;
	case TCP_CLOSE:
		return true;
	}
	return false;
}

static __always_inline void on_set_state(struct sock *sk, int oldstate, int newstate, __u32 slot)
{
	__u64 key;

	if (sock_protocol(sk) != IPPROTO_TCP)
		return;
	switch (newstate) {
	case TCP_SYN_RECV:
		/* a child socket's first change (its state was the listener's) */
		if (oldstate == TCP_LISTEN)
			forget_stale(sock_key(sk));
		break;
	case TCP_LISTEN:
		if (oldstate == TCP_CLOSE)
			on_listen(sk, slot);
		break;
	case TCP_SYN_SENT:
		if (oldstate == TCP_CLOSE)
			on_connect_start(sk, slot);
		break;
	case TCP_ESTABLISHED:
		if (oldstate == TCP_SYN_SENT)
			on_connected(sk, slot);
		else if (oldstate == TCP_SYN_RECV)
			on_passive_established(sk, slot);
		break;
	case TCP_CLOSE:
		if (oldstate == TCP_SYN_SENT)
			on_connect_failed(sk);
		else if (oldstate == TCP_LISTEN)
			on_unlisten(sk);
		else if (oldstate != TCP_LISTEN && oldstate != TCP_CLOSE &&
			 oldstate != TCP_NEW_SYN_RECV)
			on_close(sk, oldstate);
		/* The address may be reused by a new socket: forget it. */
		key = sock_key(sk);
		if (bpf_map_delete_elem(&sockets, &key) == 0) {
			struct ebpfdump_counters *c = counters_get();

			if (c)
				COUNT(c, sock_deletes, 1);
		}
		break;
	}
}

/* sock:inet_sock_set_state, hooked as a raw tracepoint by two programs.
 *
 * The kernel does not run a BPF program on a CPU where it is already
 * running: when a softirq changes a socket's state while ebd_state_main is
 * active in process context on that CPU (connect(), close(), a socket
 * backlog drained by release_sock()), that run is skipped and counted in
 * recursion_misses. Under load this lost several percent of the close
 * events. So ebd_state_nested, attached after ebd_state_main and so run
 * right after it for every state change, does the work whenever
 * ebd_state_main did not take on this very change.
 *
 * How it knows: ebd_state_main's first act is to note the change (socket,
 * old and new state) in state_taken; ebd_state_nested looks for it there.
 * Interrupts nest last-in first-out on a CPU, so the notes form a stack:
 * found, it and any stale notes above it (of a higher level whose
 * ebd_state_nested was itself skipped, because it was active below) are
 * dropped; not found, ebd_state_main was skipped and ebd_state_nested does
 * the work. (An earlier flag "ebd_state_main is busy", set in its body,
 * missed the moments when the kernel counts the program active but its
 * body has not started or has ended: about 1 in 100,000 state changes
 * under a loopback connection load went to neither program.) A change
 * happens once per socket, so a note cannot be mistaken for another's.
 * (Classic tracepoint programs cannot do this: the kernel skips every one
 * of them while any kprobe/tracepoint program runs.)
 */
SEC("raw_tracepoint/inet_sock_set_state")
int ebd_state_main(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 zero = 0;
	struct state_taken *t;

	if (!state_change_wanted((int)ctx->args[1], (int)ctx->args[2]))
		return 0;
	t = bpf_map_lookup_elem(&state_taken, &zero);
	if (t) {
		__u64 now = bpf_jiffies64();
		__u32 n = t->n;

		/* The notes are in time order: an old top means all are left
		 * behind. Full (cannot happen with four interrupt levels and
		 * rare leftovers): start over. */
		if (n >= STATE_TAKEN_MAX ||
		    (n > 0 && t->e[(n - 1) & (STATE_TAKEN_MAX - 1)].ts + STATE_TAKEN_STALE_JIFFIES < now))
			n = 0;
		if (n < STATE_TAKEN_MAX) {
			t->e[n].sk = ctx->args[0];
			t->e[n].ts = now;
			t->e[n].oldstate = (__u32)ctx->args[1];
			t->e[n].newstate = (__u32)ctx->args[2];
			t->n = n + 1;
		}
	}
	on_set_state((struct sock *)ctx->args[0], (int)ctx->args[1], (int)ctx->args[2],
		     SLOT_STATE_MAIN);
	return 0;
}

SEC("raw_tracepoint/inet_sock_set_state")
int ebd_state_nested(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 zero = 0;
	struct state_taken *t;

	if (!state_change_wanted((int)ctx->args[1], (int)ctx->args[2]))
		return 0;
	t = bpf_map_lookup_elem(&state_taken, &zero);
	if (!t)
		return 0;
	for (int i = STATE_TAKEN_MAX - 1; i >= 0; i--) {
		if ((__u32)i >= t->n)
			continue;
		if (t->e[i].sk == ctx->args[0] && t->e[i].oldstate == (__u32)ctx->args[1] &&
		    t->e[i].newstate == (__u32)ctx->args[2]) {
			t->n = (__u32)i; /* taken: drop it and what is above */
			return 0;
		}
	}
	on_set_state((struct sock *)ctx->args[0], (int)ctx->args[1], (int)ctx->args[2],
		     SLOT_STATE_NESTED);
	return 0;
}

/* The socket behind a descriptor of the current task, or NULL. The checks
 * guard against another thread replacing the descriptor meanwhile. */
static __always_inline struct sock *current_fd_sock(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *file = NULL;
	struct socket *sock;

	if (!fdt || fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (!fds || bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock || BPF_CORE_READ(sock, file) != file)
		return NULL;
	return BPF_CORE_READ(sock, sk);
}

/* accept()/accept4() returned a descriptor: the current thread owns it. */
static __always_inline int accept_sock(struct sock *sk)
{
	struct sock_state *st, *old;
	struct ebpfdump_tcp_record *rec;
	__u16 family;
	__u64 key;

	if (!sk)
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if ((family != AF_INET && family != AF_INET6) || sock_protocol(sk) != IPPROTO_TCP ||
	    sock_type(sk) != SOCK_STREAM)
		return 0;
	/* Reset while it waited in the accept queue: its TCP_Close, named
	 * after the listener's owner, is written already, and an accept
	 * after it would be out of order. The connection had ended. */
	if (BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_CLOSE)
		return 0;

	st = scratch_state(SLOT_ACCEPT);
	if (!st)
		return 0;
	ident_from_current(&st->owner);
	/* an accepted socket is passive */
	st->flags = STATE_OWNER | STATE_PASSIVE | match_flag() | netns_flag(sk);
	key = sock_key(sk);
	old = bpf_map_lookup_elem(&sockets, &key);
	if (old && (old->flags & STATE_RTX)) {
		st->rtx_total = old->rtx_total;
		st->flags |= STATE_RTX;
	}
	sockets_store(key, st, true, old != NULL);

	if (!event_allowed(EBPFDUMP_EV_TCP_ACCEPT, st, sk))
		return 0;
	rec = record_reserve(EBPFDUMP_EV_TCP_ACCEPT);
	if (!rec)
		return 0;
	record_fill_sock(rec, sk);
	record_set_owner(rec, &st->owner);
	record_submit(rec);
	return 0;
}

static __always_inline int on_accept_exit(long ret)
{
	return ret < 0 ? 0 : accept_sock(current_fd_sock(ret));
}

/* The fentry tier (probe.c): where the kernel runs fexit programs, the
 * accept path's own function hands over the accepted socket in the
 * acceptor's context (accept, accept4 and io_uring alike), so no program
 * runs on unrelated system calls. bpf_get_func_ret: the function's
 * arguments changed in Linux 6.10, its return value did not. */
SEC("fexit/inet_csk_accept")
int ebd_accept_exit(unsigned long long *ctx)
{
	__u64 ret = 0;

	if (bpf_get_func_ret(ctx, &ret) < 0 || !ret)
		return 0;
	return accept_sock((struct sock *)(unsigned long)ret);
}

/* ---- TCP retransmissions -------------------------------------------------- */

/* tcp_skb_pcount(): the segments a (TSO) buffer stands for. */
static __always_inline __u32 skb_segs(struct sk_buff *skb)
{
	struct tcp_skb_cb *cb =
		(struct tcp_skb_cb *)((void *)skb + bpf_core_field_offset(struct sk_buff, cb));

	return BPF_CORE_READ(cb, tcp_gso_segs);
}

/* tcp:tcp_retransmit_skb (sk, skb, ...) fires from the retransmit timer
 * (softirq) or while ACKs are processed, so the owner comes from the
 * socket's state. Raw, like inet_sock_set_state: a classic tracepoint
 * program is skipped whenever any other one runs on the CPU. Where it has
 * an err argument it also fires for attempts that sent nothing (-EBUSY:
 * the first copy is still queued below TCP): those are no retransmission
 * (tcp_sock.total_retrans does not count them either) and make no event.
 *
 * Calls that never reach this program are counted (missed_retransmits).
 * Under CPU load about 1 connection in 40 had calls of the tracepoint
 * that made no event, with no recursion miss counted (issue 21.1). The
 * kernel adds a retransmission's segments to total_retrans before it
 * fires the tracepoint, so a call that sent something should find
 * total_retrans - segments equal to what the previous call left
 * (rtx_total); a jump means calls we did not see, counted as one. Only
 * where the tracepoint has err: before, failed attempts that had counted
 * their segments did not fire it, and would look like jumps. (Misses the
 * kernel counts are jumps too, so they are not added twice: probe.c.) A
 * socket first met here (opened before the capture) gets an entry, which
 * starts its count. */
SEC("raw_tracepoint/tcp_retransmit_skb")
int ebd_retransmit(struct bpf_raw_tracepoint_args *ctx)
{
	struct sock *sk = (struct sock *)ctx->args[0];
	__u64 key = sock_key(sk);
	struct sock_state *st;
	const struct ebpfdump_ident *owner;
	struct ebpfdump_tcp_record *rec;
	__u32 total = sock_total_retrans(sk), segs, before;
	bool sent = !retransmit_has_err || (int)ctx->args[2] == 0;

	st = bpf_map_lookup_elem(&sockets, &key);
	if (!st) {
		struct sock_state *fresh = scratch_state(SLOT_RETRANSMIT);

		if (fresh) {
			fresh->rtx_total = total;
			fresh->flags = STATE_RTX | netns_flag(sk);
			sockets_store(key, fresh, false, false);
		}
		if (!sent)
			return 0;
	} else {
		segs = skb_segs((struct sk_buff *)ctx->args[1]);
		before = st->rtx_total;
		st->rtx_total = total;
		if (!sent)
			return 0;
		if (retransmit_has_err && (st->flags & STATE_RTX) && total - segs != before &&
		    event_allowed(EBPFDUMP_EV_TCP_RETRANSMIT, st, sk)) {
			struct ebpfdump_counters *c = counters_get();

			/* event_allowed counted it as seen */
			if (c)
				COUNT(c, missed_retransmits, 1);
		}
		st->flags |= STATE_RTX;
	}
	if (!event_allowed(EBPFDUMP_EV_TCP_RETRANSMIT, st, sk))
		return 0;
	owner = state_owner(st);
	rec = record_reserve(EBPFDUMP_EV_TCP_RETRANSMIT);
	if (!rec)
		return 0;
	record_fill_sock(rec, sk);
	if (owner)
		record_set_owner(rec, owner);
	record_submit(rec);
	return 0;
}

/* ---- The sweep at the stop ----------------------------------------------- */

/* A connect that began this recently may still be in the instant between
 * its entry and the kernel's store of SYN_SENT (the tracepoint fires
 * first): its socket still reads CLOSE. */
#define SWEEP_YOUNG_NS 10000000ull

struct sweep_ctx {
	__u64 now;
	struct ebpfdump_counters *c;
};

/* The state of the TCP socket that lives at sk, or 0 when none does: it
 * closed (CLOSE), or its memory was freed and holds something else now
 * (another family or protocol, zeroes with init_on_free, a failed read).
 * Probe reads fail harmlessly on memory given back. */
static __always_inline int live_tcp_state(struct sock *sk)
{
	unsigned char state = 0;
	__u16 family;

	if (bpf_core_read(&state, sizeof(state), &sk->__sk_common.skc_state) ||
	    state == TCP_CLOSE)
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if ((family != AF_INET && family != AF_INET6) || sock_protocol(sk) != IPPROTO_TCP)
		return 0;
	return state;
}

static long sweep_one(struct bpf_map *map, __u64 *key, struct sock_state *st,
		      struct sweep_ctx *ctx)
{
	struct sock *sk = (struct sock *)(unsigned long)*key;
	int state = live_tcp_state(sk);

	if (st->flags & STATE_GONE)
		return 0;
	if (state) {
		/* Alive and connected (the state is stored after the
		 * tracepoint, so a seen ESTABLISHED has its mark already),
		 * but the mark is missing: its TCP_Connect was skipped. */
		if (state != TCP_SYN_SENT && state != TCP_SYN_RECV && state != TCP_LISTEN &&
		    state != TCP_NEW_SYN_RECV && connect_unseen(st)) {
			st->flags |= STATE_CONNECTED;
			count_missed_connect(ctx->c, st);
		}
		return 0;
	}
	if ((st->flags & STATE_ACTIVE) && st->connect_start_ns + SWEEP_YOUNG_NS > ctx->now)
		return 0;
	st->flags |= STATE_GONE;
	count_missed_close(ctx->c, st);
	return 0;
}

/* Run once by user space (BPF_PROG_TEST_RUN) just before the programs are
 * detached: the closes missed near the end of a capture, which no new
 * socket in the same memory (forget_stale) will reveal. Every entry's
 * socket is read: one whose state is CLOSE (alive with its descriptor
 * still open, or freed, its memory as the close left it), or whose memory
 * no longer holds a TCP socket, closed without either state program
 * deleting the entry. Counted like forget_stale, and marked so that a
 * later reuse does not count it again. A live connected socket whose
 * entry lacks STATE_CONNECTED counts a missed connect. Not found: entries
 * the LRU evicted (counted as evictions). Needs bpf_for_each_map_elem
 * (Linux 5.13): user space loads this program only where the kernel has
 * it. */
SEC("raw_tp")
int ebd_sweep(void *ctx)
{
	struct sweep_ctx sc = { .now = bpf_ktime_get_boot_ns(), .c = counters_get() };

	bpf_for_each_map_elem(&sockets, sweep_one, &sc, 0);
	return 0;
}

/* ---- UDP flows ------------------------------------------------------------ */

static __always_inline bool sock_is_udp(struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	return (family == AF_INET || family == AF_INET6) && sock_protocol(sk) == IPPROTO_UDP;
}

/* Family, local address and port, namespace; and the peer when the socket
 * is connected (UDP sockets use TCP_ESTABLISHED for that). Returns whether
 * the peer is known. skc_num is the bound port (host order), set for any
 * socket that sent or receives. */
static __always_inline bool udp_key_from_sock(struct sock *sk, struct ebpfdump_udp_key *k)
{
	__u8 buf[SKC_SPAN_MAX];
	struct net *net = NULL;
	__u16 dport = 0, family = 0;
	bool connected;

	if (!bpf_core_field_exists(struct sock_common, skc_v6_rcv_saddr) ||
	    skc_span() > SKC_SPAN_MAX) {
		/* A kernel without IPv6 (or an unexpected layout): field by
		 * field, IPv4 only. */
		k->family = BPF_CORE_READ(sk, __sk_common.skc_family);
		k->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		k->netns = sock_netns(sk);
		BPF_CORE_READ_INTO((__u32 *)k->laddr, sk, __sk_common.skc_rcv_saddr);
		if (BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_ESTABLISHED)
			return false;
		k->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		BPF_CORE_READ_INTO((__u32 *)k->raddr, sk, __sk_common.skc_daddr);
		return true;
	}
	if (bpf_probe_read_kernel(buf, skc_span(), sk))
		return false;
	__builtin_memcpy(&family, SKC_FIELD(buf, skc_family), sizeof(family));
	k->family = (__u8)family; /* AF_INET or AF_INET6 */
	connected = *(__u8 *)SKC_FIELD(buf, skc_state) == TCP_ESTABLISHED;
	__builtin_memcpy(&k->lport, SKC_FIELD(buf, skc_num), sizeof(k->lport));
	__builtin_memcpy(&net, SKC_FIELD(buf, skc_net), sizeof(net));
	k->netns = net ? BPF_CORE_READ(net, ns.inum) : 0;
	if (k->family == AF_INET6)
		__builtin_memcpy(k->laddr, SKC_FIELD(buf, skc_v6_rcv_saddr), 16);
	else
		__builtin_memcpy(k->laddr, SKC_FIELD(buf, skc_rcv_saddr), 4);
	if (!connected)
		return false;
	__builtin_memcpy(&dport, SKC_FIELD(buf, skc_dport), sizeof(dport));
	k->rport = bpf_ntohs(dport);
	if (k->family == AF_INET6)
		__builtin_memcpy(k->raddr, SKC_FIELD(buf, skc_v6_daddr), 16);
	else
		__builtin_memcpy(k->raddr, SKC_FIELD(buf, skc_daddr), 4);
	return true;
}

/* A struct sockaddr_in/_in6 in user memory (ABI layout: family, port,
 * then the IPv4 address at 4 or the IPv6 address at 8). The kernel read
 * or wrote it in this same system call, so it is resident. An IPv4 peer of
 * an IPv6 socket becomes ::ffff:a.b.c.d, as the kernel reports it. */
static __always_inline long read_addr(void *dst, __u32 size, __u64 addr, bool user)
{
	return user ? bpf_probe_read_user(dst, size, (const void *)addr)
		    : bpf_probe_read_kernel(dst, size, (const void *)addr);
}

/* The peer from a struct sockaddr at addr: the caller's (user memory) or
 * the kernel's copy of it in a struct msghdr (kernel memory). */
static __always_inline bool udp_peer_from_addr(__u64 addr, bool user, struct ebpfdump_udp_key *k)
{
	__u8 sa[28]; /* sizeof(struct sockaddr_in6) */
	__u16 family;

	if (!addr || read_addr(sa, 16, addr, user))
		return false;
	__builtin_memcpy(&family, sa, sizeof(family)); /* sa_family_t: host order */
	__builtin_memset(k->raddr, 0, sizeof(k->raddr));
	if (family == AF_INET) {
		if (k->family == AF_INET) {
			__builtin_memcpy(k->raddr, &sa[4], 4);
		} else {
			k->raddr[10] = 0xff;
			k->raddr[11] = 0xff;
			__builtin_memcpy(&k->raddr[12], &sa[4], 4);
		}
	} else if (family == AF_INET6 && k->family == AF_INET6 &&
		   read_addr(sa, sizeof(sa), addr, user) == 0) {
		__builtin_memcpy(k->raddr, &sa[8], 16);
	} else {
		return false;
	}
	k->rport = (__u16)sa[2] << 8 | sa[3]; /* network order in memory */
	return true;
}

static __always_inline bool udp_peer_from_user(__u64 uaddr, struct ebpfdump_udp_key *k)
{
	return udp_peer_from_addr(uaddr, true, k);
}

/* Another CPU created the flow meanwhile, or the map refused it. */
static __always_inline void udp_add_existing(struct ebpfdump_udp_key *k, __u64 packets,
					     __u32 bytes, __u64 now, struct ebpfdump_counters *c)
{
	struct ebpfdump_udp_flow *f = bpf_map_lookup_elem(&udp_flows, k);

	if (f) {
		__sync_fetch_and_add(&f->packets, packets);
		__sync_fetch_and_add(&f->bytes, bytes);
		f->last_ns = now;
	} else if (c) {
		COUNT(c, udp_failed, 1);
		COUNT(c, udp_lost_packets, packets);
	}
}

/* Counts one datagram (packets 0 for a corked part of one) of flow k in
 * udp_flows. The first datagram of a flow also produces a record at once,
 * so a single DNS query shows up without waiting; later ones only add to
 * the counts, which user space reports at most once per interval
 * (probe_flush). So a flood costs one map update per datagram and no
 * ring-buffer traffic, and since only the kernel writes the entry and
 * user space reports differences of its totals, every datagram is
 * reported exactly once. */
static __always_inline void udp_account(struct sock *sk, struct ebpfdump_udp_key *k, __u32 bytes,
					__u64 packets)
{
	__u16 type = k->dir == EBPFDUMP_UDP_SEND ? EBPFDUMP_EV_UDP_SEND : EBPFDUMP_EV_UDP_RECV;
	struct ebpfdump_counters *c = counters_get();
	struct ebpfdump_udp_flow *f;
	struct ebpfdump_record *rec;
	__u32 zero = 0;
	__u64 now;
	long r;

	if (c)
		COUNT(c, seen, 1);
	if (!type_wanted(type) || (filter_netns && k->netns != filter_netns) || !current_wanted()) {
		if (c)
			COUNT(c, filtered, 1);
		return;
	}
	k->pid = bpf_get_current_pid_tgid() >> 32;
	now = bpf_ktime_get_boot_ns();
	f = bpf_map_lookup_elem(&udp_flows, k);
	if (f) {
		__sync_fetch_and_add(&f->packets, packets);
		__sync_fetch_and_add(&f->bytes, bytes);
		f->last_ns = now;
		return;
	}

	f = bpf_map_lookup_elem(&udp_scratch, &zero);
	if (!f)
		return;
	__builtin_memset(f, 0, sizeof(*f));
	owner_from_current(&f->owner);
	f->flags = EBPFDUMP_F_OWNER | f->owner.s.flags | sock_iface(sk, &f->ifindex, f->ifname);
	if (k->netns)
		f->flags |= EBPFDUMP_F_NETNS;
	f->sock_cookie = sock_cookie(sk);
	if (f->sock_cookie)
		f->flags |= EBPFDUMP_F_COOKIE;
	f->birth_ns = now;
	f->last_ns = now;
	f->packets = packets;
	f->bytes = bytes;
	/* Reserve before inserting: what the record carries is marked as
	 * reported in the entry before anyone can see the entry. If the ring
	 * is full, nothing is marked and probe_flush() reports the counts.
	 * The reservation is tested once, each branch ending with it released:
	 * Linux 6.1's verifier loses the test across the map update and
	 * reports an unreleased reference (docs/kernel-side.md). */
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		r = bpf_map_update_elem(&udp_flows, k, f, BPF_NOEXIST);
		if (r == 0) {
			if (c)
				COUNT(c, udp_inserts, 1);
			return;
		}
		udp_add_existing(k, packets, bytes, now, c);
		return;
	}
	f->inline_packets = packets;
	f->inline_bytes = bytes;
	r = bpf_map_update_elem(&udp_flows, k, f, BPF_NOEXIST);
	if (r != 0) {
		bpf_ringbuf_discard(rec, 0);
		udp_add_existing(k, packets, bytes, now, c);
		return;
	}
	if (c)
		COUNT(c, udp_inserts, 1);
	__builtin_memset(rec, 0, sizeof(*rec));
	rec->type = type;
	rec->ts_ns = now;
	rec->flags = f->flags | EBPFDUMP_F_COUNTS | (k->flags & EBPFDUMP_F_NO_PEER);
	rec->family = k->family;
	rec->proto = IPPROTO_UDP;
	rec->lport = k->lport;
	rec->rport = k->rport;
	rec->netns = k->netns;
	rec->sock_cookie = f->sock_cookie;
	rec->ifindex = f->ifindex;
	rec->packets = packets;
	rec->bytes = bytes;
	__builtin_memcpy(rec->laddr, k->laddr, sizeof(rec->laddr));
	__builtin_memcpy(rec->raddr, k->raddr, sizeof(rec->raddr));
	__builtin_memcpy(rec->ifname, f->ifname, sizeof(rec->ifname));
	__builtin_memcpy(&rec->owner, &f->owner, sizeof(rec->owner));
	bpf_ringbuf_submit(rec, submit_flags());
}

static __always_inline void udp_no_peer(struct ebpfdump_udp_key *k)
{
	struct ebpfdump_counters *c = counters_get();

	__builtin_memset(k->raddr, 0, sizeof(k->raddr));
	k->rport = 0;
	k->flags = EBPFDUMP_F_NO_PEER;
	if (c)
		COUNT(c, udp_no_peer, 1);
}

/* The msg_name of entry i of a struct mmsghdr array in user memory. The
 * stride is the running kernel's (CO-RE), i.e. the native ABI's. */
static __always_inline __u64 mmsg_name(__u64 uptr, __u32 i, __u32 vlen)
{
	__u64 name = 0;

	if (!uptr || i >= vlen)
		return 0;
	uptr += (__u64)i * bpf_core_type_size(struct mmsghdr) +
		bpf_core_field_offset(struct mmsghdr, msg_hdr.msg_name);
	if (bpf_probe_read_user(&name, sizeof(name), (const void *)uptr))
		return 0;
	return name;
}

/* A send completes a datagram unless the socket is corked (MSG_MORE,
 * UDP_CORK): then udp_sock.pending stays set until the last part. */
static __always_inline __u64 udp_send_datagrams(struct sock *sk)
{
	struct udp_sock *up = (struct udp_sock *)sk;

	if (bpf_core_field_exists(up->pending) && BPF_CORE_READ(up, pending))
		return 0;
	return 1;
}

/* sock:sock_send_length (sk, ret, flags) fires in the sending thread after
 * each datagram of send/sendto/sendmsg/sendmmsg/write. The peer: an
 * address given to the call (it wins over a connected peer, as in
 * udp_sendmsg), else the connected one. */
SEC("raw_tracepoint/sock_send_length")
int ebd_udp_send(struct bpf_raw_tracepoint_args *ctx)
{
	struct sock *sk = (struct sock *)ctx->args[0];
	int ret = (int)ctx->args[1];
	struct ebpfdump_udp_key k;
	struct call_args *call;
	__u32 tid;
	__u64 uaddr = 0;
	bool peer;

	if (ret < 0 || !sk || !sock_is_udp(sk))
		return 0;
	__builtin_memset(&k, 0, sizeof(k));
	k.dir = EBPFDUMP_UDP_SEND;
	peer = udp_key_from_sock(sk, &k);
	tid = (__u32)bpf_get_current_pid_tgid();
	call = bpf_map_lookup_elem(&calls, &tid);
	if (call && call->kind == CALL_ADDR) {
		uaddr = call->uptr;
	} else if (call && call->kind == CALL_MMSG) {
		uaddr = mmsg_name(call->uptr, call->index, call->vlen);
		call->index++;
	}
	if (uaddr && udp_peer_from_user(uaddr, &k))
		peer = true;
	if (!peer)
		udp_no_peer(&k);
	udp_account(sk, &k, (__u32)ret, udp_send_datagrams(sk));
	return 0;
}

/* A receive on an unconnected socket whose sender the kernel has written
 * to the caller's buffer by now (after the datagram, before the next one
 * or the return to user space). */
static __always_inline void udp_recv_resolve(struct call_args *call)
{
	struct sock *sk = (struct sock *)call->pending_sk;
	__u32 bytes = call->pending_bytes;
	struct ebpfdump_udp_key k;
	__u64 uaddr;

	call->pending_sk = 0;
	if (!sk)
		return;
	uaddr = call->kind == CALL_ADDR ? call->uptr
					: mmsg_name(call->uptr, call->index - 1, call->vlen);
	__builtin_memset(&k, 0, sizeof(k));
	k.dir = EBPFDUMP_UDP_RECV;
	udp_key_from_sock(sk, &k);
	if (!udp_peer_from_user(uaddr, &k))
		udp_no_peer(&k);
	udp_account(sk, &k, bytes, 1);
}

/* sock:sock_recv_length (sk, ret, flags) fires in the receiving thread
 * after each datagram of recv/recvfrom/recvmsg/recvmmsg/read. The sender
 * of a datagram on an unconnected socket is only known once the kernel
 * copied it out: resolved at the next datagram of the call or at its exit.
 * Peeks are not datagrams taken; error-queue reads are not received data. */
SEC("raw_tracepoint/sock_recv_length")
int ebd_udp_recv(struct bpf_raw_tracepoint_args *ctx)
{
	struct sock *sk = (struct sock *)ctx->args[0];
	int ret = (int)ctx->args[1], flags = (int)ctx->args[2];
	struct ebpfdump_udp_key k;
	struct call_args *call;
	__u32 tid;

	if (ret < 0 || (flags & (MSG_PEEK | MSG_ERRQUEUE)) || !sk || !sock_is_udp(sk))
		return 0;
	__builtin_memset(&k, 0, sizeof(k));
	k.dir = EBPFDUMP_UDP_RECV;
	if (udp_key_from_sock(sk, &k)) {
		udp_account(sk, &k, (__u32)ret, 1);
		return 0;
	}
	tid = (__u32)bpf_get_current_pid_tgid();
	call = bpf_map_lookup_elem(&calls, &tid);
	if (!call) {
		/* read(), recv() without an address, io_uring, a 32-bit
		 * process: the sender is not observable. */
		udp_no_peer(&k);
		udp_account(sk, &k, (__u32)ret, 1);
		return 0;
	}
	if (call->pending_sk)
		udp_recv_resolve(call);
	call->pending_sk = (__u64)(unsigned long)sk;
	call->pending_bytes = (__u32)ret;
	call->index++;
	return 0;
}

/* ---- UDP before Linux 6.3: fexit on the protocols' sendmsg/recvmsg ------- */

/* Where the kernel runs fexit programs (the fentry tier, probe.c), these
 * replace ebd_udp_send/ebd_udp_recv and the raw system-call hooks: same
 * UDP_Send/UDP_Recv records, also before Linux 6.3 (no sock_send_length
 * or sock_recv_length tracepoints). The peer comes from the kernel's own copy of the address in
 * the struct msghdr (set by sendto/sendmsg/sendmmsg, filled by
 * recvfrom/recvmsg/recvmmsg), so no system-call hook is needed. The
 * signatures are those of Linux 5.19 and later (recvmsg lost its noblock
 * argument in 5.19). */
static __always_inline int udp_send_exit(struct sock *sk, struct msghdr *msg, int ret)
{
	struct ebpfdump_udp_key k;
	__u64 name;
	bool peer;

	if (ret < 0 || !sk)
		return 0;
	__builtin_memset(&k, 0, sizeof(k));
	k.dir = EBPFDUMP_UDP_SEND;
	peer = udp_key_from_sock(sk, &k);
	name = (__u64)(unsigned long)BPF_CORE_READ(msg, msg_name);
	if (name && udp_peer_from_addr(name, false, &k))
		peer = true;
	if (!peer)
		udp_no_peer(&k);
	udp_account(sk, &k, (__u32)ret, udp_send_datagrams(sk));
	return 0;
}

static __always_inline int udp_recv_exit(struct sock *sk, struct msghdr *msg, int flags, int ret)
{
	struct ebpfdump_udp_key k;
	__u64 name;

	if (ret < 0 || (flags & (MSG_PEEK | MSG_ERRQUEUE)) || !sk)
		return 0;
	__builtin_memset(&k, 0, sizeof(k));
	k.dir = EBPFDUMP_UDP_RECV;
	if (!udp_key_from_sock(sk, &k)) {
		name = (__u64)(unsigned long)BPF_CORE_READ(msg, msg_name);
		if (!name || !udp_peer_from_addr(name, false, &k))
			udp_no_peer(&k);
	}
	udp_account(sk, &k, (__u32)ret, 1);
	return 0;
}

SEC("fexit/udp_sendmsg")
int BPF_PROG(ebd_udp_sendmsg, struct sock *sk, struct msghdr *msg, size_t len, int ret)
{
	return udp_send_exit(sk, msg, ret);
}

SEC("fexit/udpv6_sendmsg")
int BPF_PROG(ebd_udpv6_sendmsg, struct sock *sk, struct msghdr *msg, size_t len, int ret)
{
	return udp_send_exit(sk, msg, ret);
}

SEC("fexit/udp_recvmsg")
int BPF_PROG(ebd_udp_recvmsg, struct sock *sk, struct msghdr *msg, size_t len, int flags,
	     int *addr_len, int ret)
{
	return udp_recv_exit(sk, msg, flags, ret);
}

SEC("fexit/udpv6_recvmsg")
int BPF_PROG(ebd_udpv6_recvmsg, struct sock *sk, struct msghdr *msg, size_t len, int flags,
	     int *addr_len, int ret)
{
	return udp_recv_exit(sk, msg, flags, ret);
}

/* ---- The address arguments of send/receive calls -------------------------- */

static __always_inline int call_begin(__u32 kind, __u64 uptr, __u32 vlen)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct call_args a = {};

	/* Without an address the socket's own peer is all there is to know. */
	if (!uptr || (kind == CALL_MMSG && !vlen))
		return 0;
	a.kind = kind;
	a.uptr = uptr;
	a.vlen = vlen;
	bpf_map_update_elem(&calls, &tid, &a, BPF_ANY);
	return 0;
}

/* msg_name of a struct user_msghdr in user memory. */
static __always_inline __u64 msghdr_name(__u64 umsg)
{
	__u64 name = 0;

	if (!umsg)
		return 0;
	bpf_probe_read_user(&name, sizeof(name),
			    (const void *)(umsg + bpf_core_field_offset(struct user_msghdr, msg_name)));
	return name;
}

static __always_inline int call_end(bool resolve)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct call_args *call;

	if (resolve) {
		call = bpf_map_lookup_elem(&calls, &tid);
		if (!call)
			return 0;
		if (call->pending_sk)
			udp_recv_resolve(call);
	}
	bpf_map_delete_elem(&calls, &tid);
	return 0;
}

/* ---- System calls ------------------------------------------------------- */

/* Entry of a send or receive call: keep the address argument until the
 * datagram is seen. Loaded only when UDP events are selected. */
SEC("raw_tracepoint/sys_enter")
int ebd_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long id = (long)ctx->args[1];
	bool send = type_wanted(EBPFDUMP_EV_UDP_SEND), recv = type_wanted(EBPFDUMP_EV_UDP_RECV);

	switch (id) {
	case NR_SENDTO:
	case NR_RECVFROM:
	case NR_SENDMSG:
	case NR_RECVMSG:
	case NR_SENDMMSG:
	case NR_RECVMMSG:
		break;
	default:
		return 0;
	}
	if (compat_syscall())
		return 0;
	switch (id) {
	case NR_SENDTO:
		return send ? call_begin(CALL_ADDR, PT_REGS_PARM5_CORE_SYSCALL(regs), 0) : 0;
	case NR_RECVFROM:
		return recv ? call_begin(CALL_ADDR, PT_REGS_PARM5_CORE_SYSCALL(regs), 0) : 0;
	case NR_SENDMSG:
		return send ? call_begin(CALL_ADDR, msghdr_name(PT_REGS_PARM2_CORE_SYSCALL(regs)), 0)
			    : 0;
	case NR_RECVMSG:
		return recv ? call_begin(CALL_ADDR, msghdr_name(PT_REGS_PARM2_CORE_SYSCALL(regs)), 0)
			    : 0;
	case NR_SENDMMSG:
		return send ? call_begin(CALL_MMSG, PT_REGS_PARM2_CORE_SYSCALL(regs),
					 (__u32)PT_REGS_PARM3_CORE_SYSCALL(regs))
			    : 0;
	default: /* NR_RECVMMSG */
		return recv ? call_begin(CALL_MMSG, PT_REGS_PARM2_CORE_SYSCALL(regs),
					 (__u32)PT_REGS_PARM3_CORE_SYSCALL(regs))
			    : 0;
	}
}

/* Exit of any system call: accept()/accept4() hand over a socket (always
 * loaded, it keeps the owners of accepted sockets); a send or receive
 * call ends. */
SEC("raw_tracepoint/sys_exit")
int ebd_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long ret = (long)ctx->args[1];
	long id = SYSCALL_NR(regs);

	switch (id) {
	case NR_ACCEPT:
	case NR_ACCEPT4:
		return compat_syscall() ? 0 : on_accept_exit(ret);
	case NR_SENDTO:
	case NR_SENDMSG:
	case NR_SENDMMSG:
		return type_wanted(EBPFDUMP_EV_UDP_SEND) ? call_end(false) : 0;
	case NR_RECVFROM:
	case NR_RECVMSG:
	case NR_RECVMMSG:
		return type_wanted(EBPFDUMP_EV_UDP_RECV) ? call_end(true) : 0;
	default:
		return 0;
	}
}

/* ---- The tracepoint tier: the syscalls' own tracepoints ------------------ */

/* Where fexit is refused (lockdown, no kprobes) but tracefs is mounted: a
 * program per system call that matters, attached to its syscalls:sys_enter_*
 * or sys_exit_* tracepoint. The kernel tests a bitmap of enabled system
 * calls before calling into them, so other system calls run no program
 * (the raw tier's sys_enter/sys_exit run one for each). Same helpers as the
 * raw tier; the tracepoints skip 32-bit system calls themselves. */
#define SYSCALL_ENTER(name, body)                                                  \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                \
	int ebd_tp_enter_##name(struct trace_event_raw_sys_enter *ctx)             \
	{                                                                          \
		body;                                                              \
	}
#define SYSCALL_EXIT(name, body)                                                   \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                 \
	int ebd_tp_exit_##name(struct trace_event_raw_sys_exit *ctx)               \
	{                                                                          \
		body;                                                              \
	}

#define WANT_SEND type_wanted(EBPFDUMP_EV_UDP_SEND)
#define WANT_RECV type_wanted(EBPFDUMP_EV_UDP_RECV)

SYSCALL_EXIT(accept, return on_accept_exit(ctx->ret))
SYSCALL_EXIT(accept4, return on_accept_exit(ctx->ret))
SYSCALL_ENTER(sendto, return WANT_SEND ? call_begin(CALL_ADDR, ctx->args[4], 0) : 0)
SYSCALL_ENTER(recvfrom, return WANT_RECV ? call_begin(CALL_ADDR, ctx->args[4], 0) : 0)
SYSCALL_ENTER(sendmsg, return WANT_SEND ? call_begin(CALL_ADDR, msghdr_name(ctx->args[1]), 0) : 0)
SYSCALL_ENTER(recvmsg, return WANT_RECV ? call_begin(CALL_ADDR, msghdr_name(ctx->args[1]), 0) : 0)
SYSCALL_ENTER(sendmmsg,
	      return WANT_SEND ? call_begin(CALL_MMSG, ctx->args[1], (__u32)ctx->args[2]) : 0)
SYSCALL_ENTER(recvmmsg,
	      return WANT_RECV ? call_begin(CALL_MMSG, ctx->args[1], (__u32)ctx->args[2]) : 0)
SYSCALL_EXIT(sendto, return WANT_SEND ? call_end(false) : 0)
SYSCALL_EXIT(sendmsg, return WANT_SEND ? call_end(false) : 0)
SYSCALL_EXIT(sendmmsg, return WANT_SEND ? call_end(false) : 0)
SYSCALL_EXIT(recvfrom, return WANT_RECV ? call_end(true) : 0)
SYSCALL_EXIT(recvmsg, return WANT_RECV ? call_end(true) : 0)
SYSCALL_EXIT(recvmmsg, return WANT_RECV ? call_end(true) : 0)
