/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The record tls.bpf.c hands to user space for one TLS read or write: who
 * (pid, tid, comm, cgroup), which connection (the socket the same thread
 * used inside the call), and the plaintext, cut at TLS_DATA_MAX bytes.
 * Shared by the BPF object and tls/tls_probe.c; native byte order except
 * the addresses (network order) and ports (host order).
 */
#ifndef EBPFDUMP_TLS_EVENT_H
#define EBPFDUMP_TLS_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Plaintext bytes copied per call; the rest is counted (orig_len). A TLS
 * record carries at most 16 KiB, so an HTTP header block is whole. */
#define TLS_DATA_MAX 16384
#define TLS_COMM_LEN 16

enum tls_dir {
	TLS_DIR_WRITE = 0, /* the process sent data (SSL_write*, gnutls_record_send) */
	TLS_DIR_READ = 1,  /* the process received data (SSL_read*, gnutls_record_recv) */
};

/* What a ring-buffer record is: its first field. */
enum tls_kind {
	TLS_KIND_DATA = 1, /* struct tls_record */
	TLS_KIND_KEY = 2,  /* struct tls_key_record */
	TLS_KIND_EXEC = 3, /* struct tls_exec_record */
};

struct tls_record {
	__u32 kind; /* TLS_KIND_DATA */
	__u32 pad;
	__u64 ts_ns; /* CLOCK_BOOTTIME at the call's return */
	__u64 cgroup_id;
	__u32 pid, tid;
	__u32 len;	/* bytes in data */
	__u32 orig_len; /* bytes the call moved (len < orig_len: cut) */
	__s32 fd;	/* socket fd used inside the call, -1 unknown */
	__u8 dir;	/* enum tls_dir */
	__u8 family;	/* 0 (connection unknown), 2 (AF_INET), 10 (AF_INET6) */
	__u16 lport, rport;
	__u8 laddr[16], raddr[16];
	char comm[TLS_COMM_LEN];
	__u8 data[TLS_DATA_MAX];
};

/* Go's crypto/tls key-log line (NSS key log format): label, client random,
 * secret, as (*Config).writeKeyLog receives them. */
#define TLS_KEY_LABEL_MAX 64 /* longer labels are skipped (longest: 31) */
#define TLS_KEY_RANDOM_LEN 32
#define TLS_KEY_SECRET_MAX 64

struct tls_key_record {
	__u32 kind; /* TLS_KIND_KEY */
	__u32 pid;
	__u64 ts_ns;
	__u32 label_len, secret_len; /* label_len 0: unreadable */
	char label[TLS_KEY_LABEL_MAX];
	__u8 random[TLS_KEY_RANDOM_LEN];
	__u8 secret[TLS_KEY_SECRET_MAX];
};

/* A process executed a new program: user space looks for Go's crypto/tls
 * in it. */
struct tls_exec_record {
	__u32 kind; /* TLS_KIND_EXEC */
	__u32 pid;
};

#define TLS_RECORD_HEAD_LEN __builtin_offsetof(struct tls_record, data)

#endif
