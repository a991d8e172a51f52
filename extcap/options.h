/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Command line of the ebpfdump program: the extcap protocol's options and
 * ours, parsed and validated into struct options. Does not print: a bad
 * value yields -EINVAL and a one-line reason naming the option. */
#ifndef EBPFDUMP_OPTIONS_H
#define EBPFDUMP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/probe.h"
#include "capture/live.h"

/* Interface names (the extcap "value" of each interface). */
#define IFACE_EVENTS "ebpfevents"
#define IFACE_ZMQ "ebpfzmqevents"
/* Endpoints one subscriber connects to at most (remote/remote.h agrees). */
#define OPTIONS_ZMQ_CONNECT_MAX 64u

/* Longest seconds value for --duration (a day). */
#define OPTIONS_DURATION_MAX (24u * 3600u)
/* Ring buffer limits for --ring-buffer-size, in MiB. */
#define OPTIONS_RINGBUF_MB_MIN 1u
#define OPTIONS_RINGBUF_MB_MAX 1024u
#define OPTIONS_RINGBUF_MB_DEFAULT 8u
/* Packet capture limits and defaults. */
#define OPTIONS_IFNAME_MAX 300u /* "veth@container name" */
#define OPTIONS_IFNAME_NONE "none" /* --ifname none: events only (the default) */
/* --ifname given several times: each interface its own pcapng interface.
 * A container's or pod's interface counts as one of them. */
#define OPTIONS_IFNAMES_MAX 8u
#define OPTIONS_SNAPLEN_MIN 64u
#define OPTIONS_SNAPLEN_MAX 262144u
#define OPTIONS_SNAPLEN_DEFAULT 262144u
/* The packet buffer's limits and default are the capture module's
 * (capture/live.h, measured in docs/capture.md). */
#define OPTIONS_BUFFER_MB_MAX LIVE_BUFFER_MIB_MAX
#define OPTIONS_BUFFER_MB_DEFAULT LIVE_BUFFER_MIB_DEFAULT
/* Promiscuous mode: on unless --no-promisc, as in tcpdump and Wireshark
 * (live_config_init's library default is off; ebpfdump sets it). */
#define OPTIONS_PROMISC_DEFAULT true
#define OPTIONS_WINDOW_MS_MAX 10000u
#define OPTIONS_WINDOW_MS_DEFAULT 50u
#define OPTIONS_FLOWS_MIN 1024u
#define OPTIONS_FLOWS_MAX (1u << 24)
#define OPTIONS_FLOWS_DEFAULT (1u << 20)
#define OPTIONS_LINGER_S_MAX 3600u
#define OPTIONS_LINGER_S_DEFAULT 2u
#define OPTIONS_COMM_MAX 15u /* a task name, as the kernel keeps it */
/* --udp-interval: the probe module's limits and default (bpf/probe.h). */
#define OPTIONS_UDP_INTERVAL_MS_MIN PROBE_UDP_INTERVAL_MIN_MS
#define OPTIONS_UDP_INTERVAL_MS_MAX PROBE_UDP_INTERVAL_MAX_MS
#define OPTIONS_UDP_INTERVAL_MS_DEFAULT PROBE_UDP_INTERVAL_DEFAULT_MS
/* --reorder-window on the ZeroMQ interface, when not given: events of
 * several hosts wait this long to be put in time order (extcap/capture.c). */
#define OPTIONS_REMOTE_WINDOW_MS_DEFAULT 200u
/* Longest name accepted for --host. */
#define OPTIONS_HOST_MAX 255u

enum options_action {
	ACTION_NONE = 0,
	ACTION_HELP,
	ACTION_VERSION,
	ACTION_LIST_INTERFACES,
	ACTION_LIST_DLTS,
	ACTION_CONFIG,
	ACTION_CAPTURE,
	ACTION_PUBLISH, /* a long-lived publisher: kernel events → ZeroMQ */
	ACTION_KEYGEN,
	ACTION_MERGE, /* offline: a packet capture + an events capture → one file */
};

