/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel event source (bpf/probe.h): open, configure, load and attach
 * the ebpfdump.bpf.c skeleton (raw tracepoints only: no tracefs), turn ring buffer
 * records into struct event with wall-clock timestamps, and report the
 * kernel's UDP flow counts (probe_flush) exactly once each.
 */
#include "bpf/probe.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/ebpfdump_event.h"
#include "ebpfdump.skel.h"
#include "util/clock.h"
#include "util/hash.h"
#include "util/error.h"

_Static_assert(EBPFDUMP_EV_TCP_CONNECT == EVENT_TCP_CONNECT, "record type mismatch");
_Static_assert(EBPFDUMP_EV_SLOTS == PROBE_TYPE_SLOTS, "per-type counter slots mismatch");
_Static_assert(EBPFDUMP_EV_TCP_CONNECT_FAILED == EVENT_TCP_CONNECT_FAILED, "record type mismatch");
_Static_assert(EBPFDUMP_EV_TCP_ACCEPT == EVENT_TCP_ACCEPT, "record type mismatch");
_Static_assert(EBPFDUMP_EV_TCP_CLOSE == EVENT_TCP_CLOSE, "record type mismatch");
_Static_assert(EBPFDUMP_EV_TCP_RETRANSMIT == EVENT_TCP_RETRANSMIT, "record type mismatch");
_Static_assert(EBPFDUMP_EV_UDP_SEND == EVENT_UDP_SEND, "record type mismatch");
_Static_assert(EBPFDUMP_EV_UDP_RECV == EVENT_UDP_RECV, "record type mismatch");
_Static_assert(EBPFDUMP_EV_TCP_LISTEN == EVENT_TCP_LISTEN, "record type mismatch");
_Static_assert(EBPFDUMP_EV_TCP_LISTEN_CLOSE == EVENT_TCP_LISTEN_CLOSE, "record type mismatch");
_Static_assert(EBPFDUMP_COMM_LEN <= EVENT_COMM_MAX + 1, "comm does not fit struct event");
_Static_assert(EBPFDUMP_IFNAME_LEN <= EVENT_IFNAME_MAX + 1, "ifname does not fit struct event");
_Static_assert(EBPFDUMP_CGROUP_LEN <= EVENT_NAME_MAX + 1, "cgroup does not fit struct event");
_Static_assert(EBPFDUMP_EXE_LEN <= EVENT_EXE_MAX + 1, "exe does not fit struct event");

#define KERNEL_BTF_PATH "/sys/kernel/btf/vmlinux"
#define UDP_TYPES (1u << EVENT_UDP_SEND | 1u << EVENT_UDP_RECV)
/* Programs in ebpfdump.bpf.c (7 now); room for the ones still to come. */
#define PROBE_PROGS_MAX 40
/* Map entries read per batch when walking a kernel table. */
#define WALK_CHUNK 256u

/* What user space has reported of one kernel UDP flow (probe_flush). */
struct flow_mark {
	struct ebpfdump_udp_key key;
	uint64_t birth_ns; /* tells a re-created flow from the one we knew */
	uint64_t reported_packets, reported_bytes;
	uint64_t last_report_ns; /* CLOCK_BOOTTIME; 0: never reported */
	bool used, visited;
};

/* Open addressing, linear probing, twice the kernel table's capacity so
 * that it never fills. Rebuilt by every flush (the flows the kernel still
 * has), so it needs no deletion. */
struct flow_marks {
	struct flow_mark *slot;
	uint32_t mask;
	uint32_t count;
};

/* A process's strings as the kernel announced them. proc_ids are handed
 * out in sequence per CPU, so a direct-mapped table keeps the last
 * PROC_SLOTS or so of them: a record naming an older one (a socket whose
 * process's strings were announced that many processes ago) gets none,
 * and user space reads /proc instead. Pages are touched only as slots are
 * used: a host with few processes uses a few of them. */
#define PROC_SLOTS 32768
struct proc_slot {
	uint64_t proc_id; /* 0: empty */
	struct ebpfdump_proc_strings s;
};

struct probe {
	struct ebpfdump_bpf *skel;
	/* probe_config.btf_path copied, or NULL: the kernel's own BTF. */
	char *btf_path;
	struct ring_buffer *rb;
	struct bpf_link *links[PROBE_PROGS_MAX];
	const struct bpf_program *progs[PROBE_PROGS_MAX]; /* attached, for stats */
	unsigned n_links; /* links[] still attached (0 after probe_detach) */
	unsigned n_progs; /* progs[] that were attached */
	probe_event_fn fn;
	void *ctx;
	int64_t boot_to_real_ns; /* CLOCK_REALTIME - CLOCK_BOOTTIME at open */
	uint64_t delivered;
	uint64_t malformed; /* records too short or of an unknown type: skipped */
	/* Processes' strings by proc_id (EBPFDUMP_EV_PROCESS), for the TCP
	 * records that name them: PROC_SLOTS, direct-mapped. */
	struct proc_slot *procs;
	uint64_t procs_missing; /* TCP records whose proc_id was not (or no longer) here */
	uint32_t seq;
	int handled; /* events handed over by the current probe_consume() */
	int ncpus;
	struct ebpfdump_counters *percpu; /* ncpus counters, for probe_stats() */
	uint32_t sockets_max, udp_flows_max;
	uint64_t udp_interval_ns;
	/* probe_flush() state */
	struct flow_marks marks, next_marks;
	bool flush_all;
	int flush_events, flush_error;
	enum probe_hooks tier; /* the tier loaded: FENTRY, TRACEPOINT or RAW (never AUTO) */
	bool fentry;	       /* tier == PROBE_HOOKS_FENTRY */
	bool sweep;	       /* ebd_sweep is loaded (run by probe_detach) */
	uint32_t left_out; /* types asked for implicitly that this kernel cannot observe */
	char left_out_why[256];
	uint64_t walk_count; /* entries seen by table_usage()'s walk */
	void *walk_keys, *walk_values; /* WALK_CHUNK entries of the largest map */
	struct event ev; /* 5 KB: too big for the stack of a callback */
};

static void (*log_fn)(int level, const char *msg, void *ctx);
static void *log_ctx;

