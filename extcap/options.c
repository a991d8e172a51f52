/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Command-line parsing and validation for ebpfdump. */
#include "extcap/options.h"

#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
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

/* Every long option, once: its id (OPT_ID), its short letter (0: none),
 * its name, whether it takes a value, its group and value name in --help,
 * its help text ("%E": the event type names) and its numeric range and
 * default (R(min, max, default), R_NODEF(min, max), or NR), taken from the
 * owning module's header. The enum of ids, getopt's table and --help are
 * made from this list; options_drift (wireshark_docs) checks that the man
 * page and the extcap dialog name no option outside it (issue 16). */
#define OPTIONS(X) \
	X(EXTCAP_INTERFACES, 0, "extcap-interfaces", NONE, EXTCAP, "", \
	  "list interfaces", NR) \
	X(EXTCAP_VERSION, 0, "extcap-version", OPTIONAL, EXTCAP, "[=VER]", \
	  "Wireshark's version (accepted, informational)", NR) \
	X(EXTCAP_INTERFACE, 0, "extcap-interface", REQUIRED, EXTCAP, "IFACE", \
	  "interface to act on: ebpfevents, ebpfzmqevents, or a container's ebpf@VETH@NAME", NR) \
	X(EXTCAP_DLTS, 0, "extcap-dlts", NONE, EXTCAP, "", \
	  "list the link types of IFACE", NR) \
	X(EXTCAP_CONFIG, 0, "extcap-config", NONE, EXTCAP, "", \
	  "list the configuration arguments of IFACE", NR) \
	X(EXTCAP_RELOAD_OPTION, 0, "extcap-reload-option", REQUIRED, EXTCAP, "ARG", \
	  "with --extcap-config: the values of ARG only", NR) \
	X(CAPTURE, 0, "capture", NONE, EXTCAP, "", \
	  "capture on IFACE into --fifo", NR) \
	X(FIFO, 0, "fifo", REQUIRED, EXTCAP, "PATH", \
	  "output: fifo or file; - is stdout", NR) \
	X(CAPTURE_FILTER, 0, "extcap-capture-filter", REQUIRED, EXTCAP, "F", \
	  "capture filter for the packets (pcap syntax)", NR) \
	X(CONTROL_IN, 0, "extcap-control-in", REQUIRED, EXTCAP, "PIPE", \
	  "the toolbar's pipe from Wireshark (Wireshark passes it)", NR) \
	X(CONTROL_OUT, 0, "extcap-control-out", REQUIRED, EXTCAP, "PIPE", \
	  "the toolbar's pipe to Wireshark (Wireshark passes it)", NR) \
	X(DEBUG, 'v', "debug", NONE, EXTCAP, "", \
	  "debug messages on stderr", NR) \
	X(QUIET, 'q', "quiet", NONE, EXTCAP, "", \
	  "no info messages and no progress line on stderr (warnings and errors still)", NR) \
	X(DEBUG_FILE, 0, "debug-file", REQUIRED, EXTCAP, "PATH", \
	  "debug messages appended to PATH", NR) \
	X(EVENTS, 0, "events", REQUIRED, CAPTURE, "LIST", \
	  "event types, comma-separated, or all (the default): %E (the last two: sockets " \
	  "open at start)", NR) \
	X(UDP_INTERVAL, 0, "udp-interval", REQUIRED, CAPTURE, "MS", \
	  "a UDP flow reports at most once per MS ms, with its datagram and byte counts", \
	  R(OPTIONS_UDP_INTERVAL_MS_MIN, OPTIONS_UDP_INTERVAL_MS_MAX, \
	    OPTIONS_UDP_INTERVAL_MS_DEFAULT)) \
	X(RINGBUF, 0, "ring-buffer-size", REQUIRED, CAPTURE, "MIB", \
	  "kernel ring buffer in MiB, a power of two", \
	  R(OPTIONS_RINGBUF_MB_MIN, OPTIONS_RINGBUF_MB_MAX, OPTIONS_RINGBUF_MB_DEFAULT)) \
	X(DURATION, 0, "duration", REQUIRED, CAPTURE, "SECONDS", \
	  "stop after SECONDS; without it, until stopped", R_NODEF(1, OPTIONS_DURATION_MAX)) \
	X(PRINT, 0, "print", NONE, CAPTURE, "", \
	  "also a line per event and packet on stdout; without --fifo, only that (the " \
	  "default with a command after --)", NR) \
	X(HOST, 0, "host", REQUIRED, CAPTURE, "NAME", \
	  "host label on every event (default: the host name)", NR) \
	X(NO_SNAPSHOT, 0, "no-snapshot", NONE, CAPTURE, "", \
	  "do not look up the sockets open at start", NR) \
	X(NO_CONTAINERS, 0, "no-containers", NONE, CAPTURE, "", \
	  "do not ask container runtimes for names", NR) \
	X(HOOKS, 0, "hooks", REQUIRED, CAPTURE, "auto|fentry|tracepoint|raw", \
	  "kernel hooks for accepts and UDP: fexit programs (fentry), the system calls' own " \
	  "tracepoints (tracepoint: needs tracefs), both no cost to other system calls; raw " \
	  "system-call hooks (raw); or the cheapest this kernel runs (auto, the default)", NR) \
	X(BTF, 0, "btf", REQUIRED, CAPTURE, "FILE", \
	  "the kernel's BTF from FILE (a vmlinux with BTF or a .btf file, e.g. BTFHub's) " \
	  "where the kernel has no /sys/kernel/btf/vmlinux; the fentry tier still needs the " \
	  "kernel's own", NR) \
	X(TLS, 0, "tls", NONE, CAPTURE, "", \
	  "RECORDS TLS PLAINTEXT (passwords, cookies): uprobes on OpenSSL/GnuTLS write each " \
	  "TLS read and write as an HTTP frame with its process; Go programs' TLS secrets go " \
	  "into the file (decrypts --ifname packets); the output must be a fifo or a 0600 " \
	  "file", NR) \
	X(PID, 0, "pid", REQUIRED, FILTERS, "PID", \
	  "only this process", NR) \
	X(PID_TREE, 0, "pid-tree", REQUIRED, FILTERS, "PID", \
	  "this process and its descendants", NR) \
	X(UID, 0, "uid", REQUIRED, FILTERS, "UID", \
	  "only this user", NR) \
	X(COMM, 0, "comm", REQUIRED, FILTERS, "NAME", \
	  "only tasks with this exact name (15 bytes at most)", NR) \
	X(CGROUP, 0, "cgroup", REQUIRED, FILTERS, "ID", \
	  "only this cgroup (ebpf.cgroup_id), e.g. a container", NR) \
	X(NETNS, 0, "netns", REQUIRED, FILTERS, "self|any|INODE", \
	  "only events of this network namespace (self: the one ebpfdump runs in, e.g. under " \
	  "ip netns exec)", NR) \
	X(IFNAME, 0, "ifname", REQUIRED, PACKETS, "IFACE", \
	  "also capture packets on IFACE (e.g. eth0, any, veth1234@web for a container's " \
	  "interface; none: events only, the default); up to 8 times, each interface its own " \
	  "in the file", NR) \
	X(CONTAINER, 0, "container", REQUIRED, PACKETS, "NAME", \
	  "one container (a name, an id or its first 12 characters, or a pod's name): the " \
	  "events of its network namespace and the packets on its host veth, as its " \
	  "ebpf@VETH@NAME interface", NR) \
	X(POD, 0, "pod", REQUIRED, PACKETS, "POD|NAMESPACE/POD", \
	  "the same for a Kubernetes pod (or POD.NAMESPACE)", NR) \
	X(SNAPLEN, 0, "snaplen", REQUIRED, PACKETS, "BYTES", \
	  "bytes kept per packet", \
	  R(OPTIONS_SNAPLEN_MIN, OPTIONS_SNAPLEN_MAX, OPTIONS_SNAPLEN_DEFAULT)) \
	X(PROMISC, 0, "promisc", NONE, PACKETS, "", \
	  "promiscuous mode (the default)", NR) \
	X(NO_PROMISC, 0, "no-promisc", NONE, PACKETS, "", \
	  "no promiscuous mode", NR) \
	X(BUFFER, 0, "buffer-size", REQUIRED, PACKETS, "MIB", \
	  "kernel packet buffer in MiB", \
	  R(1, OPTIONS_BUFFER_MB_MAX, OPTIONS_BUFFER_MB_DEFAULT)) \
	X(WINDOW, 0, "reorder-window", REQUIRED, PACKETS, "MS", \
	  "how long a packet may wait for its event, in ms", \
	  R(0, OPTIONS_WINDOW_MS_MAX, OPTIONS_WINDOW_MS_DEFAULT)) \
	X(FLOWS, 0, "flows", REQUIRED, PACKETS, "N", \
	  "flows remembered", R(OPTIONS_FLOWS_MIN, OPTIONS_FLOWS_MAX, OPTIONS_FLOWS_DEFAULT)) \
	X(LINGER, 0, "linger", REQUIRED, PACKETS, "SECONDS", \
	  "a closed flow is kept this long", \
	  R(0, OPTIONS_LINGER_S_MAX, OPTIONS_LINGER_S_DEFAULT)) \
	X(NO_EVENT_FRAMES, 0, "no-event-frames", NONE, PACKETS, "", \
	  "packets only: events tag packets but are not written as frames of their own (no " \
	  "events interface: a file tcpdump -r reads)", NR) \
	X(PACKET_COMMENT, 0, "packet-comment", REQUIRED, PACKETS, "compact|full|brief", \
	  "what a tagged packet's comment names: each process as comm[pid]@pod, its details " \
	  "written once per process as an Identity frame (compact, the default; full with " \
	  "--no-event-frames); every detail of both processes on every packet (full: for " \
	  "tools without ebpf.lua); or pid, tid, comm, container, pod, namespace (brief)", NR) \
	X(MERGE, 0, "merge", NONE, OFFLINE, "PACKETS EVENTS", \
	  "with --fifo OUT: PACKETS, a pcap or pcapng (e.g. from tcpdump), and EVENTS, a " \
	  "pcapng written by ebpfdump, into OUT, each packet tagged with its processes " \
	  "(--reorder-window, --flows, --linger, --packet-comment apply)", NR) \
	X(ZMQ_KEYGEN, 0, "zmq-keygen", REQUIRED, REMOTE, "PREFIX", \
	  "write PREFIX.key (secret) and PREFIX.pub, exit", NR) \
	X(ZMQ_PUBLISH, 0, "zmq-publish", REQUIRED, REMOTE, "ENDPOINT", \
	  "publish kernel events (a long-lived service; with --capture, also write them to " \
	  "--fifo)", NR) \
	X(ZMQ_BIND, 0, "zmq-bind", NONE, REMOTE, "", \
	  "the publisher binds ENDPOINT instead of connecting", NR) \
	X(ZMQ_JSON, 0, "zmq-json", NONE, REMOTE, "", \
	  "also publish JSON messages", NR) \
	X(ZMQ_KEY, 0, "zmq-key", REQUIRED, REMOTE, "FILE", \
	  "our secret key (PREFIX.key)", NR) \
	X(ZMQ_SERVER_KEY, 0, "zmq-server-key", REQUIRED, REMOTE, "FILE", \
	  "the binding side's public key (PREFIX.pub)", NR) \
	X(ZMQ_AUTHORIZED_KEYS, 0, "zmq-authorized-keys", REQUIRED, REMOTE, "FILE", \
	  "binding side: public keys let in, one per line", NR) \
	X(ZMQ_PLAINTEXT, 0, "zmq-plaintext", NONE, REMOTE, "", \
	  "no encryption, no authentication (warns)", NR) \
	X(ZMQ_LISTEN, 0, "zmq-listen", REQUIRED, REMOTE, "ENDPOINT", \
	  "with --extcap-interface ebpfzmqevents: receive from publishers that connect in", NR) \
	X(ZMQ_CONNECT, 0, "zmq-connect", REQUIRED, REMOTE, "EP[,KEYFILE]", \
	  "with --extcap-interface ebpfzmqevents: receive from a binding publisher " \
	  "(repeatable)", NR) \
	X(HELP, 0, "help", NONE, OTHER, "", "this text", NR) \
	X(VERSION, 0, "version", NONE, OTHER, "", "the version", NR)

