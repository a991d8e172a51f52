/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Command-line parsing and validation for ebpfdump. */
#include "extcap/options.h"

#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "event/comment.h"
#include "event/event.h"

/* Every captured type of EVENT_TYPES (event/event.h): --events takes their
 * names. */
#define FOR_EACH_TYPE(t)                                                                           \
	for (unsigned t = 1; t < EVENT_TYPE_MAX; t++)                                              \
		if (EVENT_TYPE_CAPTURED(t))

/* Every long option, once: its id (OPT_ID), its name, and whether it takes
 * a value. The enum of ids and getopt's table are made from this list,
 * options_name() lists it, and options_drift checks that --help, the man
 * page and the extcap dialog name no option outside it and --help none
 * missing (issue 16). */
#define OPTIONS(X) \
	X(EXTCAP_INTERFACES, "extcap-interfaces", NONE) \
	X(EXTCAP_VERSION, "extcap-version", OPTIONAL) \
	X(EXTCAP_DLTS, "extcap-dlts", NONE) \
	X(EXTCAP_INTERFACE, "extcap-interface", REQUIRED) \
	X(EXTCAP_CONFIG, "extcap-config", NONE) \
	X(EXTCAP_RELOAD_OPTION, "extcap-reload-option", REQUIRED) \
	X(CAPTURE, "capture", NONE) \
	X(FIFO, "fifo", REQUIRED) \
	X(CAPTURE_FILTER, "extcap-capture-filter", REQUIRED) \
	X(CONTROL_IN, "extcap-control-in", REQUIRED) \
	X(CONTROL_OUT, "extcap-control-out", REQUIRED) \
	X(DEBUG, "debug", NONE) \
	X(QUIET, "quiet", NONE) \
	X(DEBUG_FILE, "debug-file", REQUIRED) \
	X(HELP, "help", NONE) \
	X(VERSION, "version", NONE) \
	X(EVENTS, "events", REQUIRED) \
	X(RINGBUF, "ring-buffer-size", REQUIRED) \
	X(DURATION, "duration", REQUIRED) \
	X(HOST, "host", REQUIRED) \
	X(NO_SNAPSHOT, "no-snapshot", NONE) \
	X(NO_CONTAINERS, "no-containers", NONE) \
	X(IFNAME, "ifname", REQUIRED) \
	X(CONTAINER, "container", REQUIRED) \
	X(POD, "pod", REQUIRED) \
	X(SNAPLEN, "snaplen", REQUIRED) \
	X(PROMISC, "promisc", NONE) \
	X(NO_PROMISC, "no-promisc", NONE) \
	X(BUFFER, "buffer-size", REQUIRED) \
	X(WINDOW, "reorder-window", REQUIRED) \
	X(FLOWS, "flows", REQUIRED) \
	X(LINGER, "linger", REQUIRED) \
	X(NO_EVENT_FRAMES, "no-event-frames", NONE) \
	X(PACKET_COMMENT, "packet-comment", REQUIRED) \
	X(HOOKS, "hooks", REQUIRED) \
	X(BTF, "btf", REQUIRED) \
	X(ZMQ_KEYGEN, "zmq-keygen", REQUIRED) \
	X(MERGE, "merge", NONE) \
	X(ZMQ_PUBLISH, "zmq-publish", REQUIRED) \
	X(ZMQ_BIND, "zmq-bind", NONE) \
	X(ZMQ_JSON, "zmq-json", NONE) \
	X(ZMQ_PLAINTEXT, "zmq-plaintext", NONE) \
	X(ZMQ_KEY, "zmq-key", REQUIRED) \
	X(ZMQ_SERVER_KEY, "zmq-server-key", REQUIRED) \
	X(ZMQ_AUTHORIZED_KEYS, "zmq-authorized-keys", REQUIRED) \
	X(ZMQ_LISTEN, "zmq-listen", REQUIRED) \
	X(ZMQ_CONNECT, "zmq-connect", REQUIRED) \
	X(NETNS, "netns", REQUIRED) \
	X(PID, "pid", REQUIRED) \
	X(PID_TREE, "pid-tree", REQUIRED) \
	X(UID, "uid", REQUIRED) \
	X(COMM, "comm", REQUIRED) \
	X(CGROUP, "cgroup", REQUIRED) \
	X(UDP_INTERVAL, "udp-interval", REQUIRED) \
	X(TLS, "tls", NONE) \
	X(PRINT, "print", NONE)

#define ARG_NONE no_argument
#define ARG_REQUIRED required_argument
#define ARG_OPTIONAL optional_argument

enum {
	OPT_FIRST_ = 999, /* above every short option character */
#define OPTION_ID(id, name, arg) OPT_##id,
	OPTIONS(OPTION_ID)
#undef OPTION_ID
};

static const struct option long_options[] = {
#define OPTION_ROW(id, name, arg) { name, ARG_##arg, NULL, OPT_##id },
	OPTIONS(OPTION_ROW)
#undef OPTION_ROW
	{ NULL, 0, NULL, 0 },
};

