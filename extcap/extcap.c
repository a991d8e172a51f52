/* SPDX-License-Identifier: GPL-2.0-or-later */
/* extcap protocol answers (see extcap(4)): the sentences Wireshark parses. */
#include "extcap/extcap.h"

#include <ctype.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "extcap/control.h"
#include "enrich/container.h"
#include "enrich/netdev.h"
#include "event/event.h"
#include "pcapng/writer.h"

#if EBPFDUMP_WITH_BPF
/* Names come from container runtimes: data that must not break the
 * sentence syntax. Braces and control characters become '_'. */
static void sentence_safe(char *dst, size_t size, const char *src, bool for_value)
{
	size_t i = 0;

	for (; *src && i + 1 < size; src++) {
		unsigned char ch = (unsigned char)*src;
		bool bad = ch < 0x20 || ch == 0x7f || ch == '{' || ch == '}';

		/* Interface values travel as one argv word: keep them plain. */
		if (for_value && !(isalnum(ch) || ch == '.' || ch == '-' || ch == '_' || ch == '@' ||
				   ch == '/'))
			bad = true;
		dst[i++] = bad ? '_' : (char)ch;
	}
	dst[i] = '\0';
}

/* The containers and pods with an interface on this host; NULL when none
 * can be listed (no runtime answers, no permission). */
static struct netdev_list *container_netdevs(void)
{
	struct container_resolver *cr = NULL;
	struct netdev_list *l = NULL;
	const char *why = NULL;

	if (container_resolver_new(NULL, &cr) < 0)
		return NULL;
	if (netdev_list_containers(cr, &l, &why) < 0)
		l = NULL;
	container_resolver_free(cr);
	return l;
}

/* One interface per container, and per pod (its containers share the pod's
 * network namespace): value "ebpf@<host veth>@<key>" (the key is unique:
 * "namespace.pod" or the container's name), display "eBPF Pod P, Namespace
 * N" or "eBPF Container C", so that both sort next to "eBPF Events". Two
 * entries that would read alike say their veth. */
static void list_container_interfaces(FILE *out)
{
	struct netdev_list *l = container_netdevs();

	for (size_t i = 0; l && i < l->count; i++) {
		const struct netdev_entry *e = &l->entries[i];
		char value[sizeof(NETDEV_VALUE_PREFIX) + IF_NAMESIZE + sizeof(e->key) + 1];
		char display[NETDEV_DISPLAY_MAX + 1];
		char spec[sizeof(value)];
		bool alike = false;

		for (size_t k = 0; k < l->count; k++)
			alike |= k != i && strcmp(l->entries[k].display, e->display) == 0;
		snprintf(spec, sizeof(spec), NETDEV_VALUE_PREFIX "%s@%s", e->ifname, e->key);
		sentence_safe(value, sizeof(value), spec, true);
		sentence_safe(display, sizeof(display), e->display, false);
		if (alike)
			fprintf(out, "interface {value=%s}{display=eBPF %s (%s)}\n", value, display,
				e->ifname);
		else
			fprintf(out, "interface {value=%s}{display=eBPF %s}\n", value, display);
	}
	netdev_list_free(l);
}

/* The values of the --ifname selector: none, any, then every interface of
 * this network namespace, a container's veth with the container's name. */
static void values_ifname(FILE *out, int arg, const struct netdev_list *l)
{
	struct if_nameindex *ifs = if_nameindex();
	char value[IF_NAMESIZE + 1], display[NETDEV_DISPLAY_MAX + IF_NAMESIZE + 8];

	fprintf(out, "value {arg=%d}{value=%s}{display=None: events only}{default=true}\n", arg,
		OPTIONS_IFNAME_NONE);
	fprintf(out, "value {arg=%d}{value=any}{display=any: every interface}{default=false}\n",
		arg);
	for (struct if_nameindex *i = ifs; i && i->if_index; i++) {
		const char *owner = NULL;

		for (size_t k = 0; l && k < l->count; k++)
			if (l->entries[k].ifindex == i->if_index)
				owner = l->entries[k].display;
		sentence_safe(value, sizeof(value), i->if_name, true);
		if (owner) {
			char safe[NETDEV_DISPLAY_MAX + 1];

			sentence_safe(safe, sizeof(safe), owner, false);
			snprintf(display, sizeof(display), "%s: %s", value, safe);
		} else {
			snprintf(display, sizeof(display), "%s", value);
		}
		fprintf(out, "value {arg=%d}{value=%s}{display=%s}{default=false}\n", arg, value,
			display);
	}
	if (ifs)
		if_freenameindex(ifs);
}

/* The values of the --netns selector: any, then each container's or pod's
 * network namespace (its inode), by name. */
