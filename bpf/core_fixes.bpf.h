/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel-version differences the BPF side reads around, in one place. Each
 * helper names the kernel change it handles; CO-RE picks the branch that
 * matches the running kernel's BTF at load time, the other is dead code.
 */
#ifndef EBPFDUMP_CORE_FIXES_BPF_H
#define EBPFDUMP_CORE_FIXES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/* Linux 5.5 ("kernfs: convert kernfs_node->id from
 * union kernfs_node_id to u64") flattened the node id. */
union kernfs_node_id___old {
	struct {
		__u32 ino;
		__u32 generation;
	};
	__u64 id;
} __attribute__((preserve_access_index));

struct kernfs_node___old {
	union kernfs_node_id___old id;
} __attribute__((preserve_access_index));

static __always_inline __u64 kernfs_node_id(struct kernfs_node *kn)
{
	if (bpf_core_type_exists(union kernfs_node_id___old)) {
		struct kernfs_node___old *old = (void *)kn;

		return BPF_CORE_READ(old, id.id);
	}
	return BPF_CORE_READ(kn, id);
}

/* Linux 5.17 ("tcp: move inet->rx_dst_ifindex to
 * sk->sk_rx_dst_ifindex") moved the receive route's interface. */
struct inet_sock___old {
	int rx_dst_ifindex;
} __attribute__((preserve_access_index));

static __always_inline __u32 sock_rx_dst_ifindex(struct sock *sk)
{
	if (bpf_core_field_exists(sk->sk_rx_dst_ifindex))
		return BPF_CORE_READ(sk, sk_rx_dst_ifindex);
	return BPF_CORE_READ((struct inet_sock___old *)sk, rx_dst_ifindex);
}

/* Linux 5.6 ("sock: Make sk_protocol a 16-bit value")
 * turned sk_protocol and sk_type from bitfields into plain u16; the
 * bitfield-aware read works for both layouts. */
static __always_inline __u16 sock_protocol(struct sock *sk)
{
	return (__u16)BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
}

static __always_inline __u16 sock_type(struct sock *sk)
{
	return (__u16)BPF_CORE_READ_BITFIELD_PROBED(sk, sk_type);
}

/* Controller ids are enum values that depend on the kernel's configuration
 * (CONFIG_CGROUP_*), so they are relocated, never hard-coded. -1 when the
 * controller is not built into this kernel. */
static __always_inline int cgroup_memory_subsys_id(void)
{
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	return -1;
}

static __always_inline int cgroup_pids_subsys_id(void)
{
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, pids_cgrp_id))
		return bpf_core_enum_value(enum cgroup_subsys_id, pids_cgrp_id);
	return -1;
}

#endif