static void log_lines(char *msg)
{
	char *line, *save = NULL;

	for (line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		log_fn(PROBE_LOG_DEBUG, line, log_ctx);
}

/* The verifier's verdict on the last program the kernel refused: the
 * program's name and the last lines of its log, where the reason stands.
 * Filled by libbpf_print (libbpf prints a refused program's whole log in
 * one message), read by load_error. */
#define VERDICT_LINES 3
static char verdict[PROBE_VERDICT_MAX];

static void keep_verdict(const char *msg)
{
	static const char begin[] = "-- BEGIN PROG LOAD LOG --", end[] = "-- END PROG LOAD LOG --";
	const char *b = strstr(msg, begin), *e, *name, *name_end, *line;
	size_t len;
	int lines = 0;

	if (!b || !(e = strstr(b, end)) || !(name = strstr(msg, "prog '")) || name > b)
		return;
	name += 6;
	name_end = strchr(name, '\'');
	if (!name_end || name_end > b)
		return;
	/* Back from the end marker over VERDICT_LINES non-empty lines. */
	line = e;
	while (line > b + sizeof(begin) && lines < VERDICT_LINES) {
		line--;
		while (line > b && line[-1] != '\n')
			line--;
		if (line[0] != '\n')
			lines++;
	}
	len = (size_t)(e - line);
	snprintf(verdict, sizeof(verdict), "%.*s: ", (int)(name_end - name), name);
	for (size_t i = 0, o = strlen(verdict); i < len && o + 3 < sizeof(verdict); i++) {
		if (line[i] == '\n') {
			if (i + 1 < len)
				o += (size_t)snprintf(verdict + o, sizeof(verdict) - o, " | ");
			continue;
		}
		verdict[o++] = line[i];
		verdict[o] = '\0';
	}
}

/* libbpf's print hook. Everything goes out at debug level, whole (a
 * verifier log is megabytes and its reason is at its end): on failure the
 * caller gets a one-line reason in errbuf, the details are for --debug. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *msg;
	va_list again;
	int n;

	(void)level;
	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, again);
	va_end(again);
	if (n < 0)
		return 0;
	msg = malloc((size_t)n + 1);
	if (!msg)
		return 0;
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	keep_verdict(msg);
	if (log_fn)
		log_lines(msg);
	free(msg);
	return n;
}

__attribute__((format(printf, 1, 2))) static void probe_debug(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_fn(PROBE_LOG_DEBUG, msg, log_ctx);
}

void probe_set_log(void (*fn)(int level, const char *msg, void *ctx), void *ctx)
{
	log_fn = fn;
	log_ctx = ctx;
	libbpf_set_print(libbpf_print);
}

/* "tracepoint/sock/inet_sock_set_state" -> "sock:inet_sock_set_state",
 * "raw_tracepoint/inet_sock_set_state" -> "inet_sock_set_state (raw)" */
static void tracepoint_name(const struct bpf_program *prog, char *buf, size_t size)
{
	const char *sec = bpf_program__section_name(prog);
	const char *tp = strchr(sec, '/');
	char *slash;

	if (strncmp(sec, "raw_tracepoint/", 15) == 0) {
		snprintf(buf, size, "%s (raw)", sec + 15);
		return;
	}
	snprintf(buf, size, "%s", tp ? tp + 1 : sec);
	slash = strchr(buf, '/');
	if (slash)
		*slash = ':';
}

static int attach_one(struct probe *p, struct bpf_program *prog, bool quiet_enoent, char *errbuf,
		      size_t errlen)
{
	char name[128];
	struct bpf_link *link;
	int r;

	if (p->n_links >= PROBE_PROGS_MAX)
		return error_set(errbuf, errlen, -E2BIG, "internal error: more than %d BPF programs",
			    PROBE_PROGS_MAX);
	link = bpf_program__attach(prog);
	if (!link) {
		r = -errno;
		tracepoint_name(prog, name, sizeof(name));
		if (r == -ENOENT && quiet_enoent) {
			probe_debug("probe: tracepoint %s is missing from this kernel; its events "
				    "are left out",
				    name);
			return r;
		}
		if (r == -ENOENT)
			return error_set(errbuf, errlen, r,
				    "tracepoint %s is missing from this kernel: leave the event "
				    "types that need it out of the event selection",
				    name);
		if (r == -EPERM || r == -EACCES)
			return error_set(errbuf, errlen, r,
				    "attaching to tracepoint %s was refused (%s): run as root "
				    "or grant CAP_BPF and CAP_PERFMON with setcap",
				    name, strerror(-r));
		return error_set(errbuf, errlen, r, "cannot attach to tracepoint %s: %s", name,
			    strerror(-r));
	}
	p->progs[p->n_progs++] = prog;
	p->links[p->n_links++] = link;
	probe_debug("probe: attached %s to %s", bpf_program__name(prog),
		    bpf_program__section_name(prog));
	return 0;
}

/* The fexit programs for UDP (the fentry tier). */
static bool udp_fexit_prog(const struct probe *p, const struct bpf_program *prog)
{
	const struct ebpfdump_bpf *k = p->skel;

	return prog == k->progs.ebd_udp_sendmsg || prog == k->progs.ebd_udpv6_sendmsg ||
	       prog == k->progs.ebd_udp_recvmsg || prog == k->progs.ebd_udpv6_recvmsg;
}

/* Which tier a program belongs to: fexit programs (accept and UDP) or the
 * raw system-call hooks and UDP tracepoints they replace. Others serve
 * both. */
static bool fentry_tier_prog(const struct probe *p, const struct bpf_program *prog)
{
	return udp_fexit_prog(p, prog) || prog == p->skel->progs.ebd_accept_exit;
}

/* The syscalls' own tracepoints (the tracepoint tier): ebd_tp_enter_NAME
 * and ebd_tp_exit_NAME. */
static bool syscall_tp_prog(const struct bpf_program *prog)
{
	return strncmp(bpf_program__name(prog), "ebd_tp_", 7) == 0;
}

/* The UDP tracepoints (Linux 6.3+), shared by the tracepoint and raw tiers. */
static bool udp_tp_prog(const struct probe *p, const struct bpf_program *prog)
{
	return prog == p->skel->progs.ebd_udp_send || prog == p->skel->progs.ebd_udp_recv;
}

/* Whether prog belongs to another tier than the one being loaded. */
static bool other_tier_prog(const struct probe *p, const struct bpf_program *prog)
{
	const struct ebpfdump_bpf *k = p->skel;
	bool raw_hooks = prog == k->progs.ebd_sys_enter || prog == k->progs.ebd_sys_exit;

	switch (p->tier) {
	case PROBE_HOOKS_FENTRY:
		return raw_hooks || syscall_tp_prog(prog) || udp_tp_prog(p, prog);
	case PROBE_HOOKS_TRACEPOINT:
		return raw_hooks || fentry_tier_prog(p, prog);
	default:
		return syscall_tp_prog(prog) || fentry_tier_prog(p, prog);
	}
}

/* The event types a program exists for (bits of enum event_type), or 0
 * when every configuration needs it (the state changes and the system call
 * exits keep the socket owners that TCP_Accept, TCP_Close and
 * TCP_Retransmit use). *leader: the program whose tracepoint decides
 * whether its type can be observed at all. */
static uint32_t prog_event_types(const struct probe *p, const struct bpf_program *prog,
				 bool *leader)
{
	const struct ebpfdump_bpf *k = p->skel;

	*leader = prog == k->progs.ebd_retransmit || prog == k->progs.ebd_udp_send ||
		  prog == k->progs.ebd_udp_recv || udp_fexit_prog(p, prog);
	if (prog == k->progs.ebd_udp_sendmsg || prog == k->progs.ebd_udpv6_sendmsg)
		return 1u << EVENT_UDP_SEND;
	if (prog == k->progs.ebd_udp_recvmsg || prog == k->progs.ebd_udpv6_recvmsg)
		return 1u << EVENT_UDP_RECV;
	if (prog == k->progs.ebd_retransmit)
		return 1u << EVENT_TCP_RETRANSMIT;
	if (prog == k->progs.ebd_udp_send)
		return 1u << EVENT_UDP_SEND;
	if (prog == k->progs.ebd_udp_recv)
		return 1u << EVENT_UDP_RECV;
	if (prog == k->progs.ebd_sys_enter) /* the address arguments of UDP calls */
		return 1u << EVENT_UDP_SEND | 1u << EVENT_UDP_RECV;
	if (syscall_tp_prog(prog) && strstr(bpf_program__name(prog), "_send"))
		return 1u << EVENT_UDP_SEND;
	if (syscall_tp_prog(prog) && strstr(bpf_program__name(prog), "_recv"))
		return 1u << EVENT_UDP_RECV;
	return 0; /* ebd_tp_exit_accept/accept4: the owners of accepted sockets */
}

/* A program the kernel may skip with nothing covering for it: its
 * recursion misses are possible lost events. ebd_state_main and
 * ebd_state_nested cover for each other (see ebpfdump.bpf.c); a skipped
 * system-call entry only loses a datagram's peer address (counted as
 * udp_no_peer), not the datagram; where the tracepoint has err,
 * ebd_retransmit's skipped runs are among missed_retransmits already. */
static bool misses_lose_events(const struct probe *p, const struct bpf_program *prog)
{
	const struct ebpfdump_bpf *k = p->skel;

	if (prog == k->progs.ebd_retransmit && k->rodata->retransmit_has_err)
		return false;
	return prog != k->progs.ebd_state_main && prog != k->progs.ebd_state_nested &&
	       prog != k->progs.ebd_sys_enter &&
	       strncmp(bpf_program__name(prog), "ebd_tp_enter_", 13) != 0;
}

/* implicit_mask: the caller asked for "all types", so a type whose
 * tracepoint this kernel lacks (sock:sock_send_length and
 * sock_recv_length came with Linux 6.3) is left out instead of failing. */
static int attach_all(struct probe *p, bool implicit_mask, char *errbuf, size_t errlen)
{
	uint32_t skipped = 0; /* event types left out */
	struct bpf_program *prog;
	bool leader;
	uint32_t types;
	int r;

	/* Order matters: a tracepoint calls its programs in the order they
	 * were attached, and ebd_state_nested must run after ebd_state_main. */
	r = attach_one(p, p->skel->progs.ebd_state_main, false, errbuf, errlen);
	if (r == 0)
		r = attach_one(p, p->skel->progs.ebd_state_nested, false, errbuf, errlen);
	if (r < 0)
		return r;
	/* Leaders first, so that a missing tracepoint drops its whole group. */
	bpf_object__for_each_program(prog, p->skel->obj)
	{
		types = prog_event_types(p, prog, &leader);
		if (!bpf_program__autoload(prog) || !leader || prog == p->skel->progs.ebd_sweep)
			continue;
		r = attach_one(p, prog, implicit_mask, errbuf, errlen);
		if (r == -ENOENT && implicit_mask)
			skipped |= types;
		else if (r < 0)
			return r;
	}
	bpf_object__for_each_program(prog, p->skel->obj)
	{
		types = prog_event_types(p, prog, &leader);
		if (!bpf_program__autoload(prog) || leader || prog == p->skel->progs.ebd_sweep ||
		    prog == p->skel->progs.ebd_state_main ||
		    prog == p->skel->progs.ebd_state_nested || (types && !(types & ~skipped)))
			continue;
		r = attach_one(p, prog, false, errbuf, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool ipv6_is_v4mapped(const uint8_t a[16])
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

static bool ipv6_is_unspecified(const uint8_t a[16])
{
	static const uint8_t zero[16];

	return memcmp(a, zero, sizeof(zero)) == 0;
}

/* An IPv6 socket talking IPv4 holds ::ffff:a.b.c.d (its local address may
 * be :: when it is bound to any address and not connected); report IPv4
 * so the event matches the IPv4 packets on the wire. */
static bool record_is_v4_on_v6(const struct ebpfdump_record *rec)
{
	bool peer = !(rec->flags & EBPFDUMP_F_NO_PEER);

	if (rec->family != AF_INET6)
		return false;
	if (peer)
		return ipv6_is_v4mapped(rec->raddr) &&
		       (ipv6_is_v4mapped(rec->laddr) || ipv6_is_unspecified(rec->laddr));
	return ipv6_is_v4mapped(rec->laddr);
}

static void copy_fixed_str(char *dst, size_t size, const char *src, size_t src_size)
{
	event_copy_str(dst, size, src, strnlen(src, src_size));
}

/* The arguments the kernel read (NUL-separated, as /proc/PID/cmdline),
 * joined by spaces like enrich/proc does. Whole ones win over /proc (they
 * were read while the process ran); a cut one is left in ev->cmdline
 * without its presence bit, for enrich/proc to use only when
 * /proc/PID/cmdline (longer) is gone (enrich/proc.h). */
static void owner_cmdline(const struct ebpfdump_proc_strings *ps, bool cut, struct event *ev)
{
	size_t n = ps->cmdline_len & ~EBPFDUMP_CMDLINE_CUT_BIT;

	if (n > sizeof(ps->cmdline))
		n = sizeof(ps->cmdline);
	while (n > 0 && ps->cmdline[n - 1] == '\0')
		n--;
	if (n == 0)
		return;
	memcpy(ev->cmdline, ps->cmdline, n);
	ev->cmdline[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (ev->cmdline[i] == '\0')
			ev->cmdline[i] = ' ';
	if (!cut)
		EVENT_SET(ev, ITEM_CMDLINE);
}

static void record_to_event(const struct probe *p, const struct ebpfdump_record *rec,
			    struct event *ev)
{
	const struct ebpfdump_owner *o = &rec->owner;
	const struct ebpfdump_ident *id = &o->id;

	ev->type = rec->type;
	ev->ts_ns = (uint64_t)((int64_t)rec->ts_ns + p->boot_to_real_ns);

	if (rec->flags & EBPFDUMP_F_OWNER) {
		ev->pid = id->pid;
		ev->tid = id->tid;
		ev->uid = id->uid;
		ev->gid = id->gid;
		ev->ppid = id->ppid;
		copy_fixed_str(ev->comm, sizeof(ev->comm), id->comm, sizeof(id->comm));
		copy_fixed_str(ev->thread, sizeof(ev->thread), id->thread, sizeof(id->thread));
		copy_fixed_str(ev->pcomm, sizeof(ev->pcomm), id->pcomm, sizeof(id->pcomm));
		ev->cgroup_id = id->cgroup_id;
		EVENT_SET(ev, ITEM_PID);
		EVENT_SET(ev, ITEM_TID);
		EVENT_SET(ev, ITEM_UID);
		EVENT_SET(ev, ITEM_GID);
		EVENT_SET(ev, ITEM_PPID);
		EVENT_SET(ev, ITEM_COMM);
		if (ev->thread[0])
			EVENT_SET(ev, ITEM_THREAD);
		EVENT_SET(ev, ITEM_PCOMM);
		if (id->cgroup_id)
			EVENT_SET(ev, ITEM_CGROUP_ID);
		if (rec->flags & EBPFDUMP_F_CGROUP_NAME) {
			copy_fixed_str(ev->cgroup, sizeof(ev->cgroup), o->s.cgroup,
				       sizeof(o->s.cgroup));
			EVENT_SET(ev, ITEM_CGROUP);
		}
		/* The kernel's path wins over /proc (enrich fills only what is
		 * missing): it was taken while the process was alive. */
		if ((rec->flags & EBPFDUMP_F_EXE) && o->s.exe[0]) {
			copy_fixed_str(ev->exe, sizeof(ev->exe), o->s.exe, sizeof(o->s.exe));
			EVENT_SET(ev, ITEM_EXE);
		}
		if (rec->flags & EBPFDUMP_F_CMDLINE)
			owner_cmdline(&o->s, rec->flags & EBPFDUMP_F_CMDLINE_CUT, ev);
	}
	if (rec->flags & EBPFDUMP_F_NETNS) {
		ev->netns = rec->netns;
		EVENT_SET(ev, ITEM_NETNS);
	}
	if (rec->flags & EBPFDUMP_F_IFINDEX) {
		ev->ifindex = rec->ifindex;
		EVENT_SET(ev, ITEM_IFINDEX);
	}
	if (rec->flags & EBPFDUMP_F_IFNAME) {
		copy_fixed_str(ev->ifname, sizeof(ev->ifname), rec->ifname, sizeof(rec->ifname));
		EVENT_SET(ev, ITEM_IFNAME);
	}

	ev->proto = rec->proto;
	EVENT_SET(ev, ITEM_PROTO);
	if (record_is_v4_on_v6(rec)) {
		ev->family = AF_INET;
		memcpy(ev->laddr, rec->laddr + 12, 4);
		memcpy(ev->raddr, rec->raddr + 12, 4);
	} else {
		ev->family = rec->family;
		memcpy(ev->laddr, rec->laddr, rec->family == AF_INET6 ? 16 : 4);
		memcpy(ev->raddr, rec->raddr, rec->family == AF_INET6 ? 16 : 4);
	}
	if (ev->family == AF_INET || ev->family == AF_INET6) {
		EVENT_SET(ev, ITEM_LADDR);
		ev->lport = rec->lport;
		EVENT_SET(ev, ITEM_LPORT);
		if (!(rec->flags & EBPFDUMP_F_NO_PEER)) {
			EVENT_SET(ev, ITEM_RADDR);
			ev->rport = rec->rport;
			EVENT_SET(ev, ITEM_RPORT);
		}
	}

	if (rec->flags & EBPFDUMP_F_LATENCY) {
		/* Rounded up: a completed handshake never reads as 0 µs. */
		uint64_t us = (rec->latency_ns + 999) / 1000;

		ev->latency_us = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
		EVENT_SET(ev, ITEM_LATENCY_US);
	}
	if (rec->flags & EBPFDUMP_F_TOTALS) {
		ev->bytes_sent = rec->bytes_sent;
		ev->bytes_received = rec->bytes_received;
		ev->retransmits = rec->retransmits;
		ev->srtt_us = rec->srtt_us;
		EVENT_SET(ev, ITEM_BYTES_SENT);
		EVENT_SET(ev, ITEM_BYTES_RECEIVED);
		EVENT_SET(ev, ITEM_RETRANSMITS);
		EVENT_SET(ev, ITEM_SRTT_US);
	}
	if (rec->flags & EBPFDUMP_F_ERROR) {
		ev->error = rec->error;
		EVENT_SET(ev, ITEM_ERROR);
	}
	if (rec->flags & EBPFDUMP_F_COUNTS) {
		ev->packets = rec->packets;
		ev->bytes = rec->bytes;
		EVENT_SET(ev, ITEM_PACKETS);
		EVENT_SET(ev, ITEM_BYTES);
	}
	if (rec->flags & EBPFDUMP_F_COOKIE) {
		ev->sock_cookie = rec->sock_cookie;
		EVENT_SET(ev, ITEM_SOCK_COOKIE);
	}
}

/* One event to the callback, from a record the kernel wrote or one
 * probe_flush() built. */
static int deliver(struct probe *p, const struct ebpfdump_record *rec)
{
	int r;

	memset(&p->ev, 0, sizeof(p->ev));
	record_to_event(p, rec, &p->ev);
	p->ev.seq = p->seq++;
	p->delivered++;
	p->handled++;
	r = p->fn ? p->fn(&p->ev, p->ctx) : 0;
	return r < 0 ? r : 0;
}

_Static_assert(EBPFDUMP_EV_PROCESS >= EVENT_TYPE_MAX && EBPFDUMP_EV_PROCESS < EBPFDUMP_EV_SLOTS,
	       "EBPFDUMP_EV_PROCESS must stay apart from the event types");
_Static_assert(offsetof(struct ebpfdump_record, owner) == EBPFDUMP_HEAD_SIZE &&
		       offsetof(struct ebpfdump_tcp_record, ident) == EBPFDUMP_HEAD_SIZE,
	       "the two record layouts must share their head");

/* The slot a proc_id lives in: each CPU's sequence runs from its own
 * offset, so that one busy CPU can use every slot. */
static struct proc_slot *proc_slot_of(const struct probe *p, uint64_t proc_id)
{
	uint64_t seq = proc_id & ((1ull << 48) - 1), cpu = proc_id >> 48;

	return &p->procs[(seq + cpu * 0x9e3779b1u) & (PROC_SLOTS - 1)];
}

static bool record_short(struct probe *p, size_t size, size_t want)
{
	if (size >= want)
		return false;
	/* Never trust a length: a record from another build of the BPF side
	 * may be shorter. Longer ones keep this layout as their prefix. */
	if (p->malformed++ == 0)
		probe_debug("probe: skipping a %zu-byte record, expected %zu", size, want);
	return true;
}

static void keep_proc(struct probe *p, const void *data, size_t size)
{
	struct ebpfdump_proc_record r;
	struct proc_slot *slot;

	if (record_short(p, size, sizeof(r)))
		return;
	memcpy(&r, data, sizeof(r)); /* ring memory: copy, then use */
	if (!r.proc_id) {
		p->malformed++;
		return;
	}
	slot = proc_slot_of(p, r.proc_id);
	slot->proc_id = r.proc_id;
	slot->s = r.s;
}

/* A TCP record in full: its head, its owner's ident and, when the kernel
 * announced them before it, its process's strings. */
static void expand_tcp(struct probe *p, const struct ebpfdump_tcp_record *t,
		       struct ebpfdump_record *rec)
{
	const uint16_t string_flags = EBPFDUMP_F_CGROUP_NAME | EBPFDUMP_F_EXE |
				      EBPFDUMP_F_CMDLINE | EBPFDUMP_F_CMDLINE_CUT;
	const struct proc_slot *slot;

	memcpy(rec, t, EBPFDUMP_HEAD_SIZE);
	rec->owner.id = t->ident;
	slot = t->ident.proc_id ? proc_slot_of(p, t->ident.proc_id) : NULL;
	if (slot && slot->proc_id == t->ident.proc_id && (t->flags & EBPFDUMP_F_OWNER)) {
		rec->owner.s = slot->s;
		rec->flags |= slot->s.flags & string_flags;
		return;
	}
	if (slot)
		p->procs_missing++;
	memset(&rec->owner.s, 0, sizeof(rec->owner.s));
}

static int handle_record(void *ctx, void *data, size_t size)
{
	struct probe *p = ctx;
	struct ebpfdump_record rec;
	struct ebpfdump_tcp_record t;
	uint16_t type;

	if (record_short(p, size, sizeof(type)))
		return 0;
	memcpy(&type, data, sizeof(type));
	if (type == EBPFDUMP_EV_PROCESS) {
		keep_proc(p, data, size);
		return 0;
	}
	if (type == 0 || type >= EVENT_TYPE_MAX) {
		p->malformed++;
		return 0;
	}
	if (type == EBPFDUMP_EV_UDP_SEND || type == EBPFDUMP_EV_UDP_RECV) {
		if (record_short(p, size, sizeof(rec)))
			return 0;
		memcpy(&rec, data, sizeof(rec));
	} else {
		if (record_short(p, size, sizeof(t)))
			return 0;
		memcpy(&t, data, sizeof(t));
		expand_tcp(p, &t, &rec);
	}
	return deliver(p, &rec);
}

/* Sizes and filters, defaults filled in and checked against their limits. */
struct probe_sizes {
	uint32_t ringbuf, sockets, udp_flows, udp_interval_ms;
};

static int check_filter(const struct probe_filter *f, char *errbuf, size_t errlen)
{
	size_t n = strnlen(f->comm, sizeof(f->comm));

	if (n == sizeof(f->comm))
		return error_set(errbuf, errlen, -EINVAL,
			    "the comm filter is longer than %d characters, the longest task "
			    "name the kernel keeps",
			    PROBE_COMM_MAX);
	if (f->pid_tree && !f->pid)
		return error_set(errbuf, errlen, -EINVAL,
			    "the descendants filter needs a pid whose descendants to select");
	return 0;
}

static int check_config(const struct probe_config *cfg, struct probe_sizes *ret, char *errbuf,
			size_t errlen)
{
	struct probe_sizes z = {
		.ringbuf = cfg && cfg->ringbuf_bytes ? cfg->ringbuf_bytes : PROBE_RINGBUF_DEFAULT,
		.sockets = cfg && cfg->max_sockets ? cfg->max_sockets : PROBE_SOCKETS_DEFAULT,
		.udp_flows = cfg && cfg->max_udp_flows ? cfg->max_udp_flows
						       : PROBE_UDP_FLOWS_DEFAULT,
		.udp_interval_ms = cfg && cfg->udp_interval_ms ? cfg->udp_interval_ms
							       : PROBE_UDP_INTERVAL_DEFAULT_MS,
	};
	long page = sysconf(_SC_PAGESIZE);

	/* The kernel wants a power of two that is a multiple of the page. */
	if (z.ringbuf < PROBE_RINGBUF_MIN || z.ringbuf > PROBE_RINGBUF_MAX ||
	    (z.ringbuf & (z.ringbuf - 1)) || (page > 0 && z.ringbuf % (uint32_t)page))
		return error_set(errbuf, errlen, -EINVAL,
			    "ring buffer size %u is invalid: use a power of two "
			    "from %u KiB to %u MiB",
			    z.ringbuf, PROBE_RINGBUF_MIN >> 10, PROBE_RINGBUF_MAX >> 20);
	if (z.sockets < PROBE_SOCKETS_MIN || z.sockets > PROBE_SOCKETS_MAX)
		return error_set(errbuf, errlen, -EINVAL,
			    "socket table size %u is invalid: use %u to %u sockets", z.sockets,
			    PROBE_SOCKETS_MIN, PROBE_SOCKETS_MAX);
	if (z.udp_flows < PROBE_UDP_FLOWS_MIN || z.udp_flows > PROBE_UDP_FLOWS_MAX)
		return error_set(errbuf, errlen, -EINVAL,
			    "UDP flow table size %u is invalid: use %u to %u flows", z.udp_flows,
			    PROBE_UDP_FLOWS_MIN, PROBE_UDP_FLOWS_MAX);
	if (z.udp_interval_ms < PROBE_UDP_INTERVAL_MIN_MS ||
	    z.udp_interval_ms > PROBE_UDP_INTERVAL_MAX_MS)
		return error_set(errbuf, errlen, -EINVAL,
			    "UDP report interval %u ms is invalid: use %u ms to %u s",
			    z.udp_interval_ms, PROBE_UDP_INTERVAL_MIN_MS,
			    PROBE_UDP_INTERVAL_MAX_MS / 1000);
	if (cfg) {
		int r = check_filter(&cfg->filter, errbuf, errlen);

		if (r < 0)
			return r;
	}
	*ret = z;
	return 0;
}

static int load_error(int r, char *errbuf, size_t errlen)
{
	if (r == -EPERM)
		return error_set(errbuf, errlen, r,
			    "loading BPF programs needs root or CAP_BPF and CAP_PERFMON: "
			    "run as root or grant them with setcap");
	if (verdict[0])
		return error_set(errbuf, errlen, r,
			    "the kernel's verifier refused BPF program %s (%s; --debug shows "
			    "its whole log); leaving that program's event types out of --events "
			    "may help: please report this kernel",
			    verdict, strerror(-r));
	return error_set(errbuf, errlen, r,
		    "the kernel refused the BPF programs (%s): --debug shows libbpf's reason",
		    strerror(-r));
}

/* The kernel's types: --btf's file, else the kernel's own
 * (/sys/kernel/btf/vmlinux, or libbpf's other places for a vmlinux with
 * BTF, e.g. /boot/vmlinux-$(uname -r)). NULL when there is none. */
static struct btf *kernel_btf(const struct probe *p)
{
	return p->btf_path ? btf__parse(p->btf_path, NULL) : btf__load_vmlinux_btf();
}

/* Event types whose leader program's raw tracepoint this kernel lacks
 * (no btf_trace_<name> type in its BTF: sock:sock_send_length and
 * sock_recv_length came with Linux 6.3). Decided before load, so that the
 * rest loads. *first: one such tracepoint's name, for the message. */
static uint32_t unobservable_types(const struct probe *p, char *first, size_t first_len)
{
	struct btf *btf = kernel_btf(p);
	struct bpf_program *prog;
	uint32_t missing = 0;
	char name[128];
	bool leader;

	if (!btf)
		return 0; /* the load will say what is wrong */
	bpf_object__for_each_program(prog, p->skel->obj)
	{
		uint32_t types = prog_event_types(p, prog, &leader);
		const char *sec = bpf_program__section_name(prog);

		if (!leader || strncmp(sec, "raw_tracepoint/", 15) != 0)
			continue;
		snprintf(name, sizeof(name), "btf_trace_%s", sec + 15);
		if (btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) >= 0)
			continue;
		if (!missing)
			snprintf(first, first_len, "%s", sec + 15);
		missing |= types;
	}
	btf__free(btf);
	return missing;
}

static void type_names(uint32_t mask, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned t = 0; t < 32 && o < size; t++)
		if (mask & (1u << t))
			o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? ", " : "",
					      event_type_name(t));
}

const char *probe_hooks_name(const struct probe *p)
{
	return p->tier == PROBE_HOOKS_FENTRY ? "fentry"
	       : p->tier == PROBE_HOOKS_TRACEPOINT ? "tracepoint"
						    : "raw";
}

uint32_t probe_left_out(const struct probe *p, char *why, size_t why_len)
{
	if (why && why_len)
		snprintf(why, why_len, "%s", p->left_out_why);
	return p->left_out;
}

/* Filters and event types into rodata; programs of unwanted types are not
 * loaded at all. Between open and load: the load freezes both. */
/* Whether tcp:tcp_retransmit_skb passes an error (sk, skb, err): since
 * Linux 6.14 (or so) it also fires for attempts that sent nothing (-EBUSY:
 * the original still in a queue below, -EAGAIN, -ENOMEM). Older kernels
 * pass (sk, skb) and fire for sent skbs only; the program must not read a
 * third argument there (the attach would fail). From the kernel's BTF:
 * btf_trace_tcp_retransmit_skb is a pointer to (void *, sk, skb[, err]). */
static bool retransmit_has_err(const struct probe *p)
{
	struct btf *btf = kernel_btf(p);
	const struct btf_type *t;
	bool has = false;
	int id;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, "btf_trace_tcp_retransmit_skb", BTF_KIND_TYPEDEF);
	t = id >= 0 ? btf__type_by_id(btf, (unsigned)id) : NULL;
	if (t)
		t = btf__type_by_id(btf, t->type);
	if (t && btf_is_ptr(t))
		t = btf__type_by_id(btf, t->type);
	if (t && btf_is_func_proto(t) && btf_vlen(t) == 4) {
		const struct btf_param *prm = btf_params(t);
		const struct btf_type *a = btf__type_by_id(btf, prm[3].type);

		has = a && btf_is_int(a);
	}
	btf__free(btf);
	return has;
}

static void configure(struct probe *p, const struct probe_config *cfg, uint32_t mask)
{
	struct ebpfdump_bpf__rodata *ro = p->skel->rodata;
	struct bpf_program *prog;
	bool leader;

	ro->event_mask = mask;
	ro->retransmit_has_err = (mask & (1u << EVENT_TCP_RETRANSMIT)) && retransmit_has_err(p);
	bpf_object__for_each_program(prog, p->skel->obj)
	{
		uint32_t types = prog_event_types(p, prog, &leader);

		if (types && !(mask & types))
			bpf_program__set_autoload(prog, false);
		/* One tier of hooks: fexit programs, or the raw system-call
		 * hooks and the UDP tracepoints. */
		if (other_tier_prog(p, prog))
			bpf_program__set_autoload(prog, false);
	}
	/* The sweep at the stop (probe_detach) finds missed closes, with a
	 * helper of Linux 5.13; without it those stay uncounted. */
	p->sweep = (mask & (1u << EVENT_TCP_CLOSE)) &&
		   libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT,
					   BPF_FUNC_for_each_map_elem, NULL) > 0;
	bpf_program__set_autoload(p->skel->progs.ebd_sweep, p->sweep);
	if (!p->sweep && (mask & (1u << EVENT_TCP_CLOSE)))
		probe_debug("probe: this kernel has no bpf_for_each_map_elem (Linux 5.13): TCP "
			    "closes missed near the stop are not counted");
	if (!cfg)
		return;
	ro->filter_pid = cfg->filter.pid;
	ro->filter_pid_tree = cfg->filter.pid_tree;
	ro->filter_uid_set = cfg->filter.match_uid;
	ro->filter_uid = cfg->filter.uid;
	ro->filter_comm_set = cfg->filter.comm[0] != '\0';
	memcpy((char *)ro->filter_comm, cfg->filter.comm, sizeof(ro->filter_comm));
	ro->filter_cgroup_id = cfg->filter.cgroup_id;
	ro->filter_netns = cfg->filter.netns;
	ro->filter_process = cfg->filter.pid || cfg->filter.match_uid || cfg->filter.comm[0] ||
			     cfg->filter.cgroup_id;
}