static void values_netns(FILE *out, int arg, const struct netdev_list *l)
{
	fprintf(out, "value {arg=%d}{value=any}{display=Any}{default=true}\n", arg);
	for (size_t k = 0; l && k < l->count; k++) {
		char display[NETDEV_DISPLAY_MAX + 1];
		bool seen = false;

		for (size_t j = 0; j < k; j++)
			seen |= l->entries[j].netns == l->entries[k].netns;
		if (seen || !l->entries[k].netns)
			continue;
		sentence_safe(display, sizeof(display), l->entries[k].display, false);
		fprintf(out, "value {arg=%d}{value=%u}{display=%s}{default=false}\n", arg,
			l->entries[k].netns, display);
	}
}
#endif

int extcap_list_interfaces(FILE *out)
{
	fprintf(out,
		"extcap {version=%s}{display=eBPF events of processes and containers}"
		"{help=%s}\n",
		EBPFDUMP_VERSION, EBPFDUMP_HELP_URL);
#if EBPFDUMP_WITH_BPF
	fprintf(out, "interface {value=%s}{display=eBPF Events}\n", IFACE_EVENTS);
#endif
	fprintf(out, "interface {value=%s}{display=eBPF Remote Events (ZMQ)}\n", IFACE_ZMQ);
#if EBPFDUMP_WITH_BPF
	list_container_interfaces(out);
#endif
	control_print_sentences(out);
	return fflush(out) == 0 ? 0 : -1;
}

static bool is_container_iface(const struct options *o)
{
	return strchr(o->interface, '@') != NULL;
}

int extcap_list_dlts(FILE *out, const struct options *o)
{
	if (is_container_iface(o))
		fprintf(out, "dlt {number=%d}{name=EN10MB}{display=Ethernet packets tagged with "
			     "eBPF events}\n",
			LINKTYPE_ETHERNET);
	else
		fprintf(out, "dlt {number=%d}{name=WIRESHARK_UPPER_PDU}{display=eBPF events}\n",
			LINKTYPE_WIRESHARK_UPPER_PDU);
	return fflush(out) == 0 ? 0 : -1;
}

static int arg_events(FILE *out, int arg)
{
	fprintf(out,
		"arg {number=%d}{call=--events}{display=Event types}{type=multicheck}"
		"{tooltip=Kernel events to capture; unchecked types are filtered at the source}"
		"{group=Events}{save=false}\n",
		arg);
	for (unsigned t = 1; t < EVENT_TYPE_MAX; t++)
		if (EVENT_TYPE_CAPTURED(t))
			fprintf(out, "value {arg=%d}{value=%s}{display=%s: %s}{default=true}\n",
				arg, event_type_name(t), event_type_name(t),
				event_type_description(t));
	return arg + 1;
}

static int arg_kernel(FILE *out, int arg, const struct netdev_list *l)
{
	fprintf(out,
		"arg {number=%d}{call=--ring-buffer-size}{display=Ring buffer (MiB)}"
		"{type=selector}{tooltip=Kernel ring buffer between BPF programs and ebpfdump; "
		"larger loses fewer events under bursts}{group=Performance}\n",
		arg);
	for (unsigned mb = OPTIONS_RINGBUF_MB_MIN; mb <= OPTIONS_RINGBUF_MB_MAX; mb *= 2)
		fprintf(out, "value {arg=%d}{value=%u}{display=%u MiB}{default=%s}\n", arg, mb, mb,
			mb == OPTIONS_RINGBUF_MB_DEFAULT ? "true" : "false");
	arg++;
	fprintf(out,
		"arg {number=%d}{call=--pid-tree}{display=Process (and children)}{type=string}"
		"{validation=^[0-9]*$}{tooltip=Only this pid and its descendants; filtered in "
		"the kernel}{group=Filters}\n",
		arg++);
	fprintf(out,
		"arg {number=%d}{call=--uid}{display=User id}{type=string}{validation=^[0-9]*$}"
		"{tooltip=Only this user's processes (a number)}{group=Filters}\n",
		arg++);
	fprintf(out,
		"arg {number=%d}{call=--comm}{display=Command}{type=string}"
		"{tooltip=Only tasks with this exact name (at most 15 "
		"characters, as ps shows it)}{group=Filters}\n",
		arg++);
	fprintf(out,
		"arg {number=%d}{call=--cgroup}{display=Cgroup id}{type=string}"
		"{validation=^[0-9]*$}{tooltip=Only this cgroup (ebpf.cgroup_id of an event), e.g. "
		"a container's}{group=Filters}\n",
		arg++);
	fprintf(out,
		"arg {number=%d}{call=--netns}{display=Container or pod}{type=selector}"
		"{reload=true}{placeholder=Reload containers}{tooltip=Only events in this "
		"container's or pod's network namespace (its processes' connections)}"
		"{group=Filters}\n",
		arg);
#if EBPFDUMP_WITH_BPF
	values_netns(out, arg, l);
#else
	(void)l;
	fprintf(out, "value {arg=%d}{value=any}{display=Any}{default=true}\n", arg);
#endif
	arg++;
	fprintf(out,
		"arg {number=%d}{call=--udp-interval}{display=UDP report interval (ms)}"
		"{type=integer}{range=%u,%u}{default=%u}{tooltip=A UDP flow reports at most "
		"once per interval, with its datagram and byte counts}{group=Events}\n",
		arg++, OPTIONS_UDP_INTERVAL_MS_MIN, OPTIONS_UDP_INTERVAL_MS_MAX,
		OPTIONS_UDP_INTERVAL_MS_DEFAULT);
	fprintf(out,
		"arg {number=%d}{call=--host}{display=Host label}{type=string}"
		"{tooltip=Name put in ebpf.host of every event (default: this host's name)}"
		"{group=Events}\n",
		arg);
	return arg + 1;
}

