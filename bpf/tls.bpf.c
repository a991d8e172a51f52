/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TLS plaintext from uprobes on the exported read/write functions of TLS
 * libraries (OpenSSL's SSL_write, SSL_read, SSL_write_ex, SSL_read_ex;
 * GnuTLS's gnutls_record_send and gnutls_record_recv), loaded only with
 * --tls (docs/tls.md).
 *
 * No private library struct is read. The entry probe remembers the buffer
 * for the thread; a raw tracepoint on sys_enter notes the socket fd the
 * same thread reads or writes while inside the call; the return probe
 * copies the bytes the call moved (bounded) and resolves the fd to its
 * 5-tuple through the kernel's own (CO-RE) file and socket structs. The
 * fd is also remembered per TLS session pointer, for reads served from
 * the library's buffer without a system call.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "tls_event.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10

#if defined(__TARGET_ARCH_x86)
#define NR_READ 0
#define NR_WRITE 1
#define NR_SENDTO 44
#define NR_RECVFROM 45
#define NR_SENDMSG 46
#define NR_RECVMSG 47
#elif defined(__TARGET_ARCH_arm64)
#define NR_READ 63
#define NR_WRITE 64
#define NR_SENDTO 206
#define NR_RECVFROM 207
#define NR_SENDMSG 211
#define NR_RECVMSG 212
#else
#error "system call numbers of this architecture are not known to tls.bpf.c"
#endif

/* Only this process (thread-group id), 0: any. Set before load. */
const volatile __u32 filter_pid = 0;

/* Ring buffer size, and the unread bytes at which a record wakes the
 * reader; below that user space consumes on its timer tick (ebpfdump's
 * PROBE_TICK_NS): a wake-up per call would cost a context switch each. */
#define TLS_RING_BYTES (8 << 20)
#define TLS_WAKEUP_BYTES (TLS_RING_BYTES / 8)

struct call {
	__u64 session; /* SSL * or gnutls_session_t: a key, never read */
	__u64 buf;
	__u64 out_len; /* size_t * of the _ex variants, 0 otherwise */
	__s32 fd;
	__u8 dir;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, TLS_RING_BYTES);
} tls_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tid */
	__type(value, struct call);
} tls_calls SEC(".maps");

struct session_key {
	__u64 session;
	__u32 pid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct session_key);
	__type(value, __s32); /* last socket fd seen inside a call on it */
} tls_session_fds SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tls_record);
} tls_scratch SEC(".maps");

/* Counters: 0 records lost (ring full), 1 records cut, 2 copy faults. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} tls_counters SEC(".maps");

static __always_inline void count(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&tls_counters, &i);

	if (v)
		(*v)++;
}

static __always_inline int call_enter(__u64 session, __u64 buf, __u64 out_len, __u8 dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct call c = {.session = session, .buf = buf, .out_len = out_len, .fd = -1, .dir = dir};

	if (filter_pid && (__u32)(id >> 32) != filter_pid)
		return 0;
	bpf_map_update_elem(&tls_calls, &tid, &c, BPF_ANY);
	return 0;
}

/* The socket behind fd in the current task, or NULL: the file's
 * private_data is a struct socket only if that socket points back at the
 * file. */
static __always_inline struct sock *fd_sock(__s32 fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *file = NULL;
	struct socket *sock;

	if (fd < 0 || !fdt || (__u32)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock || BPF_CORE_READ(sock, file) != file)
		return NULL;
	return BPF_CORE_READ(sock, sk);
}

static __always_inline void fill_tuple(struct tls_record *r, __s32 fd)
{
	struct sock *sk = fd_sock(fd);
	__u16 family;

	r->family = 0;
	if (!sk)
		return;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	r->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	r->rport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == AF_INET) {
		__u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 d = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		__builtin_memcpy(r->laddr, &l, 4);
		__builtin_memcpy(r->raddr, &d, 4);
	} else if (family == AF_INET6) {
		BPF_CORE_READ_INTO(&r->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&r->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		return;
	}
	r->family = (__u8)family;
}

static __always_inline __u64 wakeup_flag(void)
{
	return bpf_ringbuf_query(&tls_events, BPF_RB_AVAIL_DATA) >= TLS_WAKEUP_BYTES
		   ? BPF_RB_FORCE_WAKEUP
		   : BPF_RB_NO_WAKEUP;
}