/* --help's groups, in their order. */
#define OPTION_GROUPS(G) \
	G(EXTCAP, "Extcap protocol (used by Wireshark):") \
	G(CAPTURE, "Capture options:") \
	G(FILTERS, "Filters, applied in the kernel (filtered events cost no ring-buffer traffic):") \
	G(PACKETS, "Packets plus events (merged: each packet names its sender and receiver " \
		   "process):") \
	G(OFFLINE, "Offline merge of saved captures (same engine as a live capture):") \
	G(REMOTE, "Remote events over ZeroMQ (CURVE-encrypted unless --zmq-plaintext):") \
	G(OTHER, "Other:")

enum option_group {
#define GROUP_ID(id, title) GROUP_##id,
	OPTION_GROUPS(GROUP_ID)
#undef GROUP_ID
	GROUP_COUNT_
};

struct option_range {
	bool has, has_default;
	unsigned long long min, max, def;
};
#define R(lo, hi, d) ((struct option_range){ true, true, (lo), (hi), (d) })
#define R_NODEF(lo, hi) ((struct option_range){ true, false, (lo), (hi), 0 })
#define NR ((struct option_range){ 0 })

#define ARG_NONE no_argument
#define ARG_REQUIRED required_argument
#define ARG_OPTIONAL optional_argument