static int arg_packets(FILE *out, int arg, bool with_ifname, const struct netdev_list *l)
{
	if (with_ifname) {
		fprintf(out,
			"arg {number=%d}{call=--ifname}{display=Also capture packets on}"
			"{type=selector}{reload=true}{placeholder=Reload interfaces}{tooltip=Interface "
			"whose packets are merged with the events; a container's veth is shown with "
			"its name}{group=Packets}\n",
			arg);
#if EBPFDUMP_WITH_BPF
		values_ifname(out, arg, l);
#else
		(void)l;
#endif
		arg++;
	}
	fprintf(out,
		"arg {number=%d}{call=--reorder-window}{display=Reorder window (ms)}"
		"{type=integer}{range=0,%u}{default=%u}{tooltip=How long a packet may wait for "
		"the event that names its process}{group=Packets}\n",
		arg++, OPTIONS_WINDOW_MS_MAX, OPTIONS_WINDOW_MS_DEFAULT);
	fprintf(out,
		"arg {number=%d}{call=--snaplen}{display=Snapshot length}{type=integer}"
		"{range=%u,%u}{default=%u}{tooltip=Bytes kept of each packet}{group=Packets}\n",
		arg++, OPTIONS_SNAPLEN_MIN, OPTIONS_SNAPLEN_MAX, OPTIONS_SNAPLEN_DEFAULT);
	fprintf(out,
		"arg {number=%d}{call=--no-promisc}{display=Not promiscuous}{type=boolflag}"
		"{default=false}{tooltip=Capture only packets addressed to this host}"
		"{group=Packets}\n",
		arg++);
	fprintf(out,
		"arg {number=%d}{call=--buffer-size}{display=Packet buffer (MiB)}{type=integer}"
		"{range=1,%u}{default=%u}{tooltip=Kernel buffer for packets}{group=Packets}\n",
		arg++, OPTIONS_BUFFER_MB_MAX, OPTIONS_BUFFER_MB_DEFAULT);
	fprintf(out,
		"arg {number=%d}{call=--packet-comment}{display=Packet comment}{type=selector}"
		"{tooltip=What each tagged packet names of its processes: name, pid and pod, "
		"with the details once per process (compact); everything on every packet, for "
		"tools without ebpf.lua (full); or pid, tid, comm, container and pod (brief)}"
		"{group=Packets}\n",
		arg);
	fprintf(out, "value {arg=%d}{value=compact}{display=Compact}{default=true}\n", arg);
	fprintf(out, "value {arg=%d}{value=full}{display=Full}{default=false}\n", arg);
	fprintf(out, "value {arg=%d}{value=brief}{display=Brief}{default=false}\n", arg);
	arg++;
#if EBPFDUMP_WITH_BPF
	fprintf(out,
		"arg {number=%d}{call=--tls}{display=Record TLS plaintext (HTTPS)}{type=boolflag}"
		"{default=false}{tooltip=RECORDS DECRYPTED TLS DATA (passwords, cookies, tokens) "
		"of OpenSSL and GnuTLS programs as HTTP frames with their process; the capture "
		"file then holds secrets}{group=Packets}\n",
		arg++);
#endif
	return arg;
}