static int marks_init(struct flow_marks *m, uint32_t flows)
{
	uint32_t size = 1;

	while (size < 2 * flows)
		size <<= 1;
	m->slot = calloc(size, sizeof(*m->slot));
	if (!m->slot)
		return -ENOMEM;
	m->mask = size - 1;
	m->count = 0;
	return 0;
}

static uint32_t marks_hash(const struct ebpfdump_udp_key *k)
{
	return (uint32_t)hash_bytes(0, k, sizeof(*k));
}

/* The slot for key k: its mark, or the empty slot where it would go. */
static struct flow_mark *marks_slot(struct flow_marks *m, const struct ebpfdump_udp_key *k)
{
	uint32_t i = marks_hash(k) & m->mask;

	while (m->slot[i].used && memcmp(&m->slot[i].key, k, sizeof(*k)) != 0)
		i = (i + 1) & m->mask;
	return &m->slot[i];
}

static void marks_clear(struct flow_marks *m)
{
	memset(m->slot, 0, ((size_t)m->mask + 1) * sizeof(*m->slot));
	m->count = 0;
}

/* Half full at most: the kernel table holds at most half as many flows. */
static struct flow_mark *marks_add(struct flow_marks *m, const struct flow_mark *mark)
{
	struct flow_mark *slot = marks_slot(m, &mark->key);