struct options {
	enum options_action action;
	const char *extcap_version; /* Wireshark's version, when it tells */
	const char *interface;	    /* --extcap-interface */
	const char *reload_option;  /* --extcap-reload-option: values of this arg only */
	const char *fifo;	    /* --fifo; "-" is stdout */
	const char *capture_filter; /* --extcap-capture-filter */
	const char *control_in, *control_out;
	bool debug;
	bool quiet; /* -q: warnings and errors only on stderr, no progress line */
	const char *debug_file;

	uint32_t event_mask; /* bit (1 << enum event_type) */
	uint32_t ringbuf_mb;
	uint32_t duration_s; /* 0: until stopped */
	const char *host;    /* label for ebpf.host; NULL: this host's name */
	bool snapshot;	     /* report and remember sockets open at start */
	bool containers;     /* ask container runtimes for names */
	uint32_t netns;	     /* only events of this network namespace (inode); 0: all */
	/* In-kernel filters (0 / "" / false: any) */
	uint32_t pid;
	bool pid_tree; /* and its descendants */
	bool match_uid;
	uint32_t uid;
	const char *comm;
	uint64_t cgroup_id;
	uint32_t udp_interval_ms;

	/* packets (issue 3): captured on each --ifname (in the order given),
	 * and on a container's interface */
	const char *ifnames[OPTIONS_IFNAMES_MAX];
	unsigned n_ifnames;
	/* --container/--pod SPEC: a container or pod by name or id, resolved
	 * at start like an ebpf@VETH@NAME interface (enrich/netdev.h). */
	const char *container;
	bool container_is_pod; /* --pod: only pods match */
	uint32_t snaplen;
	bool promisc;
	uint32_t buffer_mb;
	uint32_t window_ms;
	bool window_set; /* given on the command line */
	uint32_t flows;
	uint32_t linger_s;
	bool event_frames; /* write events as frames of their own */
	/* --packet-comment: enum comment_mode (event/comment.h); compact by
	 * default, full with --no-event-frames (no interface for Identity
	 * records). */
	int comment_mode;
	/* --hooks: same values as enum probe_hooks (bpf/probe.h), which this
	 * header cannot include (the subscriber-only build has no bpf/). */
	enum {
		OPTIONS_HOOKS_AUTO,
		OPTIONS_HOOKS_FENTRY,
		OPTIONS_HOOKS_RAW,
		OPTIONS_HOOKS_TRACEPOINT,
	} hooks;
	const char *btf;    /* --btf FILE: the kernel's BTF (probe_config.btf_path) */
	bool tls;	    /* --tls: TLS plaintext from uprobes (docs/tls.md) */
	bool print;	    /* --print: a line per event and packet on stdout */

	/* remote (ZeroMQ) */
	const char *zmq_keygen;	 /* PREFIX for --zmq-keygen */
	const char *zmq_publish; /* publisher endpoint */
	bool zmq_bind;		 /* the publisher binds */
	bool zmq_json;
	bool zmq_plaintext;
	const char *zmq_key, *zmq_server_key, *zmq_authorized_keys;
	const char *zmq_listen; /* subscriber binds here */
	const char *zmq_connect[OPTIONS_ZMQ_CONNECT_MAX]; /* "ENDPOINT[,KEYFILE]" */
	unsigned n_zmq_connect;

	/* --merge PACKETS EVENTS: the two input files */
	const char *merge_packets, *merge_events;

	/* ebpfdump [options] -- COMMAND [ARGS]: NULL-terminated, or NULL */
	char **command;
};

/* Parse argv. Returns 0, or -EINVAL with a reason in errbuf. */
int options_parse(int argc, char **argv, struct options *ret, char *errbuf, size_t errlen);
/* Parse an event-type list ("TCP_Connect,TCP_Close" or "all") into a mask. */
int options_parse_events(const char *list, uint32_t *ret_mask, char *errbuf, size_t errlen);
/* The event types --events accepts, comma-separated, for messages. */
const char *options_event_names(void);
/* The --help text. */
const char *options_usage(void);
/* The i-th long option's name (without "--"), NULL past the last: the
 * OPTIONS list in options.c. */
const char *options_name(size_t i);

#endif