const char *options_name(size_t i)
{
	return i < sizeof(long_options) / sizeof(long_options[0]) - 1 ? long_options[i].name : NULL;
}

const char *options_usage(void)
{
	return "Usage: ebpfdump [OPTIONS]\n"
	       "       ebpfdump [OPTIONS] --fifo OUT.pcapng -- COMMAND [ARGS]\n"
	       "Wireshark extcap tool: eBPF events of TCP connections (who connected, accepted,\n"
	       "closed) as pcapng, decoded by the ebpf.lua dissector.\n"
	       "\n"
	       "Capture from a shell (stop with Ctrl-C; the file stays valid):\n"
	       "  ebpfdump --capture --extcap-interface ebpfevents --fifo out.pcapng\n"
	       "Run COMMAND and capture its events and its children's, from its first system\n"
	       "call until it exits; ebpfdump exits with its status (127: not found):\n"
	       "  ebpfdump --fifo out.pcapng -- curl -s http://example.test/\n"
	       "\n"
	       "Extcap protocol (used by Wireshark):\n"
	       "  --extcap-interfaces          list interfaces\n"
	       "  --extcap-version[=VER]       Wireshark's version (accepted, informational)\n"
	       "  --extcap-interface IFACE     interface to act on (ebpfevents)\n"
	       "  --extcap-dlts                list the link types of IFACE\n"
	       "  --extcap-config              list the configuration arguments of IFACE\n"
	       "  --extcap-reload-option ARG   with --extcap-config: the values of ARG only\n"
	       "  --capture                    capture on IFACE into --fifo\n"
	       "  --fifo PATH                  output: fifo or file; - is stdout\n"
	       "  --extcap-capture-filter F    capture filter (packet interfaces only)\n"
	       "  --extcap-control-in PIPE, --extcap-control-out PIPE\n"
	       "                               the toolbar's pipes (Wireshark passes them)\n"
	       "  -v, --debug                  debug messages on stderr\n"
	       "  -q, --quiet                  no info messages and no progress line on stderr\n"
	       "                               (warnings and errors still)\n"
	       "  --debug-file PATH            debug messages appended to PATH\n"
	       "\n"
	       "Capture options:\n"
	       "  --events LIST                event types, comma-separated, or all (default all):\n"
	       "                               TCP_Connect,TCP_Connect_Failed,TCP_Accept,TCP_Close,\n"
	       "                               TCP_Retransmit,UDP_Send,UDP_Recv,\n"
	       "                               TCP_Open,UDP_Open (sockets open at start)\n"
	       "  --udp-interval MS            a UDP flow reports at most once per MS, with its\n"
	       "                               datagram and byte counts, 10-3600000 (default 1000)\n"
	       "\n"
	       "Filters, applied in the kernel (filtered events cost no ring-buffer traffic):\n"
	       "  --pid PID                    only this process\n"
	       "  --pid-tree PID               this process and its descendants\n"
	       "  --uid UID                    only this user\n"
	       "  --comm NAME                  only tasks with this exact name (15 bytes at most)\n"
	       "  --cgroup ID                  only this cgroup (ebpf.cgroup_id), e.g. a container\n"
	       "  --ring-buffer-size MIB       kernel ring buffer, 1-1024 MiB, power of two\n"
	       "                               (default 8)\n"
	       "  --duration SECONDS           stop after SECONDS (default: until stopped)\n"
	       "  --print                      also a line per event and packet on stdout;\n"
	       "                               without --fifo, only that (the default with a\n"
	       "                               command after --)\n"
	       "  --host NAME                  host label on every event (default: hostname)\n"
	       "  --no-snapshot                do not look up the sockets open at start\n"
	       "  --no-containers              do not ask container runtimes for names\n"
	       "  --netns self|any|INODE       only events of this network namespace (self: the\n"
	       "                               one ebpfdump runs in, e.g. under ip netns exec)\n"
	       "\n"
	       "Packets plus events (merged: each packet names its sender and receiver process):\n"
	       "  --ifname IFACE               also capture packets on IFACE (e.g. eth0, any,\n"
	       "                               veth1234@web for a container's interface;\n"
	       "                               none: events only, the default); up to 8 times,\n"
	       "                               each interface its own in the file\n"
	       "  --container NAME             one container (a name, an id or its first 12\n"
	       "                               characters, or a pod's name): the events of its\n"
	       "                               network namespace and the packets on its host\n"
	       "                               veth, as its ebpf@VETH@NAME interface\n"
	       "  --pod POD|NAMESPACE/POD      the same for a Kubernetes pod (or POD.NAMESPACE)\n"
	       "  --extcap-capture-filter F    capture filter for the packets (pcap syntax)\n"
	       "  --snaplen BYTES              bytes kept per packet, 64-262144 (default 262144)\n"
	       "  --promisc, --no-promisc      promiscuous mode (default on)\n"
	       "  --buffer-size MIB            kernel packet buffer, 1-1024 MiB (default 32)\n"
	       "  --reorder-window MS          how long a packet may wait for its event,\n"
	       "                               0-10000 ms (default 50)\n"
	       "  --flows N                    flows remembered, 1024-16777216 (default 1048576)\n"
	       "  --linger SECONDS             a closed flow is kept, 0-3600 s (default 2)\n"
	       "  --no-event-frames            packets only: events tag packets but are not\n"
	       "                               written as frames of their own (no events\n"
	       "                               interface: a file tcpdump -r reads)\n"
	       "  --packet-comment compact|full|brief\n"
	       "                               what a tagged packet's comment names: each\n"
	       "                               process as comm[pid]@pod, its details written\n"
	       "                               once per process as an Identity frame (compact,\n"
	       "                               the default; full with --no-event-frames);\n"
	       "                               every detail of both processes on every packet\n"
	       "                               (full: for tools without ebpf.lua); or pid, tid,\n"
	       "                               comm, container, pod, namespace (brief)\n"
	       "  --hooks auto|fentry|tracepoint|raw\n"
	       "                               kernel hooks for accepts and UDP: fexit\n"
	       "                               programs (fentry), the system calls' own\n"
	       "                               tracepoints (tracepoint: needs tracefs),\n"
	       "                               both no cost to other system calls; raw\n"
	       "                               system-call hooks (raw); or the cheapest this\n"
	       "                               kernel runs (auto, the default)\n"
	       "  --btf FILE                   the kernel's BTF from FILE (a vmlinux with BTF\n"
	       "                               or a .btf file, e.g. BTFHub's) where the\n"
	       "                               kernel has no /sys/kernel/btf/vmlinux; the\n"
	       "                               fentry tier still needs the kernel's own\n"
	       "  --tls                        RECORDS TLS PLAINTEXT (passwords, cookies):\n"
	       "                               uprobes on OpenSSL/GnuTLS write each TLS read\n"
	       "                               and write as an HTTP frame with its process;\n"
	       "                               Go programs' TLS secrets go into the file\n"
	       "                               (decrypts --ifname packets); the output must\n"
	       "                               be a fifo or a 0600 file\n"
	       "\n"
	       "Offline merge of saved captures (same engine as a live capture):\n"
	       "  --merge PACKETS EVENTS --fifo OUT\n"
	       "                               PACKETS: pcap or pcapng (e.g. from tcpdump);\n"
	       "                               EVENTS: a pcapng written by ebpfdump; OUT gets\n"
	       "                               both, each packet tagged with its processes\n"
	       "                               (--reorder-window, --flows, --linger,\n"
	       "                               --packet-comment apply)\n"
	       "\n"
	       "Remote events over ZeroMQ (CURVE-encrypted unless --zmq-plaintext):\n"
	       "  --zmq-keygen PREFIX          write PREFIX.key (secret) and PREFIX.pub, exit\n"
	       "  --zmq-publish ENDPOINT       publish kernel events (a long-lived service;\n"
	       "                               with --capture, also write them to --fifo)\n"
	       "  --zmq-bind                   the publisher binds ENDPOINT instead of connecting\n"
	       "  --zmq-json                   also publish JSON messages\n"
	       "  --zmq-key FILE               our secret key (PREFIX.key)\n"
	       "  --zmq-server-key FILE        the binding side's public key (PREFIX.pub)\n"
	       "  --zmq-authorized-keys FILE   binding side: public keys let in, one per line\n"
	       "  --zmq-plaintext              no encryption, no authentication (warns)\n"
	       "  --extcap-interface ebpfzmqevents with:\n"
	       "  --zmq-listen ENDPOINT        receive from publishers that connect in\n"
	       "  --zmq-connect EP[,KEYFILE]   receive from a binding publisher (repeatable)\n"
	       "  --help, --version\n";
}