static __always_inline int call_return(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, zero = 0;
	__u64 n;
	struct session_key sk = {.pid = (__u32)(id >> 32)};
	struct call *c = bpf_map_lookup_elem(&tls_calls, &tid);
	struct tls_record *r;
	__u64 moved = 0;
	__s32 fd;

	if (!c)
		return 0;
	sk.session = c->session;
	if (c->out_len) {
		if (ret == 1)
			bpf_probe_read_user(&moved, sizeof(moved), (void *)c->out_len);
	} else if (ret > 0) {
		moved = (__u64)ret;
	}
	fd = c->fd;
	if (fd >= 0) {
		bpf_map_update_elem(&tls_session_fds, &sk, &fd, BPF_ANY);
	} else {
		__s32 *known = bpf_map_lookup_elem(&tls_session_fds, &sk);

		if (known)
			fd = *known;
	}
	r = bpf_map_lookup_elem(&tls_scratch, &zero);
	if (!r || !moved || moved > 0x7fffffff)
		goto out;
	r->kind = TLS_KIND_DATA;
	r->ts_ns = bpf_ktime_get_boot_ns();
	r->cgroup_id = bpf_get_current_cgroup_id();
	r->pid = sk.pid;
	r->tid = tid;
	r->dir = c->dir;
	r->fd = fd;
	r->orig_len = (__u32)moved;
	n = moved;
	if (n > TLS_DATA_MAX) {
		n = TLS_DATA_MAX;
		count(1);
	}
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	fill_tuple(r, fd);
	/* Two branches, each with a length the verifier can bound: a full
	 * buffer (a constant) or a masked shorter one. */
	r->len = (__u32)n;
	if (n >= TLS_DATA_MAX) {
		if (bpf_probe_read_user(r->data, TLS_DATA_MAX, (void *)c->buf)) {
			count(2);
			goto out;
		}
		if (bpf_ringbuf_output(&tls_events, r, sizeof(*r), wakeup_flag()))
			count(0);
	} else {
		/* In asm, so that the compiler cannot drop it as redundant. */
		asm volatile("%[n] &= %[m]" : [n] "+r"(n) : [m] "i"(TLS_DATA_MAX - 1));
		if (bpf_probe_read_user(r->data, n, (void *)c->buf)) {
			count(2);
			goto out;
		}
		if (bpf_ringbuf_output(&tls_events, r, TLS_RECORD_HEAD_LEN + n, wakeup_flag()))
			count(0);
	}
out:
	bpf_map_delete_elem(&tls_calls, &tid);
	return 0;
}

/* int SSL_write(SSL *, const void *, int); int SSL_read(SSL *, void *, int);
 * ssize_t gnutls_record_send/recv(gnutls_session_t, void *, size_t). */
SEC("uprobe")
int BPF_KPROBE(tls_write_enter, void *session, const void *buf)
{
	return call_enter((__u64)session, (__u64)buf, 0, TLS_DIR_WRITE);
}

SEC("uprobe")
int BPF_KPROBE(tls_read_enter, void *session, void *buf)
{
	return call_enter((__u64)session, (__u64)buf, 0, TLS_DIR_READ);
}

/* int SSL_write_ex(SSL *, const void *, size_t, size_t *written);
 * int SSL_read_ex(SSL *, void *, size_t, size_t *readbytes): 1 on success. */
SEC("uprobe")
int BPF_KPROBE(tls_write_ex_enter, void *session, const void *buf, __u64 num, __u64 *written)
{
	return call_enter((__u64)session, (__u64)buf, (__u64)written, TLS_DIR_WRITE);
}

SEC("uprobe")
int BPF_KPROBE(tls_read_ex_enter, void *session, void *buf, __u64 num, __u64 *readbytes)
{
	return call_enter((__u64)session, (__u64)buf, (__u64)readbytes, TLS_DIR_READ);
}

SEC("uretprobe")
int BPF_KRETPROBE(tls_return, long ret)
{
	return call_return(ret);
}