enum {
	OPT_FIRST_ = 999, /* above every short option character */
#define OPTION_ID(id, letter, name, arg, group, meta, help, range) OPT_##id,
	OPTIONS(OPTION_ID)
#undef OPTION_ID
};

static const struct option long_options[] = {
#define OPTION_ROW(id, letter, name, arg, group, meta, help, range) \
	{ name, ARG_##arg, NULL, OPT_##id },
	OPTIONS(OPTION_ROW)
#undef OPTION_ROW
	{ NULL, 0, NULL, 0 },
};

const char *options_name(size_t i)
{
	return i < sizeof(long_options) / sizeof(long_options[0]) - 1 ? long_options[i].name : NULL;
}

/* --help's layout: options from column 2, their help from column 31,
 * lines of at most 80 columns. */
#define HELP_COLUMN 31
#define HELP_WIDTH 80

struct usage_text {
	char buf[16384];
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void usage_add(struct usage_text *u,
							     const char *fmt, ...)
{
	va_list ap;
	int n;

	if (u->len >= sizeof(u->buf))
		return;
	va_start(ap, fmt);
	n = vsnprintf(u->buf + u->len, sizeof(u->buf) - u->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		u->len += (size_t)n;
}

/* One option: its names from column 2, its help wrapped from
 * HELP_COLUMN, starting on the next line when the names reach it. */
static void usage_option(struct usage_text *u, char letter, const char *name, const char *meta,
			 const char *help, struct option_range range)
{
	char names[96], text[1024];
	const char *p;
	int col, n;

	if (letter)
		n = snprintf(names, sizeof(names), "  -%c, --%s", letter, name);
	else
		n = snprintf(names, sizeof(names), "  --%s", name);
	/* "--name VALUE", or "--name[=VALUE]" for an optional value. */
	n += snprintf(names + n, sizeof(names) - (size_t)n, "%s%s",
		      meta[0] && meta[0] != '[' ? " " : "", meta);
	/* "%E": the event types --events takes. */
	p = strstr(help, "%E");
	if (p)
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(p - help), help,
			 options_event_names(), p + 2);
	else
		snprintf(text, sizeof(text), "%s", help);
	if (range.has && range.has_default)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), " (%llu-%llu, default %llu)",
			 range.min, range.max, range.def);
	else if (range.has)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), " (%llu-%llu)", range.min,
			 range.max);
	usage_add(u, "%s", names);
	col = n;
	if (col >= HELP_COLUMN - 1) {
		usage_add(u, "\n");
		col = 0;
	}
	for (p = text; *p;) {
		size_t word = strcspn(p, " ");

		if (col > HELP_COLUMN && col + 1 + (int)word > HELP_WIDTH) {
			usage_add(u, "\n");
			col = 0;
		}
		if (col < HELP_COLUMN) {
			usage_add(u, "%*s", HELP_COLUMN - col, "");
			col = HELP_COLUMN;
		} else {
			usage_add(u, " ");
			col++;
		}
		usage_add(u, "%.*s", (int)word, p);
		col += (int)word;
		p += word;
		while (*p == ' ')
			p++;
	}
	usage_add(u, "\n");
}