const char *options_event_names(void)
{
	static char names[256];

	if (!names[0]) {
		size_t off = 0;

		FOR_EACH_TYPE(t)
		{
			if (off < sizeof(names))
				off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s",
							t > 1 ? ", " : "", event_type_name(t));
		}
	}
	return names;
}

int options_parse_events(const char *list, uint32_t *ret_mask, char *errbuf, size_t errlen)
{
	uint32_t mask = 0;
	char *copy, *tok, *save = NULL;

	if (strcmp(list, "all") == 0) {
		FOR_EACH_TYPE(t)
			mask |= 1u << t;
		*ret_mask = mask;
		return 0;
	}
	copy = strdup(list);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned type = event_type_from_name(tok);

		if (!EVENT_TYPE_CAPTURED(type)) {
			snprintf(errbuf, errlen,
				 "unknown event type '%s' in --events; known: %s, all", tok,
				 options_event_names());
			free(copy);
			return -EINVAL;
		}
		mask |= 1u << type;
	}
	free(copy);
	if (!mask) {
		snprintf(errbuf, errlen, "--events lists no event type; give at least one or 'all'");
		return -EINVAL;
	}
	*ret_mask = mask;
	return 0;
}

/* The one number parser of every numeric option: decimal digits only (no
 * sign, no space, no base prefix, nothing after), within [min, max].
 * strtoul alone would take " 5", "+5" and wrap "-5". */