	if (slot->used)
		return slot;
	if (m->count >= (m->mask + 1) / 2)
		return NULL;
	*slot = *mark;
	slot->used = true;
	slot->visited = false;
	m->count++;
	return slot;
}

static int alloc_tables(struct probe *p)
{
	size_t value = sizeof(struct ebpfdump_udp_flow);

	if (value < sizeof(struct ebpfdump_udp_key))
		value = sizeof(struct ebpfdump_udp_key);
	p->walk_keys = calloc(WALK_CHUNK, sizeof(struct ebpfdump_udp_key));
	p->walk_values = calloc(WALK_CHUNK, value);
	p->percpu = calloc((size_t)p->ncpus, sizeof(*p->percpu));
	p->procs = calloc(PROC_SLOTS, sizeof(*p->procs));
	if (!p->walk_keys || !p->walk_values || !p->percpu || !p->procs)
		return -ENOMEM;
	if (marks_init(&p->marks, p->udp_flows_max) < 0 ||
	    marks_init(&p->next_marks, p->udp_flows_max) < 0)
		return -ENOMEM;
	return 0;
}

/* Where the syscalls' tracepoints are listed, NULL when tracefs is not
 * mounted (libbpf reads a tracepoint's id there to attach to it). */
static const char *tracefs_path(void)
{
	static const char *const paths[] = { "/sys/kernel/tracing/events/syscalls",
					     "/sys/kernel/debug/tracing/events/syscalls" };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], F_OK) == 0)
			return paths[i];
	return NULL;
}

