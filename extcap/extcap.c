/* SPDX-License-Identifier: GPL-2.0-or-later */
/* extcap protocol answers (see extcap(4)): the sentences Wireshark parses. */
#include "extcap/extcap.h"

#include <ctype.h>
#include <string.h>

#include "config.h"
#include "extcap/control.h"
#include "enrich/container.h"
#include "enrich/netdev.h"
#include "event/event.h"
#include "pcapng/writer.h"

struct event_choice {
	unsigned type;
	const char *display;
};

static const struct event_choice event_choices[] = {
	{ EVENT_TCP_CONNECT, "TCP_Connect: connection established, with handshake time" },
	{ EVENT_TCP_CONNECT_FAILED, "TCP_Connect_Failed: refused, timed out or reset" },
	{ EVENT_TCP_ACCEPT, "TCP_Accept: a process accepted a connection" },
	{ EVENT_TCP_CLOSE, "TCP_Close: connection closed, with bytes and RTT" },
	{ EVENT_TCP_RETRANSMIT, "TCP_Retransmit: a segment was sent again" },
	{ EVENT_UDP_SEND, "UDP_Send: datagrams sent, counted per flow and interval" },
	{ EVENT_UDP_RECV, "UDP_Recv: datagrams received, counted per flow and interval" },
	{ EVENT_TCP_OPEN, "TCP_Open: connection already open at start (snapshot)" },
	{ EVENT_UDP_OPEN, "UDP_Open: UDP socket already open at start (snapshot)" },
	{ 0, NULL },
};

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

/* One interface per container, and per pod (its containers share the pod's
 * network namespace), named "<host veth>@<pod or container name>". */
static void list_container_interfaces(FILE *out)
{
	struct container_resolver *cr = NULL;
	struct netdev_list *l = NULL;
	const char *why = NULL;

	if (container_resolver_new(NULL, &cr) < 0)
		return;
	if (netdev_list_containers(cr, &l, &why) == 0) {
		for (size_t i = 0; i < l->count; i++) {
			const struct netdev_entry *e = &l->entries[i];
			char value[IF_NAMESIZE + EVENT_NAME_MAX + 2], display[NETDEV_DISPLAY_MAX + 1];
			char spec[sizeof(value)];

			snprintf(spec, sizeof(spec), "%s@%s", e->ifname, e->name);
			sentence_safe(value, sizeof(value), spec, true);
			sentence_safe(display, sizeof(display), e->display, false);
			fprintf(out, "interface {value=%s}{display=%s}\n", value, display);
		}
	}
	netdev_list_free(l);
	container_resolver_free(cr);
}
#endif

int extcap_list_interfaces(FILE *out)
{
	fprintf(out, "extcap {version=%s}{display=eBPF events of processes and containers}\n",
		EBPFDUMP_VERSION);
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
		"{group=Events}\n",
		arg);
	for (const struct event_choice *c = event_choices; c->type; c++)
		fprintf(out, "value {arg=%d}{value=%s}{display=%s}{default=true}\n", arg,
			event_type_name(c->type), c->display);
	return arg + 1;
}

static int arg_kernel(FILE *out, int arg)
{
	fprintf(out,
		"arg {number=%d}{call=--ring-buffer-size}{display=Ring buffer (MiB)}"
		"{type=selector}{tooltip=Kernel ring buffer between BPF programs and ebpfdump; "
		"larger loses fewer events under bursts}{group=Performance}\n",
		arg);
	for (unsigned mb = OPTIONS_RINGBUF_MB_MIN; mb <= 256; mb *= 2)
		fprintf(out, "value {arg=%d}{value=%u}{display=%u MiB}{default=%s}\n", arg, mb, mb,
			mb == OPTIONS_RINGBUF_MB_DEFAULT ? "true" : "false");
	arg++;
	fprintf(out,
		"arg {number=%d}{call=--pid-tree}{display=Process (and children)}{type=integer}"
		"{range=1,4294967295}{tooltip=Only this pid and its descendants; filtered in "
		"the kernel}{group=Filters}\n",
		arg++);
	fprintf(out,
		"arg {number=%d}{call=--uid}{display=User id}{type=integer}{range=0,4294967294}"
		"{tooltip=Only this user's processes}{group=Filters}\n",
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
		"arg {number=%d}{call=--udp-interval}{display=UDP report interval (ms)}"
		"{type=integer}{range=%u,%u}{default=1000}{tooltip=A UDP flow reports at most "
		"once per interval, with its datagram and byte counts}{group=Events}\n",
		arg++, OPTIONS_UDP_INTERVAL_MS_MIN, OPTIONS_UDP_INTERVAL_MS_MAX);
	fprintf(out,
		"arg {number=%d}{call=--host}{display=Host label}{type=string}"
		"{tooltip=Name put in ebpf.host of every event (default: this host's name)}"
		"{group=Events}\n",
		arg);
	return arg + 1;
}

static int arg_packets(FILE *out, int arg, bool with_ifname)
{
	if (with_ifname)
		fprintf(out,
			"arg {number=%d}{call=--ifname}{display=Also capture packets on}"
			"{type=string}{tooltip=Interface whose packets are merged with the events "
			"(eth0, any, veth1234@web); empty: events only}{group=Packets}\n",
			arg++);
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
		"{type=integer}{range=0,%u}{default=200}{tooltip=How long events wait to be put "
		"in time order across hosts}{group=Remote}\n",
		arg++, OPTIONS_WINDOW_MS_MAX);
	return arg;
}

int extcap_list_config(FILE *out, const struct options *o)
{
	int arg = 0;

	if (strcmp(o->interface, IFACE_ZMQ) == 0) {
		arg = arg_events(out, arg);
		arg_remote(out, arg);
	} else {
		arg = arg_events(out, arg);
		arg = arg_kernel(out, arg);
		arg_packets(out, arg, !is_container_iface(o));
	}
	return fflush(out) == 0 ? 0 : -1;
}