static int parse_u64(const char *name, const char *s, uint64_t min, uint64_t max, uint64_t *ret,
		     char *errbuf, size_t errlen)
{
	uint64_t v = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10) {
			v = UINT64_MAX;
			break;
		}
		v = v * 10 + d;
	}
	if (p == s || *p || v < min || v > max) {
		snprintf(errbuf, errlen,
			 "invalid value '%s' for %s: expected a number from %" PRIu64 " to %" PRIu64,
			 s, name, min, max);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int parse_uint(const char *name, const char *s, uint32_t min, uint32_t max, uint32_t *ret,
		      char *errbuf, size_t errlen)
{
	uint64_t v;
	int r = parse_u64(name, s, min, max, &v, errbuf, errlen);

	if (r == 0)
		*ret = (uint32_t)v;
	return r;
}

/* True when s is valid UTF-8 without control characters (a label that goes
 * into every event and the pcapng section header as one line). */
static bool printable_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned n, cp;

		if (*p < 0x20 || *p == 0x7f)
			return false;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf)
			n = 1, cp = *p & 0x1f;
		else if (*p >= 0xe0 && *p <= 0xef)
			n = 2, cp = *p & 0x0f;
		else if (*p >= 0xf0 && *p <= 0xf4)
			n = 3, cp = *p & 0x07;
		else
			return false;
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0x80 && cp < 0xa0))
			return false;
		p += n + 1;
	}
	return true;
}

/* A string option that must not be empty: an empty value selects nothing
 * (Wireshark leaves empty fields out of the command line). */
static int need_value(const char *name, const char *s, const char *what, char *errbuf,
		      size_t errlen)
{
	if (s[0])
		return 0;
	snprintf(errbuf, errlen, "%s needs %s", name, what);
	return -EINVAL;
}

/* One more --ifname: each interface once, "any" alone, at most
 * OPTIONS_IFNAMES_MAX of them. */
static int add_ifname(struct options *o, const char *name, char *errbuf, size_t errlen)
{
	if (strlen(name) > OPTIONS_IFNAME_MAX) {
		snprintf(errbuf, errlen,
			 "--ifname needs an interface name of 1 to %u bytes (or VETH@CONTAINER)",
			 OPTIONS_IFNAME_MAX);
		return -EINVAL;
	}
	for (unsigned i = 0; i < o->n_ifnames; i++) {
		if (strcmp(o->ifnames[i], name) == 0) {
			snprintf(errbuf, errlen, "--ifname %s is given twice", name);
			return -EINVAL;
		}
	}
	if (o->n_ifnames && (strcmp(name, "any") == 0 || strcmp(o->ifnames[0], "any") == 0)) {
		snprintf(errbuf, errlen, "--ifname any captures every interface already: give it "
					 "alone, or name the interfaces one by one");
		return -EINVAL;
	}
	if (o->n_ifnames == OPTIONS_IFNAMES_MAX) {
		snprintf(errbuf, errlen, "--ifname is given more than %u times: at most %u "
					 "interfaces are captured at once",
			 OPTIONS_IFNAMES_MAX, OPTIONS_IFNAMES_MAX);
		return -EINVAL;
	}
	o->ifnames[o->n_ifnames++] = name;
	return 0;
}

/* A container's or pod's interface (--container, --pod, an ebpf@VETH@NAME
 * interface or --ifname VETH@NAME) scopes the events to its network
 * namespace: one per capture. Other --ifname interfaces go beside it. */
static int check_container_interfaces(const struct options *o, char *errbuf, size_t errlen)
{
	const char *first = NULL, *second = NULL;

	if (o->interface && strchr(o->interface, '@'))
		first = o->interface;
	if (o->container) {
		if (o->interface && strcmp(o->interface, IFACE_EVENTS) != 0) {
			snprintf(errbuf, errlen,
				 "--container and --pod choose the interface: they go with "
				 "--extcap-interface %s, not %s",
				 IFACE_EVENTS, o->interface);
			return -EINVAL;
		}
		first = o->container;
	}
	for (unsigned i = 0; i < o->n_ifnames && !second; i++) {
		if (!strchr(o->ifnames[i], '@'))
			continue;
		if (first)
			second = o->ifnames[i];
		else
			first = o->ifnames[i];
	}
	if (!second)
		return 0;
	snprintf(errbuf, errlen, "'%s' and '%s' both name a container's interface: a capture "
				 "keeps the events of one container or pod (other --ifname "
				 "interfaces can go beside it)",
		 first, second);
	return -EINVAL;
}

/* ebpfdump [options] -- COMMAND: a capture of the events interface whose
 * process filter is the command's process tree. */
