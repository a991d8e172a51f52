/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Linux capabilities of the ebpfdump process: which ones each part needs,
 * a one-line message naming the missing ones and how to grant them, and
 * dropping what the capture loop no longer needs. Does not print.
 *
 * What needs what, measured as an unprivileged user with file capabilities
 * (Linux 6.18, libbpf 1.1; docs/user-guide.md, "Capabilities"):
 *   CAP_BPF, CAP_PERFMON   create maps, load programs, attach the raw
 *                          tracepoints (without them nothing loads)
 *   CAP_DAC_READ_SEARCH    container runtimes' state files under /run
 *                          (0700 root)
 *   CAP_SYS_ADMIN          libbpf 1.1 walks kernel module BTF at load
 *                          (BPF_BTF_GET_NEXT_ID needs it; libbpf 1.2 skips
 *                          that when not permitted); setns() into other
 *                          network namespaces for the socket snapshot
 *   CAP_SYS_PTRACE         /proc/PID/exe and /proc/PID/fd of other users'
 *                          processes: ebpf.exe, owners of sockets open at
 *                          start
 *   CAP_NET_RAW            packet capture (libpcap)
 *   CAP_NET_ADMIN          promiscuous mode
 * Docker's API socket is not a capability: it is mode 0660 root:docker, so
 * users of container names belong to group docker (granting
 * CAP_DAC_OVERRIDE for it would let ebpfdump write any file).
 *
 * Use (extcap/capture.c):
 *   r = privs_check(PRIVS_NEEDS_EVENTS, msg, sizeof(msg));   fatal: log msg
 *   if (privs_check(PRIVS_NEEDS_ATTRIBUTION, msg, sizeof(msg)) < 0)
 *           log_warn("%s", msg);                               degraded
 *   ... load, attach, open pcap handles, take the snapshot ...
 *   privs_drop_after_start(PRIVS_KEEP_DURING_LOOP, msg, sizeof(msg));
 */
#ifndef EBPFDUMP_PRIVS_H
#define EBPFDUMP_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Capabilities ebpfdump uses, as bits (Linux numbers exceed 32). */
enum privs_cap {
	PRIVS_CAP_BPF = 1u << 0,
	PRIVS_CAP_PERFMON = 1u << 1,
	PRIVS_CAP_DAC_READ_SEARCH = 1u << 2,
	PRIVS_CAP_SYS_ADMIN = 1u << 3,
	PRIVS_CAP_SYS_PTRACE = 1u << 4,
	PRIVS_CAP_NET_RAW = 1u << 5,
	PRIVS_CAP_NET_ADMIN = 1u << 6,
};

/* Without these the kernel probes do not load: a fatal error. */
#define PRIVS_NEEDS_EVENTS                                                                         \
	(PRIVS_CAP_BPF | PRIVS_CAP_PERFMON | PRIVS_CAP_DAC_READ_SEARCH | PRIVS_CAP_SYS_ADMIN)
/* Without these events still come, with fewer process details. */
#define PRIVS_NEEDS_ATTRIBUTION (PRIVS_CAP_SYS_PTRACE | PRIVS_CAP_SYS_ADMIN)
#define PRIVS_NEEDS_PACKETS PRIVS_CAP_NET_RAW
#define PRIVS_NEEDS_PROMISC (PRIVS_CAP_NET_RAW | PRIVS_CAP_NET_ADMIN)
/* Everything: what `cmake -DEBPFDUMP_SETCAP=ON` grants, and what messages
 * tell to grant (setcap replaces a file's whole set, so a message naming
 * only the missing ones would take the others away). */
#define PRIVS_ALL                                                                                  \
	(PRIVS_NEEDS_EVENTS | PRIVS_NEEDS_ATTRIBUTION | PRIVS_NEEDS_PACKETS | PRIVS_NEEDS_PROMISC)
/* Kept once everything is loaded and opened: CAP_SYS_PTRACE and
 * CAP_DAC_READ_SEARCH for enriching processes and containers that appear
 * during the capture, CAP_BPF because before Linux 6.5 every bpf() call,
 * even reading the drop counters, needs it when unprivileged BPF is
 * disabled (the default). CAP_SYS_ADMIN, CAP_PERFMON, CAP_NET_RAW and
 * CAP_NET_ADMIN go. */
#define PRIVS_KEEP_DURING_LOOP (PRIVS_CAP_BPF | PRIVS_CAP_SYS_PTRACE | PRIVS_CAP_DAC_READ_SEARCH)

/* Longest message written by these functions. */
#define PRIVS_MSG_MAX 512u

/* Raise every permitted capability into the effective set (a file granted
 * "+p" without "+e"), then check that each of needs is effective.
 * CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON, and
 * CAP_DAC_OVERRIDE for CAP_DAC_READ_SEARCH, as the kernel lets them.
 * Returns 0, or -EPERM with msg: "missing capabilities CAP_BPF, CAP_PERFMON: run
 * as root or grant them with: sudo setcap cap_bpf,...+ep /path/ebpfdump",
 * or another -errno when the capabilities cannot be read. */
int privs_check(uint32_t needs, char *msg, size_t len);

/* The capabilities of needs that are not effective now (as bits). */
uint32_t privs_missing(uint32_t needs);

/* Keep only the capabilities in keep (those the process has): effective
 * and permitted are reduced to them, inheritable and ambient cleared, and
 * no_new_privs set, so nothing can be regained for the rest of the run.
 * Returns 0, or -errno with a reason in msg. */
int privs_drop_after_start(uint32_t keep, char *msg, size_t len);

/* Files a user names (the output, the debug log, the control pipes, keys,
 * ZeroMQ ipc endpoints) are opened with the caller's own permissions:
 * privs_as_caller(true) takes CAP_DAC_READ_SEARCH, CAP_DAC_OVERRIDE and
 * CAP_FOWNER out of the effective set (they stay permitted),
 * privs_as_caller(false) puts back those that were effective. A no-op for
 * a real root user. Returns 0 or -errno. */
int privs_as_caller(bool on);

/* For modes that need no privilege (--merge, --help, --keygen, ...): when
 * the capabilities come from the file (the caller is not root), drop them
 * all for good, at once. Returns 0 or -errno with a reason in msg. */
int privs_drop_all_if_borrowed(char *msg, size_t len);

/* "cap_bpf,cap_perfmon" for the bits in caps; returns the length written
 * (cut to fit). */
int privs_names(uint32_t caps, char *buf, size_t len);

#endif