/* Open the object for p->tier and configure it (rodata, map sizes): what
 * goes in between open and load. "All types" (no mask, or every type the
 * kernel side has) means all this kernel can observe; a list that names a
 * type it cannot fails. */
static int open_tier(struct probe *p, const struct probe_config *cfg, enum probe_hooks hooks,
		     const struct probe_sizes *z, uint32_t *ret_mask, bool *ret_implicit, char *tp,
		     size_t tp_len, char *errbuf, size_t errlen)
{
	uint32_t mask, missing;
	bool implicit;
	int r;

	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = p->btf_path);

	p->skel = ebpfdump_bpf__open_opts(&opts);
	if (!p->skel) {
		r = -errno;
		return error_set(errbuf, errlen, r ? r : -EINVAL, "cannot open the embedded BPF object: %s",
			    strerror(r ? -r : EINVAL));
	}
	mask = cfg && cfg->event_mask ? cfg->event_mask : UINT32_MAX;
	implicit = (mask & PROBE_KERNEL_TYPES) == PROBE_KERNEL_TYPES;
	verdict[0] = '\0';
	missing = unobservable_types(p, tp, tp_len) & mask;
	if (p->fentry)
		missing &= ~UDP_TYPES; /* fexit on udp(v6)_sendmsg/recvmsg */
	p->left_out = 0;
	if (missing) {
		char names[160];
		const char *fexit = hooks == PROBE_HOOKS_RAW	    ? " (--hooks raw)"
				    : hooks == PROBE_HOOKS_TRACEPOINT ? " (--hooks tracepoint)"
								      : " and refused fexit programs";

		type_names(missing & PROBE_KERNEL_TYPES, names, sizeof(names));
		if (!implicit)
			return error_set(errbuf, errlen, -EOPNOTSUPP,
				    "this kernel cannot observe %s: it has no %s tracepoint (Linux "
				    "6.3 and later have it)%s; leave %s out of --events",
				    names, tp, fexit, names);
		p->left_out = missing & PROBE_KERNEL_TYPES;
		snprintf(p->left_out_why, sizeof(p->left_out_why),
			 "%s left out: this kernel has no %s tracepoint (Linux 6.3 and later have "
			 "it)%s",
			 names, tp, fexit);
		mask &= ~missing;
	}
	configure(p, cfg, mask);
	p->skel->rodata->wakeup_bytes = cfg && cfg->batch_wakeups ? z->ringbuf / 8 : 0;
	r = bpf_map__set_max_entries(p->skel->maps.events, z->ringbuf);
	if (r == 0)
		r = bpf_map__set_max_entries(p->skel->maps.sockets, z->sockets);
	if (r == 0)
		r = bpf_map__set_max_entries(p->skel->maps.udp_flows, z->udp_flows);
	if (r < 0)
		return error_set(errbuf, errlen, r, "cannot size the BPF maps: %s", strerror(-r));
	*ret_mask = mask;
	*ret_implicit = implicit;
	return 0;
}