static int command_options(struct options *o, char *errbuf, size_t errlen)
{
	if (!o->command[0]) {
		snprintf(errbuf, errlen, "'--' is followed by the command to run and capture: "
					 "ebpfdump --fifo OUT.pcapng -- COMMAND [ARGS]");
		return -EINVAL;
	}
	if (o->action == ACTION_NONE)
		o->action = ACTION_CAPTURE;
	if (!o->interface)
		o->interface = IFACE_EVENTS;
	if (o->action != ACTION_CAPTURE || strcmp(o->interface, IFACE_EVENTS) != 0) {
		snprintf(errbuf, errlen, "a command after '--' is captured on %s only (not with "
					 "--merge, --zmq-publish or another interface)",
			 IFACE_EVENTS);
		return -EINVAL;
	}
	if (o->pid || o->pid_tree) {
		snprintf(errbuf, errlen, "--pid and --pid-tree do not go with a command after "
					 "'--': the command and its children are the processes captured");
		return -EINVAL;
	}
	if (o->tls) {
		snprintf(errbuf, errlen, "--tls does not go with a command after '--' yet: capture "
					 "with --tls --pid-tree PID of an already running shell instead");
		return -EINVAL;
	}
	if (o->zmq_publish) {
		snprintf(errbuf, errlen, "--zmq-publish does not go with a command after '--'");
		return -EINVAL;
	}
	return 0;
}