static int arg_remote(FILE *out, int arg)
{
	fprintf(out,
		"arg {number=%d}{call=--zmq-listen}{display=Listen on}{type=string}"
		"{placeholder=tcp://0.0.0.0:5556}{tooltip=Endpoint publishers connect to (many "
		"hosts into this Wireshark)}{group=Remote}\n",
		arg++);
	fprintf(out,
		"arg {number=%d}{call=--zmq-connect}{display=Connect to}{type=string}"
		"{placeholder=tcp://host:5556,/path/host.pub}{tooltip=Binding publishers, "
		"space-separated, each ENDPOINT,SERVER_PUBLIC_KEY_FILE}{group=Remote}\n",
		arg++);
	fprintf(out,
		"arg {number=%d}{call=--zmq-key}{display=Secret key}{type=fileselect}"
		"{mustexist=true}{tooltip=This side's PREFIX.key from ebpfdump --zmq-keygen}"
		"{group=Remote}\n",
		arg++);
	fprintf(out,
		"arg {number=%d}{call=--zmq-authorized-keys}{display=Authorized publisher keys}"
		"{type=fileselect}{mustexist=true}{tooltip=Public keys of the publishers let in, "
		"one per line (when listening)}{group=Remote}\n",
		arg++);
	fprintf(out,
		"arg {number=%d}{call=--zmq-plaintext}{display=Plain TCP (no encryption)}"
		"{type=boolflag}{default=false}{tooltip=Accept unencrypted, unauthenticated "
		"events: only on a trusted network}{group=Remote}\n",
		arg++);
	fprintf(out,
		"arg {number=%d}{call=--reorder-window}{display=Reorder window (ms)}"
		"{type=integer}{range=0,%u}{default=%u}{tooltip=How long events wait to be put "
		"in time order across hosts}{group=Remote}\n",
		arg++, OPTIONS_WINDOW_MS_MAX, OPTIONS_REMOTE_WINDOW_MS_DEFAULT);
	return arg;
}

/* Like Wireshark's own extcaps: debug messages, to stderr or a file. */
static int arg_debug(FILE *out, int arg)
{
	fprintf(out,
		"arg {number=%d}{call=--debug}{display=Debug messages}{type=boolflag}"
		"{default=false}{tooltip=Log debug messages (to the file below, or to "
		"Wireshark's extcap log)}{group=Debug}\n",
		arg++);
	fprintf(out,
		"arg {number=%d}{call=--debug-file}{display=Debug log file}{type=fileselect}"
		"{mustexist=false}{tooltip=Append debug messages to this file}{group=Debug}\n",
		arg++);
	return arg;
}

static void list_config(FILE *out, const struct options *o)
{
	struct netdev_list *l = NULL;
	int arg = 0;

	if (strcmp(o->interface, IFACE_ZMQ) == 0) {
		arg = arg_events(out, arg);
		arg = arg_remote(out, arg);
		arg_debug(out, arg);
		return;
	}
#if EBPFDUMP_WITH_BPF
	/* A container's interface needs no list: its scope is the container,
	 * and Wireshark asks this once per interface (fast at 200). */
	if (!is_container_iface(o))
		l = container_netdevs();
#endif
	arg = arg_events(out, arg);
	arg = arg_kernel(out, arg, l);
	arg = arg_packets(out, arg, !is_container_iface(o), l);
	arg_debug(out, arg);
	netdev_list_free(l);
}

/* With --extcap-reload-option NAME: only the value sentences of the
 * argument whose call is --NAME (Wireshark's reload button). The values of
 * an argument follow its arg sentence. Returns -1 for no such argument. */
static int print_reloaded(FILE *out, char *text, const char *name)
{
	char want[128], *save = NULL, *line;
	int arg = -1, n;

	snprintf(want, sizeof(want), "}{call=--%s}", strncmp(name, "--", 2) ? name : name + 2);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (arg < 0 && sscanf(line, "arg {number=%d", &n) == 1 && strstr(line, want))
			arg = n;
		else if (arg >= 0 && sscanf(line, "value {arg=%d}", &n) == 1 && n == arg)
			fprintf(out, "%s\n", line);
	}
	return arg < 0 ? -1 : 0;
}

int extcap_list_config(FILE *out, const struct options *o)
{
	char *text = NULL;
	size_t size = 0;
	FILE *mem;
	int r;

	if (!o->reload_option) {
		list_config(out, o);
		return fflush(out) == 0 ? 0 : -1;
	}
	mem = open_memstream(&text, &size);
	if (!mem)
		return -1;
	list_config(mem, o);
	if (fclose(mem) != 0) {
		free(text);
		return -1;
	}
	r = print_reloaded(out, text, o->reload_option);
	free(text);
	if (r < 0) {
		fprintf(stderr, "ebpfdump: --extcap-reload-option %s: no such reloadable option of "
				"%s\n",
			o->reload_option, o->interface);
		return -1;
	}
	return fflush(out) == 0 ? 0 : -1;
}