const char *options_usage(void)
{
	static struct usage_text u;
	static const char *const titles[] = {
#define GROUP_TITLE(id, title) title,
		OPTION_GROUPS(GROUP_TITLE)
#undef GROUP_TITLE
	};

	if (u.len)
		return u.buf;
	usage_add(&u, "%s",
		  "Usage: ebpfdump [OPTIONS]\n"
		  "       ebpfdump [OPTIONS] --fifo OUT.pcapng -- COMMAND [ARGS]\n"
		  "Wireshark extcap tool: eBPF events of TCP and UDP sockets (who connected,\n"
		  "accepted, closed, sent, received) as pcapng, merged into the packets when\n"
		  "packets are captured too, decoded by the ebpf.lua dissector.\n"
		  "\n"
		  "Capture from a shell (stop with Ctrl-C; the file stays valid):\n"
		  "  ebpfdump --capture --extcap-interface ebpfevents --fifo out.pcapng\n"
		  "Run COMMAND and capture its events and its children's, from its first system\n"
		  "call until it exits; ebpfdump exits with its status (127: not found):\n"
		  "  ebpfdump --fifo out.pcapng -- curl -s http://example.test/\n");
	for (int g = 0; g < GROUP_COUNT_; g++) {
		usage_add(&u, "\n%s\n", titles[g]);
#define USAGE_ROW(id, letter, name, arg, group, meta, help, range) \
	if (GROUP_##group == g) \
		usage_option(&u, letter, name, meta, help, range);
		OPTIONS(USAGE_ROW)
#undef USAGE_ROW
	}
	return u.buf;
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