/* Whether the kernel's own BTF is there and readable: fexit programs
 * need it, whatever --btf says. */
static bool kernel_own_btf(void)
{
	struct btf *btf = btf__parse(KERNEL_BTF_PATH, NULL);

	btf__free(btf);
	return btf != NULL;
}

/* CO-RE needs the kernel's types: from path (--btf) or the kernel. */
static int check_btf(const char *path, bool own, char *errbuf, size_t errlen)
{
	struct btf *btf;
	char why[128];
	int r;

	if (path) {
		btf = btf__parse(path, NULL);
		r = btf ? 0 : -errno;
		btf__free(btf);
		if (r == 0)
			return 0;
		libbpf_strerror(r, why, sizeof(why));
		return error_set(errbuf, errlen, r,
			    "cannot read BTF from --btf %s: %s (give a vmlinux with BTF or a "
			    ".btf file made for this kernel)",
			    path, why);
	}
	if (own)
		return 0;
	/* libbpf also looks for a vmlinux with BTF in /boot and
	 * /usr/lib/debug; one there serves too. */
	btf = btf__load_vmlinux_btf();
	btf__free(btf);
	if (btf)
		return 0;
	return error_set(errbuf, errlen, -ENOENT,
		    "this kernel has no BTF (" KERNEL_BTF_PATH " missing or unreadable): ebpfdump "
		    "needs a kernel built with CONFIG_DEBUG_INFO_BTF=y, or the kernel's BTF in a "
		    "file given with --btf FILE (e.g. from BTFHub)");
}

int probe_open(const struct probe_config *cfg, probe_event_fn fn, void *ctx, struct probe **ret,
	       char *errbuf, size_t errlen)
{
	struct probe *p = NULL;
	struct probe_sizes z = { 0 };
	uint32_t mask = 0;
	enum probe_hooks hooks;
	bool implicit = false, own_btf;
	char tp[64] = "";
	int r;

	if (!ret)
		return error_set(errbuf, errlen, -EINVAL, "internal error: no place for the probe");
	r = check_config(cfg, &z, errbuf, errlen);
	if (r < 0)
		return r;
	/* Without our hook libbpf would print to stderr itself. */
	libbpf_set_print(libbpf_print);

	own_btf = kernel_own_btf();
	r = check_btf(cfg && cfg->btf_path ? cfg->btf_path : NULL, own_btf, errbuf, errlen);
	if (r < 0)
		return r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return error_set(errbuf, errlen, -ENOMEM, "out of memory");
	p->fn = fn;
	p->ctx = ctx;
	if (cfg && cfg->btf_path && !(p->btf_path = strdup(cfg->btf_path))) {
		r = error_set(errbuf, errlen, -ENOMEM, "out of memory");
		goto err;
	}
	p->sockets_max = z.sockets;
	p->udp_flows_max = z.udp_flows;
	p->udp_interval_ns = (uint64_t)z.udp_interval_ms * 1000000;
	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0) {
		r = error_set(errbuf, errlen, p->ncpus < 0 ? p->ncpus : -EINVAL,
			 "cannot read the number of possible CPUs from /sys");
		goto err;
	}
	if (alloc_tables(p) < 0) {
		r = error_set(errbuf, errlen, -ENOMEM, "out of memory");
		goto err;
	}

	/* Hook tiers, cheapest first (docs/kernel-side.md): fexit programs
	 * where the kernel runs them, else the syscalls' own tracepoints
	 * where tracefs is mounted, else the raw system-call hooks. "auto"
	 * tries them in that order; a forced tier is the only one tried. */
	hooks = cfg ? cfg->hooks : PROBE_HOOKS_AUTO;
	{
		static const enum probe_hooks order[] = { PROBE_HOOKS_FENTRY, PROBE_HOOKS_TRACEPOINT,
							  PROBE_HOOKS_RAW };
		unsigned first = 0, end = 3;

		if (hooks != PROBE_HOOKS_AUTO) {
			first = hooks == PROBE_HOOKS_FENTRY ? 0 : hooks == PROBE_HOOKS_TRACEPOINT ? 1 : 2;
			end = first + 1;
		}
		for (unsigned i = first; i < end; i++) {
			bool last = i + 1 == end;

			p->tier = order[i];
			p->fentry = p->tier == PROBE_HOOKS_FENTRY;
			/* fexit programs attach to the kernel's functions by the
			 * kernel's own BTF ids: a --btf file cannot stand in. */
			if (p->fentry && !own_btf) {
				if (last) {
					r = error_set(errbuf, errlen, -ENOENT,
						 "--hooks fentry needs the kernel's own BTF (" KERNEL_BTF_PATH
						 " is missing or unreadable); use --hooks auto");
					goto err;
				}
				probe_debug("probe: no " KERNEL_BTF_PATH ": no fentry tier");
				continue;
			}
			if (p->tier == PROBE_HOOKS_TRACEPOINT && !tracefs_path()) {
				if (last) {
					r = error_set(errbuf, errlen, -ENOENT,
						 "--hooks tracepoint needs tracefs, which is not mounted "
						 "(mount -t tracefs nodev /sys/kernel/tracing), or use "
						 "--hooks auto");
					goto err;
				}
				probe_debug("probe: tracefs is not mounted: no tracepoint tier");
				continue;
			}
			r = open_tier(p, cfg, hooks, &z, &mask, &implicit, tp, sizeof(tp), errbuf, errlen);
			if (r < 0)
				goto err;
			r = ebpfdump_bpf__load(p->skel);
			if (r < 0 && last && p->fentry) {
				r = error_set(errbuf, errlen, r,
					 "the kernel refused the fexit programs of --hooks fentry "
					 "(%s%s%s): use --hooks auto, tracepoint or raw",
					 strerror(-r), verdict[0] ? ": " : "", verdict);
				goto err;
			}
			if (r < 0 && last) {
				r = load_error(r, errbuf, errlen);
				goto err;
			}
			if (r == 0) {
				probe_debug("probe: loaded (%s hooks, event mask 0x%x, ring buffer %u "
					    "bytes, %u sockets, %u UDP flows reported every %u ms)",
					    probe_hooks_name(p), mask, z.ringbuf, z.sockets,
					    z.udp_flows, z.udp_interval_ms);
				r = attach_all(p, implicit, errbuf, errlen);
				if (r == 0)
					break;
				if (last)
					goto err;
			}
			probe_debug("probe: the kernel refused the %s tier (%s%s%s): the next one",
				    probe_hooks_name(p), strerror(-r), verdict[0] ? ": " : "",
				    verdict);
			probe_detach(p);
			p->n_progs = 0;
			ebpfdump_bpf__destroy(p->skel);
			p->skel = NULL;
		}
	}
	if (p->tier == PROBE_HOOKS_RAW)
		probe_debug("probe: raw system-call hooks: a program runs at every system call's "
			    "entry and exit (the last resort: fexit refused, tracefs not mounted)");

	p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.events), handle_record, p, NULL);
	if (!p->rb) {
		r = -errno;
		r = error_set(errbuf, errlen, r ? r : -ENOMEM, "cannot map the BPF ring buffer: %s",
			 strerror(r ? -r : ENOMEM));
		goto err;
	}
	p->boot_to_real_ns = clock_boot_to_realtime_ns();
	*ret = p;
	return 0;