/* A thread inside a TLS call reads or writes a socket: note its fd. */
SEC("raw_tracepoint/sys_enter")
int tls_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long nr = (long)ctx->args[1];
	__u32 tid;
	struct call *c;

	switch (nr) {
	case NR_READ:
	case NR_WRITE:
	case NR_SENDTO:
	case NR_RECVFROM:
	case NR_SENDMSG:
	case NR_RECVMSG:
		break;
	default:
		return 0;
	}
	tid = (__u32)bpf_get_current_pid_tgid();
	c = bpf_map_lookup_elem(&tls_calls, &tid);
	if (!c)
		return 0;
	c->fd = (__s32)PT_REGS_PARM1_CORE_SYSCALL(regs);
	return 0;
}

/* ---- Go crypto/tls: the key-log writer ----------------------------------- */

/* func (c *Config) writeKeyLog(label string, clientRandom, secret []byte) error
 * is called for every secret, whether or not a KeyLogWriter is set. Go's
 * register ABI (Go 1.17+): receiver, label (ptr, len), clientRandom (ptr,
 * len, cap), secret (ptr, len, cap) in the integer argument registers. */
#if defined(__TARGET_ARCH_x86)
#define GO_ARG(ctx, i)                                                                             \
	((i) == 1   ? (ctx)->bx                                                                    \
	 : (i) == 2 ? (ctx)->cx                                                                    \
	 : (i) == 3 ? (ctx)->di                                                                    \
	 : (i) == 4 ? (ctx)->si                                                                    \
	 : (i) == 6 ? (ctx)->r9                                                                    \
		    : (ctx)->r10)
#else /* arm64: R0-R15 */
#define GO_ARG(ctx, i) ((ctx)->regs[(i)])
#endif

SEC("uprobe")
int go_keylog(struct pt_regs *ctx)
{
	__u64 label = GO_ARG(ctx, 1), label_len = GO_ARG(ctx, 2);
	__u64 rnd = GO_ARG(ctx, 3), rnd_len = GO_ARG(ctx, 4);
	__u64 secret = GO_ARG(ctx, 6), secret_len = GO_ARG(ctx, 7);
	struct tls_key_record *k;

	if (filter_pid && (__u32)(bpf_get_current_pid_tgid() >> 32) != filter_pid)
		return 0;
	if (!label_len || label_len >= TLS_KEY_LABEL_MAX || rnd_len != TLS_KEY_RANDOM_LEN ||
	    !secret_len || secret_len > TLS_KEY_SECRET_MAX)
		return 0;
	k = bpf_ringbuf_reserve(&tls_events, sizeof(*k), 0);
	if (!k) {
		count(0);
		return 0;
	}
	k->kind = TLS_KIND_KEY;
	k->pid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	k->ts_ns = bpf_ktime_get_boot_ns();
	k->label_len = (__u32)label_len;
	k->secret_len = (__u32)secret_len;
	/* Masks the verifier can see (the checks above already bound both). */
	asm volatile("%[n] &= %[m]" : [n] "+r"(label_len) : [m] "i"(TLS_KEY_LABEL_MAX - 1));
	if (secret_len < TLS_KEY_SECRET_MAX)
		asm volatile("%[n] &= %[m]"
			     : [n] "+r"(secret_len)
			     : [m] "i"(TLS_KEY_SECRET_MAX - 1));
	else
		secret_len = TLS_KEY_SECRET_MAX;
	if (bpf_probe_read_user(k->label, label_len, (void *)label) ||
	    bpf_probe_read_user(k->random, TLS_KEY_RANDOM_LEN, (void *)rnd) ||
	    bpf_probe_read_user(k->secret, secret_len, (void *)secret))
		k->label_len = 0;
	/* At once: the packets these secrets decrypt wait in the merge. */
	bpf_ringbuf_submit(k, BPF_RB_FORCE_WAKEUP);
	return 0;
}

/* A new program: user space attaches go_keylog if it is a Go program that
 * has crypto/tls (once per executable file). */
SEC("raw_tracepoint/sched_process_exec")
int tls_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct tls_exec_record *e;

	if (filter_pid)
		return 0;
	e = bpf_ringbuf_reserve(&tls_events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->kind = TLS_KIND_EXEC;
	e->pid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}