int options_parse(int argc, char **argv, struct options *ret, char *errbuf, size_t errlen)
{
	struct options o = {
		.ringbuf_mb = OPTIONS_RINGBUF_MB_DEFAULT,
		.snapshot = true,
		.containers = true,
		.snaplen = OPTIONS_SNAPLEN_DEFAULT,
		.promisc = OPTIONS_PROMISC_DEFAULT,
		.buffer_mb = OPTIONS_BUFFER_MB_DEFAULT,
		.window_ms = OPTIONS_WINDOW_MS_DEFAULT,
		.flows = OPTIONS_FLOWS_DEFAULT,
		.linger_s = OPTIONS_LINGER_S_DEFAULT,
		.event_frames = true,
		.comment_mode = COMMENT_COMPACT,
	};
	int c, r;
	bool comment_set = false;

	r = options_parse_events("all", &o.event_mask, errbuf, errlen);
	if (r < 0)
		return r;
	/* Everything after the first "--" is the command to run and capture;
	 * getopt sees only what comes before. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			o.command = &argv[i + 1];
			argc = i;
			break;
		}
	}
	/* 0, not 1: glibc (and musl) then also forget the position inside a
	 * cluster of short options ("-qv") where a previous call stopped. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qv", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_EXTCAP_INTERFACES:
			o.action = ACTION_LIST_INTERFACES;
			break;
		case OPT_EXTCAP_VERSION:
			o.extcap_version = optarg;
			break;
		case OPT_EXTCAP_DLTS:
			o.action = ACTION_LIST_DLTS;
			break;
		case OPT_EXTCAP_INTERFACE:
			o.interface = optarg;
			break;
		case OPT_EXTCAP_CONFIG:
			o.action = ACTION_CONFIG;
			break;
		case OPT_EXTCAP_RELOAD_OPTION:
			o.reload_option = optarg;
			break;
		case OPT_CAPTURE:
			o.action = ACTION_CAPTURE;
			break;
		case OPT_FIFO:
			o.fifo = optarg;
			break;
		case OPT_CAPTURE_FILTER:
			o.capture_filter = optarg;
			break;
		case OPT_CONTROL_IN:
			o.control_in = optarg;
			break;
		case OPT_CONTROL_OUT:
			o.control_out = optarg;
			break;
		case OPT_DEBUG:
		case 'v':
			o.debug = true;
			break;
		case OPT_QUIET:
		case 'q':
			o.quiet = true;
			break;
		case OPT_DEBUG_FILE:
			o.debug_file = optarg;
			break;
		case OPT_HELP:
			o.action = ACTION_HELP;
			break;
		case OPT_VERSION:
			o.action = ACTION_VERSION;
			break;
		case OPT_EVENTS:
			r = options_parse_events(optarg, &o.event_mask, errbuf, errlen);
			if (r < 0)
				return r;
			break;
		case OPT_RINGBUF:
			r = parse_uint("--ring-buffer-size", optarg, OPTIONS_RINGBUF_MB_MIN,
				       OPTIONS_RINGBUF_MB_MAX, &o.ringbuf_mb, errbuf, errlen);
			if (r < 0)
				return r;
			if (o.ringbuf_mb & (o.ringbuf_mb - 1)) {
				snprintf(errbuf, errlen,
					 "invalid value '%s' for --ring-buffer-size: the kernel needs a "
					 "power of two (1, 2, 4, ... 1024 MiB)",
					 optarg);
				return -EINVAL;
			}
			break;
		case OPT_DURATION:
			r = parse_uint("--duration", optarg, 1, OPTIONS_DURATION_MAX,
				       &o.duration_s, errbuf, errlen);
			if (r < 0)
				return r;
			break;
		case OPT_HOST:
			if (strlen(optarg) > OPTIONS_HOST_MAX || !optarg[0]) {
				snprintf(errbuf, errlen, "--host needs a name of 1 to %u bytes",
					 OPTIONS_HOST_MAX);
				return -EINVAL;
			}
			if (!printable_utf8(optarg)) {
				snprintf(errbuf, errlen,
					 "--host needs a name in UTF-8 without control characters "
					 "(newline, tab)");
				return -EINVAL;
			}
			o.host = optarg;
			break;
		case OPT_NO_SNAPSHOT:
			o.snapshot = false;
			break;
		case OPT_NO_CONTAINERS:
			o.containers = false;
			break;
		case OPT_IFNAME:
			r = need_value("--ifname", optarg, "an interface name, or none for events only", errbuf,
				       errlen);
			if (r < 0)
				return r;
			if (strcmp(optarg, OPTIONS_IFNAME_NONE) == 0) {
				o.n_ifnames = 0; /* also Wireshark's "events only" entry */
				break;
			}
			r = add_ifname(&o, optarg, errbuf, errlen);
			if (r < 0)
				return r;
			break;
		case OPT_CONTAINER:
		case OPT_POD:
			r = need_value(c == OPT_POD ? "--pod" : "--container", optarg,
				       c == OPT_POD ? "a pod name, NAMESPACE/POD or POD.NAMESPACE"
						    : "a container or pod name or id",
				       errbuf, errlen);
			if (r < 0)
				return r;
			if (strlen(optarg) > OPTIONS_IFNAME_MAX) {
				snprintf(errbuf, errlen, "%s needs a name of 1 to %u bytes",
					 c == OPT_POD ? "--pod" : "--container", OPTIONS_IFNAME_MAX);
				return -EINVAL;
			}
			if (o.container) {
				snprintf(errbuf, errlen, "--container and --pod name one container or "
							 "pod, once");
				return -EINVAL;
			}
			o.container = optarg;
			o.container_is_pod = c == OPT_POD;
			break;
		case OPT_SNAPLEN:
			r = parse_uint("--snaplen", optarg, OPTIONS_SNAPLEN_MIN, OPTIONS_SNAPLEN_MAX,
				       &o.snaplen, errbuf, errlen);
			if (r < 0)
				return r;
			break;
		case OPT_PROMISC:
			o.promisc = true;
			break;
		case OPT_NO_PROMISC:
			o.promisc = false;
			break;
		case OPT_BUFFER:
			r = parse_uint("--buffer-size", optarg, 1, OPTIONS_BUFFER_MB_MAX,
				       &o.buffer_mb, errbuf, errlen);
			if (r < 0)
				return r;
			break;
		case OPT_WINDOW:
			r = parse_uint("--reorder-window", optarg, 0, OPTIONS_WINDOW_MS_MAX,
				       &o.window_ms, errbuf, errlen);
			if (r < 0)
				return r;
			o.window_set = true;
			break;
		case OPT_FLOWS:
			r = parse_uint("--flows", optarg, OPTIONS_FLOWS_MIN, OPTIONS_FLOWS_MAX,
				       &o.flows, errbuf, errlen);
			if (r < 0)
				return r;
			break;
		case OPT_LINGER:
			r = parse_uint("--linger", optarg, 0, OPTIONS_LINGER_S_MAX, &o.linger_s,
				       errbuf, errlen);
			if (r < 0)
				return r;
			break;
		case OPT_NO_EVENT_FRAMES:
			o.event_frames = false;
			break;
		case OPT_TLS:
			o.tls = true;
			break;
		case OPT_PRINT:
			o.print = true;
			break;
		case OPT_BTF:
			if (!*optarg) {
				snprintf(errbuf, errlen, "--btf needs a file name");
				return -EINVAL;
			}
			o.btf = optarg;
			break;
		case OPT_HOOKS:
			if (strcmp(optarg, "auto") == 0) {
				o.hooks = OPTIONS_HOOKS_AUTO;
			} else if (strcmp(optarg, "fentry") == 0) {
				o.hooks = OPTIONS_HOOKS_FENTRY;
			} else if (strcmp(optarg, "tracepoint") == 0) {
				o.hooks = OPTIONS_HOOKS_TRACEPOINT;
			} else if (strcmp(optarg, "raw") == 0) {
				o.hooks = OPTIONS_HOOKS_RAW;
			} else {
				snprintf(errbuf, errlen,
					 "invalid value '%s' for --hooks: expected auto, fentry, "
					 "tracepoint or raw",
					 optarg);
				return -EINVAL;
			}
			break;
		case OPT_PACKET_COMMENT:
			if (strcmp(optarg, "compact") == 0) {
				o.comment_mode = COMMENT_COMPACT;
			} else if (strcmp(optarg, "full") == 0) {
				o.comment_mode = COMMENT_FULL;
			} else if (strcmp(optarg, "brief") == 0) {
				o.comment_mode = COMMENT_BRIEF;
			} else {
				snprintf(errbuf, errlen,
					 "invalid value '%s' for --packet-comment: expected compact, "
					 "full or brief",
					 optarg);
				return -EINVAL;
			}
			comment_set = true;
			break;
		case OPT_NETNS:
			r = need_value("--netns", optarg, "self, any or a namespace inode; leave it out for any", errbuf,
				       errlen);
			if (r < 0)
				return r;
			if (strcmp(optarg, "any") == 0) {
				o.netns = 0; /* also Wireshark's "any" entry */
				break;
			}
			if (strcmp(optarg, "self") == 0) {
				struct stat st;

				if (stat("/proc/self/ns/net", &st) < 0) {
					snprintf(errbuf, errlen,
						 "--netns self: cannot read /proc/self/ns/net: %s",
						 strerror(errno));
					return -EINVAL;
				}
				o.netns = (uint32_t)st.st_ino;
				break;
			}
			r = parse_uint("--netns", optarg, 1, UINT32_MAX, &o.netns, errbuf, errlen);
			if (r < 0)
				return r;
			break;
		case OPT_PID:
		case OPT_PID_TREE:
			if (o.pid && o.pid_tree != (c == OPT_PID_TREE)) {
				snprintf(errbuf, errlen,
					 "--pid and --pid-tree exclude each other: give one (--pid-tree "
					 "includes the process itself)");
				return -EINVAL;
			}
			r = parse_uint(c == OPT_PID ? "--pid" : "--pid-tree", optarg, 1,
				       UINT32_MAX, &o.pid, errbuf, errlen);
			if (r < 0)
				return r;
			o.pid_tree = c == OPT_PID_TREE;
			break;
		case OPT_UID:
			r = parse_uint("--uid", optarg, 0, UINT32_MAX - 1, &o.uid, errbuf, errlen);
			if (r < 0)
				return r;
			o.match_uid = true;
			break;
		case OPT_COMM:
			if (strlen(optarg) > OPTIONS_COMM_MAX) {
				snprintf(errbuf, errlen,
					 "--comm '%s' is longer than a task name can be (%u bytes): "
					 "use the first %u characters, as ps shows them",
					 optarg, OPTIONS_COMM_MAX, OPTIONS_COMM_MAX);
				return -EINVAL;
			}
			r = need_value("--comm", optarg, "a task name; leave it out for any", errbuf, errlen);
			if (r < 0)
				return r;
			o.comm = optarg;
			break;
		case OPT_CGROUP:
			r = parse_u64("--cgroup", optarg, 1, UINT64_MAX, &o.cgroup_id, errbuf, errlen);
			if (r < 0) {
				snprintf(errbuf, errlen,
					 "invalid value '%s' for --cgroup: expected a cgroup id "
					 "(ebpf.cgroup_id of an event, or the inode of the cgroup's "
					 "directory: stat -c %%i)",
					 optarg);
				return r;
			}
			break;
		case OPT_UDP_INTERVAL:
			r = parse_uint("--udp-interval", optarg, OPTIONS_UDP_INTERVAL_MS_MIN,
				       OPTIONS_UDP_INTERVAL_MS_MAX, &o.udp_interval_ms, errbuf, errlen);
			if (r < 0)
				return r;
			break;
		case OPT_MERGE:
			o.action = ACTION_MERGE;
			break;
		case OPT_ZMQ_KEYGEN:
			o.action = ACTION_KEYGEN;
			o.zmq_keygen = optarg;
			break;
		case OPT_ZMQ_PUBLISH:
			o.zmq_publish = optarg;
			break;
		case OPT_ZMQ_BIND:
			o.zmq_bind = true;
			break;
		case OPT_ZMQ_JSON:
			o.zmq_json = true;
			break;
		case OPT_ZMQ_PLAINTEXT:
			o.zmq_plaintext = true;
			break;
		case OPT_ZMQ_KEY:
			o.zmq_key = optarg[0] ? optarg : NULL;
			break;
		case OPT_ZMQ_SERVER_KEY:
			o.zmq_server_key = optarg[0] ? optarg : NULL;
			break;
		case OPT_ZMQ_AUTHORIZED_KEYS:
			o.zmq_authorized_keys = optarg[0] ? optarg : NULL;
			break;
		case OPT_ZMQ_LISTEN:
			o.zmq_listen = optarg[0] ? optarg : NULL;
			break;
		case OPT_ZMQ_CONNECT: {
			/* Wireshark passes a string argument once: accept a
			 * space-separated list as well as repeated options. */
			char *save = NULL, *tok;

			for (tok = strtok_r(optarg, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
				if (o.n_zmq_connect >= OPTIONS_ZMQ_CONNECT_MAX) {
					snprintf(errbuf, errlen, "at most %u --zmq-connect endpoints",
						 OPTIONS_ZMQ_CONNECT_MAX);
					return -EINVAL;
				}
				o.zmq_connect[o.n_zmq_connect++] = tok;
			}
			break;
		}
		case ':':
			snprintf(errbuf, errlen, "option %s needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			snprintf(errbuf, errlen, "unknown option '%s'; see ebpfdump --help",
				 argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (o.action == ACTION_MERGE) {
		if (argc - optind != 2 || !o.fifo) {
			snprintf(errbuf, errlen,
				 "--merge needs two input files and an output: ebpfdump --merge "
				 "PACKETS.pcap EVENTS.pcapng --fifo OUT.pcapng");
			return -EINVAL;
		}
		o.merge_packets = argv[optind];
		o.merge_events = argv[optind + 1];
		optind = argc;
	}
	if (optind < argc) {
		snprintf(errbuf, errlen, "unexpected argument '%s'; see ebpfdump --help",
			 argv[optind]);
		return -EINVAL;
	}
	if (o.command) {
		r = command_options(&o, errbuf, errlen);
		if (r < 0)
			return r;
	}
	if (o.tls && (o.action == ACTION_MERGE || o.zmq_listen || o.n_zmq_connect)) {
		snprintf(errbuf, errlen, "--tls needs a live capture on this host (not --merge, "
					 "--zmq-listen or --zmq-connect)");
		return -EINVAL;
	}
	if ((o.action == ACTION_LIST_DLTS || o.action == ACTION_CONFIG ||
	     o.action == ACTION_CAPTURE) && !o.interface) {
		snprintf(errbuf, errlen, "this action needs --extcap-interface (try %s)",
			 IFACE_EVENTS);
		return -EINVAL;
	}
	/* Container and pod interfaces ("veth@name") come and go: whether one
	 * exists is checked when the capture starts. */
	if (o.interface && strcmp(o.interface, IFACE_EVENTS) != 0 &&
	    strcmp(o.interface, IFACE_ZMQ) != 0 && !strchr(o.interface, '@')) {
		snprintf(errbuf, errlen,
			 "unknown interface '%s'; ebpfdump --extcap-interfaces lists them (%s, %s, "
			 "and VETH@CONTAINER for containers and pods)",
			 o.interface, IFACE_EVENTS, IFACE_ZMQ);
		return -EINVAL;
	}
	if ((o.zmq_listen || o.n_zmq_connect) &&
	    (!o.interface || strcmp(o.interface, IFACE_ZMQ) != 0)) {
		snprintf(errbuf, errlen,
			 "--zmq-listen and --zmq-connect receive remote events: they go with "
			 "--extcap-interface %s",
			 IFACE_ZMQ);
		return -EINVAL;
	}
	if (o.zmq_publish && o.action == ACTION_NONE)
		o.action = ACTION_PUBLISH;
	if (o.interface && strcmp(o.interface, IFACE_ZMQ) == 0 && o.action == ACTION_CAPTURE) {
		if (!o.zmq_listen && !o.n_zmq_connect) {
			snprintf(errbuf, errlen,
				 "%s needs --zmq-listen ENDPOINT (publishers connect in) or "
				 "--zmq-connect ENDPOINT[,SERVER_KEY_FILE] (one per publisher)",
				 IFACE_ZMQ);
			return -EINVAL;
		}
		if (o.zmq_listen && o.n_zmq_connect) {
			snprintf(errbuf, errlen, "--zmq-listen and --zmq-connect exclude each other");
			return -EINVAL;
		}
		if (o.n_ifnames) {
			snprintf(errbuf, errlen, "--ifname does not go with %s: remote hosts send "
						 "events only",
				 IFACE_ZMQ);
			return -EINVAL;
		}
	}
	r = check_container_interfaces(&o, errbuf, errlen);
	if (r < 0)
		return r;
	if (!o.event_frames && o.comment_mode == COMMENT_COMPACT) {
		if (comment_set) {
			snprintf(errbuf, errlen,
				 "--packet-comment compact needs the event frames (the processes' "
				 "details are written once, as Identity frames): leave out "
				 "--no-event-frames, or use --packet-comment full or brief");
			return -EINVAL;
		}
		o.comment_mode = COMMENT_FULL;
	}
	if (o.command && !o.fifo)
		o.print = true;
	if (o.print && o.fifo && strcmp(o.fifo, "-") == 0) {
		snprintf(errbuf, errlen, "--print and --fifo - both write to stdout: give --fifo a "
					 "file, or leave it out to print only");
		return -EINVAL;
	}
	if (o.print && o.action != ACTION_CAPTURE) {
		snprintf(errbuf, errlen, "--print goes with --capture (or a command after '--')");
		return -EINVAL;
	}
	if (o.action == ACTION_CAPTURE && !o.fifo && !o.print) {
		snprintf(errbuf, errlen, "--capture needs --fifo PATH (a fifo, a file, or - for "
					 "stdout), or --print");
		return -EINVAL;
	}
	*ret = o;
	return 0;
}