err:
	probe_free(p);
	return r;
}

int probe_fd(const struct probe *p)
{
	return p && p->rb ? ring_buffer__epoll_fd(p->rb) : -EBADF;
}

int probe_consume(struct probe *p)
{
	int r;

	if (!p || !p->rb)
		return -EBADF;
	p->handled = 0;
	r = ring_buffer__consume(p->rb);
	if (r < 0)
		return r;
	return p->handled;
}

/* Calls fn for every entry of a kernel hash map, WALK_CHUNK at a time
 * (BPF_MAP_LOOKUP_BATCH, Linux 5.6), else key by key. Entries may come
 * and go meanwhile: each present throughout is seen once. Returns 0 or a
 * negative errno; fn's error stops the walk. */
static int map_walk(struct probe *p, struct bpf_map *map,
		    int (*fn)(struct probe *p, const void *key, const void *value))
{
	size_t ksize = bpf_map__key_size(map), vsize = bpf_map__value_size(map);
	uint32_t capacity = bpf_map__max_entries(map), in_batch = 0, out_batch = 0, n;
	int fd = bpf_map__fd(map), r;
	void *in = NULL;
	char *key = p->walk_keys, *value = p->walk_values;
	unsigned char prev[sizeof(struct ebpfdump_udp_key)];
	bool first = true;

	if (ksize > sizeof(prev) || vsize > sizeof(struct ebpfdump_udp_flow))
		return -E2BIG;
	for (;;) {
		n = WALK_CHUNK;
		r = bpf_map_lookup_batch(fd, in, &out_batch, key, value, &n, NULL);
		if (r < 0 && r != -ENOENT) {
			if (!in && (r == -EINVAL || r == -EOPNOTSUPP || r == -524 /* ENOTSUPP */))
				break; /* no batch support: key by key below */
			return r;
		}
		for (uint32_t i = 0; i < n; i++) {
			int e = fn(p, key + i * ksize, value + i * vsize);

			if (e < 0)
				return e;
		}
		if (r == -ENOENT)
			return 0;
		in_batch = out_batch;
		in = &in_batch;
	}

	/* get_next_key restarts from the first key when the current one
	 * was deleted meanwhile: bound the steps. */
	for (uint64_t steps = 0; steps < 2 * (uint64_t)capacity + 16; steps++) {
		r = bpf_map_get_next_key(fd, first ? NULL : prev, key);
		if (r == -ENOENT)
			return 0;
		if (r < 0)
			return r;
		memcpy(prev, key, ksize);
		first = false;
		if (bpf_map_lookup_elem(fd, key, value) < 0)
			continue;
		r = fn(p, key, value);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The record the kernel would have written for these counts of a flow. */
static void flow_record(const struct ebpfdump_udp_key *k, const struct ebpfdump_udp_flow *f,
			uint64_t ts_ns, uint64_t packets, uint64_t bytes,
			struct ebpfdump_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->type = k->dir == EBPFDUMP_UDP_SEND ? EBPFDUMP_EV_UDP_SEND : EBPFDUMP_EV_UDP_RECV;
	rec->flags = f->flags | EBPFDUMP_F_COUNTS | (k->flags & EBPFDUMP_F_NO_PEER);
	rec->family = k->family;
	rec->proto = IPPROTO_UDP;
	rec->lport = k->lport;
	rec->rport = k->rport;
	rec->netns = k->netns;
	rec->ts_ns = ts_ns;
	rec->sock_cookie = f->sock_cookie;
	rec->ifindex = f->ifindex;
	rec->packets = packets;
	rec->bytes = bytes;
	memcpy(rec->laddr, k->laddr, sizeof(rec->laddr));
	memcpy(rec->raddr, k->raddr, sizeof(rec->raddr));
	memcpy(rec->ifname, f->ifname, sizeof(rec->ifname));
	rec->owner = f->owner;
}

/* One kernel flow: report what it counted since our last report (or since
 * the kernel's own first record), when its interval is over. */
static int flush_flow(struct probe *p, const void *key, const void *value)
{
	const struct ebpfdump_udp_key *k = key;
	const struct ebpfdump_udp_flow *f = value;
	struct flow_mark *old, mark = { .key = *k, .birth_ns = f->birth_ns };
	struct ebpfdump_record rec;
	uint64_t packets, bytes, now;

	if (marks_slot(&p->next_marks, k)->used)
		return 0; /* seen already in this walk */
	old = marks_slot(&p->marks, k);
	if (old->used)
		old->visited = true;
	if (old->used && old->birth_ns == f->birth_ns) {
		mark = *old;
	} else if (f->inline_packets || f->inline_bytes) {
		/* A new flow (or a new one under an old key): the kernel
		 * reported its first datagram itself. */
		mark.last_report_ns = f->birth_ns;
	}
	packets = f->packets - f->inline_packets - mark.reported_packets;
	bytes = f->bytes - f->inline_bytes - mark.reported_bytes;
	/* The clock is read after the counts were copied, so the record is
	 * stamped no earlier than any datagram it counts: a flow born while
	 * the walk was under way (the walk can be preempted for
	 * milliseconds) is not stamped before its own first record. */
	now = clock_ns(CLOCK_BOOTTIME);
	if ((packets || bytes) && !p->flush_error &&
	    (p->flush_all || !mark.last_report_ns ||
	     (now > mark.last_report_ns && now - mark.last_report_ns >= p->udp_interval_ns))) {
		flow_record(k, f, now, packets, bytes, &rec);
		mark.reported_packets += packets;
		mark.reported_bytes += bytes;
		mark.last_report_ns = now;
		p->flush_events++;
		p->flush_error = deliver(p, &rec);
	}
	/* Never full (twice the kernel's capacity); if it were, the flow
	 * would be reported again from its birth: fail loudly instead. */
	return marks_add(&p->next_marks, &mark) ? 0 : -ENOSPC;
}

int probe_flush(struct probe *p, bool all)
{
	struct flow_marks swap;
	int r;

	if (!p || !p->skel)
		return -EBADF;
	/* Records already in the ring first: a flow's first datagram, sent
	 * inline by the kernel, must come before the counts reported here
	 * (with batched wake-ups the ring may wait up to a tick). */
	if (p->rb)
		ring_buffer__consume(p->rb);
	p->flush_all = all;
	p->flush_events = 0;
	p->flush_error = 0;
	p->handled = 0;
	marks_clear(&p->next_marks);
	r = map_walk(p, p->skel->maps.udp_flows, flush_flow);
	if (r < 0) {
		/* An incomplete walk: keep what we knew of the flows not
		 * reached, so that nothing is reported twice later. */
		for (uint32_t i = 0; i <= p->marks.mask; i++)
			if (p->marks.slot[i].used && !p->marks.slot[i].visited)
				marks_add(&p->next_marks, &p->marks.slot[i]);
	}
	swap = p->marks;
	p->marks = p->next_marks;
	p->next_marks = swap;
	if (p->flush_error < 0)
		return p->flush_error;
	return r < 0 ? r : p->flush_events;
}

static void *destroy_link(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

static int sum_counters(const struct probe *p, struct ebpfdump_counters *ret);

/* ebd_sweep, once: it must run while the state programs are still
 * attached, or every close after their detach would look missed. */
static void sweep(struct probe *p)
{
	struct ebpfdump_counters before, after;
	uint64_t args[1] = { 0 }, t0;
	int r;

	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));

	if (!p->sweep || !p->n_links)
		return;
	if (sum_counters(p, &before) < 0)
		memset(&before, 0, sizeof(before));
	t0 = clock_ns(CLOCK_MONOTONIC);
	r = bpf_prog_test_run_opts(bpf_program__fd(p->skel->progs.ebd_sweep), &opts);
	if (r < 0) {
		probe_debug("probe: the sweep for missed TCP closes did not run (%s): those are "
			    "not counted",
			    strerror(errno));
		return;
	}
	t0 = clock_ns(CLOCK_MONOTONIC) - t0;
	if (sum_counters(p, &after) < 0)
		after = before;
	probe_debug("probe: swept the sockets table in %llu us: %llu missed TCP closes found "
		    "(%llu found before, as their memory was used again), %llu missed connects",
		    (unsigned long long)t0 / 1000,
		    (unsigned long long)(after.missed_closes - before.missed_closes),
		    (unsigned long long)before.missed_closes,
		    (unsigned long long)(after.missed_connects - before.missed_connects));
}

/* Events that went out without their process's strings (exe, command
 * line, cgroup name; user space read /proc for them instead): said when
 * there were any. */
static void report_procs(struct probe *p)
{
	struct ebpfdump_counters c;

	if (sum_counters(p, &c) < 0)
		memset(&c, 0, sizeof(c));
	if (p->procs_missing || c.proc_dropped)
		probe_debug("probe: %llu TCP records named process strings no longer kept, "
			    "%llu processes' strings found the ring full: their events took "
			    "exe, cmdline and cgroup from /proc",
			    (unsigned long long)p->procs_missing,
			    (unsigned long long)c.proc_dropped);
}

int probe_detach(struct probe *p)
{
	pthread_t threads[PROBE_PROGS_MAX];
	bool started[PROBE_PROGS_MAX] = { false };

	if (!p)
		return -EBADF;
	sweep(p);
	if (p->n_links)
		report_procs(p);
	/* Each syscalls:* tracepoint waits for an RCU grace period when its
	 * last program leaves (about 50 ms): one thread per link lets those
	 * waits overlap. Raw tracepoints and fexit links leave at once. */
	for (unsigned i = 0; i < p->n_links; i++)
		started[i] = p->tier == PROBE_HOOKS_TRACEPOINT &&
			     pthread_create(&threads[i], NULL, destroy_link, p->links[i]) == 0;
	for (unsigned i = 0; i < p->n_links; i++) {
		if (started[i])
			pthread_join(threads[i], NULL);
		else
			bpf_link__destroy(p->links[i]);
	}
	p->n_links = 0;
	return 0;
}

/* The per-CPU counters summed. */
static int sum_counters(const struct probe *p, struct ebpfdump_counters *ret)
{
	uint32_t zero = 0;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!p->skel || !p->percpu)
		return -EBADF;
	r = bpf_map__lookup_elem(p->skel->maps.counters, &zero, sizeof(zero), p->percpu,
				 sizeof(*p->percpu) * (size_t)p->ncpus, 0);
	if (r < 0)
		return r;
	for (int i = 0; i < p->ncpus; i++) {
		const struct ebpfdump_counters *c = &p->percpu[i];

		ret->dropped += c->dropped;
		for (int t = 0; t < EBPFDUMP_EV_SLOTS; t++)
			ret->dropped_type[t] += c->dropped_type[t];
		ret->seen += c->seen;
		ret->filtered += c->filtered;
		ret->sock_inserts += c->sock_inserts;
		ret->sock_deletes += c->sock_deletes;
		ret->sock_failed += c->sock_failed;
		ret->udp_inserts += c->udp_inserts;
		ret->udp_failed += c->udp_failed;
		ret->udp_lost_packets += c->udp_lost_packets;
		ret->udp_no_peer += c->udp_no_peer;
		ret->missed_retransmits += c->missed_retransmits;
		ret->missed_closes += c->missed_closes;
		ret->missed_connects += c->missed_connects;
	}
	return 0;
}

void probe_stats(const struct probe *p, struct probe_stats *ret)
{
	struct ebpfdump_counters c;

	if (!ret)
		return;
	memset(ret, 0, sizeof(*ret));
	if (!p)
		return;
	ret->delivered = p->delivered;
	if (sum_counters(p, &c) == 0) {
		ret->dropped = c.dropped;
		for (int t = 0; t < PROBE_TYPE_SLOTS; t++)
			ret->dropped_by_type[t] = c.dropped_type[t];
		ret->seen = c.seen;
		ret->filtered = c.filtered;
		ret->udp_lost = c.udp_lost_packets;
		ret->udp_no_peer = c.udp_no_peer;
		ret->missed_retransmits = c.missed_retransmits;
		ret->missed_closes = c.missed_closes;
		ret->missed_connects = c.missed_connects;
		ret->missed = c.missed_retransmits + c.missed_closes + c.missed_connects;
	}

	for (unsigned i = 0; i < p->n_progs; i++) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);

		if (!misses_lose_events(p, p->progs[i]))
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(bpf_program__fd(p->progs[i]), &info, &len) == 0)
			ret->missed += info.recursion_misses;
	}
}

void probe_log_programs(const struct probe *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->n_progs; i++) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(bpf_program__fd(p->progs[i]), &info, &len) < 0)
			continue;
		probe_debug("probe: %s: %llu runs (counted while kernel.bpf_stats_enabled=1), %llu "
			    "skipped by the kernel (already running on that CPU)%s",
			    bpf_program__name(p->progs[i]), (unsigned long long)info.run_cnt,
			    (unsigned long long)info.recursion_misses,
			    misses_lose_events(p, p->progs[i]) ? "" : ", covered by another program");
	}
}

static int count_entry(struct probe *p, const void *key, const void *value)
{
	(void)key;
	(void)value;
	p->walk_count++;
	return 0;
}

static int table_usage(struct probe *p, struct bpf_map *map, uint64_t inserted,
		       uint64_t deleted, uint64_t failed, struct probe_table_usage *ret)
{
	int r;

	p->walk_count = 0;
	r = map_walk(p, map, count_entry);
	if (r < 0)
		return r;
	ret->capacity = bpf_map__max_entries(map);
	ret->used = (uint32_t)p->walk_count;
	ret->inserted = inserted;
	ret->failed = failed;
	/* Entries inserted during the walk can make this briefly negative. */
	ret->evicted = inserted > deleted + ret->used ? inserted - deleted - ret->used : 0;
	return 0;
}

int probe_map_usage(struct probe *p, struct probe_map_usage *ret)
{
	struct ebpfdump_counters c;
	struct probe_map_usage u;
	int r;

	if (!p || !ret)
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	r = sum_counters(p, &c);
	if (r == 0)
		r = table_usage(p, p->skel->maps.sockets, c.sock_inserts, c.sock_deletes,
				c.sock_failed, &u.sockets);
	if (r == 0)
		r = table_usage(p, p->skel->maps.udp_flows, c.udp_inserts, 0, c.udp_failed,
				&u.udp_flows);
	if (r < 0)
		return r;
	*ret = u;
	return 0;
}

struct probe *probe_free(struct probe *p)
{
	if (!p)
		return NULL;
	ring_buffer__free(p->rb);
	/* Links first, so nothing fires into maps that are going away. */
	probe_detach(p);
	ebpfdump_bpf__destroy(p->skel);
	free(p->percpu);
	free(p->procs);
	free(p->walk_keys);
	free(p->walk_values);
	free(p->marks.slot);
	free(p->next_marks.slot);
	free(p->btf_path);
	free(p);
	return NULL;
}
