-- SPDX-License-Identifier: GPL-2.0-or-later
-- Wireshark dissector for ebpfdump: event records in exported-PDU frames and the
-- process metadata that ebpfdump writes into merged packets' comments.
--
-- One Proto serves both, so one set of ebpf.* fields covers events and packets
-- (`ebpf.comm == "curl"` finds curl's events and curl's packets):
--  * exported-PDU frames (LINKTYPE_WIRESHARK_UPPER_PDU) name the dissector "ebpf";
--    their payload is one binary event record (event/record.h, docs/event-format.md);
--  * as a postdissector it reads frame.comment; a comment starting "ebpf:1" carries
--    "src.<item>=<value>" (the packet's sender) and "dst.<item>=<value>" (its receiver),
--    or, compact, "src=comm[pid]@pod#identity": the rest of that process is in the
--    Identity record with that number, written once before the process's first packet.
--
-- Uses only Lua API present in Wireshark 3.6 (and Lua 5.1 syntax); tested on 4.0 (Lua 5.2).
-- Records are recognised as such because exported-PDU hands over a sub-tvb (offset > 0);
-- a record delivered at offset 0 of a frame would be taken for a postdissector call.
-- Install: copy into a Lua plugins folder (Help > About > Folders), or run
-- `tshark -X lua_script:ebpf.lua`.

-- Loaded twice (an installed plugin and `-X lua_script:` naming a copy, or two plugin
-- folders): a second Proto("ebpf") would fail with "two protocols with the same
-- description". The first copy serves; the second only hands over its script arguments
-- (statistics, see the end of this file).
-- (Wireshark runs each script in an environment of its own: the mark is set on _G itself.)
if rawget(_G, "ebpfdump_lua") then
	rawget(_G, "ebpfdump_lua").start_stats({ ... })
	return
end

local ebpf = Proto("ebpf", "eBPF system events")

-- Record format constants (event/record.h). Records are big-endian throughout.
local RECORD_MAGIC = 0x4542 -- "EB"
local RECORD_VERSION = 1
local RECORD_HEADER_LEN = 24
local RECORD_MAX_LEN = 16384 -- largest record a writer produces; longer is malformed
local ITEM_HEADER_LEN = 4 -- u16 id, u16 value length

-- Merged-packet comment (docs/event-format.md, "EPB comment").
local COMMENT_TAG = "ebpf:1"
-- A longer comment line is malformed (the C parser's EVENT_COMMENT_MAX).
local COMMENT_MAX_LEN = 32768

local event_names = {
	[1] = "TCP_Connect",
	[2] = "TCP_Connect_Failed",
	[3] = "TCP_Accept",
	[4] = "TCP_Close",
	[5] = "TCP_Retransmit",
	[6] = "UDP_Send",
	[7] = "UDP_Recv",
	[8] = "TCP_Open",
	[9] = "UDP_Open",
	[10] = "Identity",
	[11] = "TCP_Listen",
	[12] = "TCP_Listen_Close",
}
local EVENT_TCP_CONNECT_FAILED = 2
local EVENT_TCP_RETRANSMIT = 5
local EVENT_IDENTITY = 10

local ip_proto_names = { [6] = "TCP", [17] = "UDP" }

-- Linux errno values (asm-generic/errno*.h) that socket calls and TCP report.
-- Anything else is shown by number (errno_name's fallback is the sentinel).
local errno_names = {
	[1] = "EPERM", [2] = "ENOENT", [4] = "EINTR", [5] = "EIO", [9] = "EBADF",
	[11] = "EAGAIN", [12] = "ENOMEM", [13] = "EACCES", [14] = "EFAULT", [16] = "EBUSY",
	[22] = "EINVAL", [23] = "ENFILE", [24] = "EMFILE", [28] = "ENOSPC", [32] = "EPIPE",
	[71] = "EPROTO", [88] = "ENOTSOCK", [89] = "EDESTADDRREQ", [90] = "EMSGSIZE",
	[91] = "EPROTOTYPE", [92] = "ENOPROTOOPT", [93] = "EPROTONOSUPPORT",
	[95] = "EOPNOTSUPP", [97] = "EAFNOSUPPORT", [98] = "EADDRINUSE",
	[99] = "EADDRNOTAVAIL", [100] = "ENETDOWN", [101] = "ENETUNREACH",
	[102] = "ENETRESET", [103] = "ECONNABORTED", [104] = "ECONNRESET",
	[105] = "ENOBUFS", [106] = "EISCONN", [107] = "ENOTCONN", [108] = "ESHUTDOWN",
	[110] = "ETIMEDOUT", [111] = "ECONNREFUSED", [112] = "EHOSTDOWN",
	[113] = "EHOSTUNREACH", [114] = "EALREADY", [115] = "EINPROGRESS",
	[125] = "ECANCELED",
}

local function event_name(t)
	return event_names[t] or string.format("Unknown(%d)", t)
end

local function errno_name(e)
	return errno_names[e] or string.format("errno %d", e)
end

local function ip_proto_name(p)
	return ip_proto_names[p] or tostring(p)
end

-- Every field, declared once. The names are a public contract: users type them.
local f = {
	-- record header
	magic = ProtoField.uint16("ebpf.magic", "Magic", base.HEX),
	version = ProtoField.uint8("ebpf.version", "Version", base.DEC),
	header_length = ProtoField.uint8("ebpf.header_length", "Header length", base.DEC),
	type = ProtoField.uint16("ebpf.type", "Event type", base.DEC),
	event = ProtoField.string("ebpf.event", "Event"),
	flags = ProtoField.uint16("ebpf.flags", "Flags", base.HEX),
	length = ProtoField.uint32("ebpf.length", "Record length", base.DEC),
	seq = ProtoField.uint32("ebpf.seq", "Sequence number", base.DEC),
	timestamp = ProtoField.absolute_time("ebpf.timestamp", "Timestamp", base.UTC),
	-- process
	pid = ProtoField.uint32("ebpf.pid", "PID", base.DEC),
	tid = ProtoField.uint32("ebpf.tid", "TID", base.DEC),
	uid = ProtoField.uint32("ebpf.uid", "UID", base.DEC),
	gid = ProtoField.uint32("ebpf.gid", "GID", base.DEC),
	user = ProtoField.string("ebpf.user", "User"),
	group = ProtoField.string("ebpf.group", "Group"),
	comm = ProtoField.string("ebpf.comm", "Command"),
	thread = ProtoField.string("ebpf.thread", "Thread name"),
	identity = ProtoField.uint64("ebpf.identity", "Identity", base.HEX),
	exe = ProtoField.string("ebpf.exe", "Executable"),
	cmdline = ProtoField.string("ebpf.cmdline", "Command line"),
	ppid = ProtoField.uint32("ebpf.ppid", "Parent PID", base.DEC),
	pcomm = ProtoField.string("ebpf.pcomm", "Parent command"),
	-- containers and Kubernetes
	container_id = ProtoField.string("ebpf.container_id", "Container ID"),
	container = ProtoField.string("ebpf.container", "Container"),
	pod = ProtoField.string("ebpf.pod", "Pod"),
	namespace = ProtoField.string("ebpf.namespace", "Namespace"),
	runtime = ProtoField.string("ebpf.runtime", "Container runtime"),
	image = ProtoField.string("ebpf.image", "Image"),
	host = ProtoField.string("ebpf.host", "Host"),
	cgroup = ProtoField.string("ebpf.cgroup", "Cgroup"),
	cgroup_id = ProtoField.uint64("ebpf.cgroup_id", "Cgroup ID", base.DEC),
	-- network
	netns = ProtoField.uint32("ebpf.netns", "Network namespace", base.DEC),
	ifindex = ProtoField.uint32("ebpf.ifindex", "Interface index", base.DEC),
	ifname = ProtoField.string("ebpf.ifname", "Interface"),
	proto = ProtoField.string("ebpf.proto", "Protocol"),
	laddr = ProtoField.ipv4("ebpf.laddr", "Local address"),
	raddr = ProtoField.ipv4("ebpf.raddr", "Remote address"),
	laddr6 = ProtoField.ipv6("ebpf.laddr6", "Local address"),
	raddr6 = ProtoField.ipv6("ebpf.raddr6", "Remote address"),
	lport = ProtoField.uint16("ebpf.lport", "Local port", base.DEC),
	rport = ProtoField.uint16("ebpf.rport", "Remote port", base.DEC),
	-- connection figures
	latency_us = ProtoField.uint32("ebpf.latency_us", "Handshake latency (µs)", base.DEC),
	bytes_sent = ProtoField.uint64("ebpf.bytes_sent", "Bytes sent", base.DEC),
	bytes_received = ProtoField.uint64("ebpf.bytes_received", "Bytes received", base.DEC),
	retransmits = ProtoField.uint32("ebpf.retransmits", "Retransmitted segments", base.DEC),
	srtt_us = ProtoField.uint32("ebpf.srtt_us", "Smoothed RTT (µs)", base.DEC),
	errno = ProtoField.uint32("ebpf.errno", "Errno", base.DEC),
	error = ProtoField.string("ebpf.error", "Error"),
	packets = ProtoField.uint64("ebpf.packets", "Packets", base.DEC),
	bytes = ProtoField.uint64("ebpf.bytes", "Bytes", base.DEC),
	socket_cookie = ProtoField.uint64("ebpf.socket_cookie", "Socket cookie", base.HEX),
	-- subtrees of the details pane (no value; each its own, so each stays open or closed)
	tree_process = ProtoField.none("ebpf.tree.process", "Process"),
	tree_container = ProtoField.none("ebpf.tree.container", "Container"),
	tree_connection = ProtoField.none("ebpf.tree.connection", "Connection"),
	tree_record = ProtoField.none("ebpf.tree.record", "Record"),
	tree_sender = ProtoField.none("ebpf.tree.sender", "Sender"),
	tree_receiver = ProtoField.none("ebpf.tree.receiver", "Receiver"),
	-- merged packets
	role = ProtoField.string("ebpf.role", "Role"),
	unknown_item = ProtoField.bytes("ebpf.unknown_item", "Unknown item"),
}

do
	-- Register in a stable order so field lists and `tshark -G fields` do not shuffle.
	local names, list = {}, {}
	for name in pairs(f) do
		names[#names + 1] = name
	end
	table.sort(names)
	for i, name in ipairs(names) do
		list[i] = f[name]
	end
	ebpf.fields = list
end

local ef = {
	malformed = ProtoExpert.new("ebpf.malformed", "Malformed eBPF event record",
		expert.group.MALFORMED, expert.severity.ERROR),
	connect_failed = ProtoExpert.new("ebpf.connect_failed", "TCP connect failed",
		expert.group.RESPONSE_CODE, expert.severity.WARN),
	connect_abandoned = ProtoExpert.new("ebpf.connect_abandoned",
		"TCP connect abandoned: the application closed the socket before the handshake completed",
		expert.group.SEQUENCE, expert.severity.NOTE),
	retransmission = ProtoExpert.new("ebpf.retransmission", "TCP retransmission",
		expert.group.SEQUENCE, expert.severity.NOTE),
	unknown_item = ProtoExpert.new("ebpf.unknown_item_skipped", "Unknown item skipped",
		expert.group.UNDECODED, expert.severity.NOTE),
	bad_comment = ProtoExpert.new("ebpf.bad_comment", "Malformed ebpf:1 comment",
		expert.group.MALFORMED, expert.severity.WARN),
	identity_missing = ProtoExpert.new("ebpf.identity_missing",
		"Identity record not in this file: only the process name and pid are known",
		expert.group.UNDECODED, expert.severity.NOTE),
}
ebpf.experts = { ef.malformed, ef.connect_failed, ef.connect_abandoned, ef.retransmission, ef.unknown_item,
	ef.bad_comment, ef.identity_missing }

-- Items of the record (event/event.h). kind: u8/u16/u32/u64 (big-endian, exact width),
-- str (UTF-8, no NUL; limit: bytes a reader keeps) or addr (4 bytes IPv4 or 16 bytes IPv6).
-- name: the item's short name (event_item_name), used in the reasons of rejections.
-- group: the subtree of the details pane that shows it (tree_groups below).
local items = {
	[1] = { name = "pid", kind = "u32", field = f.pid, group = "process" },
	[2] = { name = "tid", kind = "u32", field = f.tid, group = "process" },
	[3] = { name = "uid", kind = "u32", field = f.uid, group = "process" },
	[4] = { name = "gid", kind = "u32", field = f.gid, group = "process" },
	[5] = { name = "comm", kind = "str", limit = 16, field = f.comm, group = "process" },
	[6] = { name = "exe", kind = "str", limit = 512, field = f.exe, group = "process" },
	[7] = { name = "cmdline", kind = "str", limit = 1024, field = f.cmdline, group = "process" },
	[8] = { name = "ppid", kind = "u32", field = f.ppid, group = "process" },
	[9] = { name = "pcomm", kind = "str", limit = 16, field = f.pcomm, group = "process" },
	[10] = { name = "user", kind = "str", limit = 256, field = f.user, group = "process" },
	[11] = { name = "group", kind = "str", limit = 256, field = f.group, group = "process" },
	[12] = { name = "cgroup_id", kind = "u64", field = f.cgroup_id, group = "process" },
	[13] = { name = "cgroup", kind = "str", limit = 256, field = f.cgroup, group = "process" },
	[14] = { name = "netns", kind = "u32", field = f.netns, group = "connection" },
	[15] = { name = "ifindex", kind = "u32", field = f.ifindex, group = "connection" },
	[16] = { name = "ifname", kind = "str", limit = 16, field = f.ifname, group = "connection" },
	[17] = { name = "proto", kind = "u8", field = f.proto, text = ip_proto_name,
		group = "connection" },
	[18] = { name = "laddr", kind = "addr", field = f.laddr, field6 = f.laddr6,
		group = "connection" },
	[19] = { name = "raddr", kind = "addr", field = f.raddr, field6 = f.raddr6,
		group = "connection" },
	[20] = { name = "lport", kind = "u16", field = f.lport, group = "connection" },
	[21] = { name = "rport", kind = "u16", field = f.rport, group = "connection" },
	[22] = { name = "latency_us", kind = "u32", field = f.latency_us, group = "figures" },
	[23] = { name = "bytes_sent", kind = "u64", field = f.bytes_sent, group = "figures" },
	[24] = { name = "bytes_received", kind = "u64", field = f.bytes_received, group = "figures" },
	[25] = { name = "retransmits", kind = "u32", field = f.retransmits, group = "figures" },
	[26] = { name = "srtt_us", kind = "u32", field = f.srtt_us, group = "figures" },
	[27] = { name = "errno", kind = "u32", field = f.errno, name_field = f.error,
		text = errno_name, group = "figures" },
	[28] = { name = "container_id", kind = "str", limit = 256, field = f.container_id,
		group = "container" },
	[29] = { name = "container", kind = "str", limit = 256, field = f.container,
		group = "container" },
	[30] = { name = "pod", kind = "str", limit = 256, field = f.pod, group = "container" },
	[31] = { name = "namespace", kind = "str", limit = 256, field = f.namespace,
		group = "container" },
	[32] = { name = "runtime", kind = "str", limit = 256, field = f.runtime, group = "container" },
	[33] = { name = "host", kind = "str", limit = 256, field = f.host, group = "container" },
	[34] = { name = "packets", kind = "u64", field = f.packets, group = "figures" },
	[35] = { name = "bytes", kind = "u64", field = f.bytes, group = "figures" },
	[36] = { name = "socket_cookie", kind = "u64", field = f.socket_cookie, group = "connection" },
	[37] = { name = "image", kind = "str", limit = 256, field = f.image, group = "container" },
	[38] = { name = "thread", kind = "str", limit = 16, field = f.thread, group = "process" },
	[39] = { name = "identity", kind = "u64", field = f.identity, group = "process" },
}

local int_widths = { u8 = 1, u16 = 2, u32 = 4, u64 = 8 }

-- The details pane of an event: what happened first (process, container, connection,
-- figures), the record's own structure last in a subtree of its own. Within a group,
-- items in this order by name; an item not named here comes after, by id.
local tree_groups = {
	{ key = "process", field = f.tree_process,
		order = { "pid", "tid", "comm", "thread", "exe", "cmdline", "ppid", "pcomm", "uid",
			"user", "gid", "group", "cgroup_id", "cgroup", "identity" } },
	{ key = "container", field = f.tree_container,
		order = { "container", "container_id", "image", "pod", "namespace", "runtime", "host" } },
	{ key = "connection", field = f.tree_connection,
		order = { "proto", "laddr", "lport", "raddr", "rport", "netns", "ifindex", "ifname",
			"socket_cookie" } },
	-- figures sit directly under the protocol (no subtree): they are few and the point
	{ key = "figures",
		order = { "errno", "latency_us", "bytes_sent", "bytes_received", "retransmits",
			"srtt_us", "packets", "bytes" } },
}
do
	for _, g in ipairs(tree_groups) do
		local rank = {}
		for i, name in ipairs(g.order) do
			rank[name] = i
		end
		local ids = {}
		for id, spec in pairs(items) do
			if spec.group == g.key then
				ids[#ids + 1] = id
			end
		end
		table.sort(ids, function(a, b)
			local ra, rb = rank[items[a].name] or 1000 + a, rank[items[b].name] or 1000 + b
			return ra < rb
		end)
		g.ids = ids
	end
end

-- How a string that is not valid UTF-8 is shown (docs/event-format.md 5.4): each byte that
-- is not part of a valid UTF-8 sequence (RFC 3629: no overlong forms, no surrogates,
-- nothing above U+10FFFF) becomes "\xHH" (two lowercase hex digits); everything else is
-- kept as it is. This is Python's bytes.decode("utf-8", "backslashreplace"). Record strings
-- and comment values (bytes after percent-decoding) alike; Lua 5.2 has no utf8 library.
local function utf8_escape(s)
	if not s:find("[\128-\255]") then
		return s
	end
	local out, i, n = {}, 1, #s
	while i <= n do
		local c = s:byte(i)
		local len = 0
		-- lo..hi: allowed second byte; rules out overlong forms, surrogates and code
		-- points above U+10FFFF
		local lo, hi = 0x80, 0xBF
		if c < 0x80 then
			len = 1
		elseif c >= 0xC2 and c <= 0xDF then
			len = 2
		elseif c >= 0xE0 and c <= 0xEF then
			len = 3
			if c == 0xE0 then
				lo = 0xA0
			elseif c == 0xED then
				hi = 0x9F
			end
		elseif c >= 0xF0 and c <= 0xF4 then
			len = 4
			if c == 0xF0 then
				lo = 0x90
			elseif c == 0xF4 then
				hi = 0x8F
			end
		end
		local ok = len > 0 and i + len - 1 <= n
		for j = i + 1, ok and i + len - 1 or i do
			local b = s:byte(j)
			if b < (j == i + 1 and lo or 0x80) or b > (j == i + 1 and hi or 0xBF) then
				ok = false
				break
			end
		end
		if ok then
			out[#out + 1] = s:sub(i, i + len - 1)
			i = i + len
		else
			out[#out + 1] = string.format("\\x%02x", c)
			i = i + 1
		end
	end
	return table.concat(out)
end

-- Length of the UTF-8 sequence a lead byte starts; 0 for other bytes (event_copy_str's rule).
local function utf8_sequence_length(c)
	if c >= 0xC0 and c <= 0xDF then
		return 2
	elseif c >= 0xE0 and c <= 0xEF then
		return 3
	elseif c >= 0xF0 and c <= 0xF7 then
		return 4
	end
	return 0
end

-- A string value kept to its limit in bytes (5.2), cut where the C decoder cuts: never
-- inside a UTF-8 sequence that starts in the kept part (event_copy_str).
local function cut_to_limit(s, limit)
	if not limit or #s <= limit then
		return s
	end
	local n = limit
	local lead = n -- 0-based index of the first dropped byte: s:byte(lead + 1)
	while lead > 0 and n - lead < 3 and s:byte(lead + 1) >= 0x80 and s:byte(lead + 1) < 0xC0 do
		lead = lead - 1
	end
	if lead < n and lead + utf8_sequence_length(s:byte(lead + 1)) > n then
		n = lead
	end
	return s:sub(1, n)
end

-- ns since the Unix epoch as NSTime. A Lua number holds only 53 bits, so split with
-- UInt64 arithmetic (today's ns counts need 61).
local NS_PER_S = 1000000000
local function nstime_from_ns(ns)
	return NSTime.new((ns / NS_PER_S):tonumber(), (ns % NS_PER_S):tonumber())
end

local function process_text(pid, comm)
	if comm == "" then
		comm = nil
	end
	if comm and pid then
		return string.format("%s[%s]", comm, tostring(pid))
	elseif comm then
		return comm
	elseif pid then
		return "pid " .. tostring(pid)
	end
	return nil
end

local function endpoint_text(addr, port, is_v6)
	if not addr then
		return port and (":" .. tostring(port)) or nil
	end
	local a = is_v6 and ("[" .. addr .. "]") or addr
	return port and (a .. ":" .. tostring(port)) or a
end

-- A listening or unconnected socket has a zero peer: it is shown as none
-- (no "→ 0.0.0.0:0", no 0.0.0.0 in the Destination column).
local function no_peer(v)
	return v.rport == 0 and (v.raddr == "0.0.0.0" or v.raddr == "::")
end

local function connection_text(v)
	local l = endpoint_text(v.laddr, v.lport, v.v6)
	local r
	if not no_peer(v) then
		r = endpoint_text(v.raddr, v.rport, v.v6)
	end
	if l and r then
		return l .. " → " .. r
	end
	-- a bound socket without a peer, or a record without one side
	return l or (r and ("→ " .. r))
end

-- One line for the Info column (and the protocol's summary line).
local function info_text(v)
	local parts = { v.event }
	parts[#parts + 1] = process_text(v.pid, v.comm)
	parts[#parts + 1] = connection_text(v)
	if v.latency_us then
		parts[#parts + 1] = string.format("latency %s µs", tostring(v.latency_us))
	end
	if v.errno then
		parts[#parts + 1] = errno_name(v.errno)
	elseif v.event == "TCP_Connect_Failed" then
		parts[#parts + 1] = "abandoned by the application"
	end
	if v.bytes_sent or v.bytes_received then
		parts[#parts + 1] = string.format("sent %s received %s",
			tostring(v.bytes_sent or 0), tostring(v.bytes_received or 0))
	end
	if v.retransmits then
		parts[#parts + 1] = "retransmits " .. tostring(v.retransmits)
	end
	if v.srtt_us then
		parts[#parts + 1] = string.format("srtt %s µs", tostring(v.srtt_us))
	end
	if v.packets then
		parts[#parts + 1] = "packets " .. tostring(v.packets)
	end
	if v.bytes then
		parts[#parts + 1] = "bytes " .. tostring(v.bytes)
	end
	if v.event == "Identity" then
		-- the details the packets' compact tags refer to
		parts[#parts + 1] = v.container and ("@" .. v.container) or nil
		parts[#parts + 1] = v.exe
	end
	return table.concat(parts, " ")
end

-- Validate one record exactly as the C decoder does (docs/event-format.md 5.5: the checks
-- in the spec's order, with its reasons), noting every item and which one wins (5.3).
-- Returns the scan and nil, or the scan (as far as it got) and the reason of the rejection.
local function scan_record(tvb)
	local avail = tvb:len()
	local s = { avail = avail, entries = {}, win = {} }
	if avail < RECORD_HEADER_LEN then
		return s, "truncated header"
	end
	s.magic = tvb(0, 2):uint()
	if s.magic ~= RECORD_MAGIC then
		return s, "bad magic"
	end
	s.version = tvb(2, 1):uint()
	if s.version ~= RECORD_VERSION then
		return s, "unsupported version " .. s.version
	end
	s.header_length = tvb(3, 1):uint()
	if s.header_length < RECORD_HEADER_LEN then
		return s, "header length < 24"
	end
	s.length = tvb(8, 4):uint()
	if s.length > RECORD_MAX_LEN then
		return s, "total length larger than RECORD_MAX_LEN"
	end
	if s.length ~= avail then
		return s, "total length does not match the buffer length"
	end
	if s.header_length > s.length then
		return s, "header length larger than total length"
	end
	local off, total = s.header_length, s.length
	while off < total do
		local e = { off = off }
		s.entries[#s.entries + 1] = e
		if total - off < ITEM_HEADER_LEN then
			e.len = total - off
			e.broken = true
			return s, "item header truncated"
		end
		e.id = tvb(off, 2):uint()
		e.len = tvb(off + 2, 2):uint()
		if e.len > total - off - ITEM_HEADER_LEN then
			e.broken = true
			return s, "item value past the end"
		end
		local spec = items[e.id]
		if spec then
			local width = int_widths[spec.kind]
			local why
			if width then
				if e.len ~= width then
					why = "integer of the wrong width"
				end
			elseif spec.kind == "str" then
				if e.len > 0 and tvb(off + ITEM_HEADER_LEN, e.len):raw():find("\0", 1, true) then
					why = "string contains NUL"
				end
			elseif e.len ~= 4 and e.len ~= 16 then
				why = "address length is not 4 or 16"
			end
			if why then
				e.broken = true
				return s, string.format("item %s: %s", spec.name, why)
			end
			local prev = s.win[e.id]
			if prev then
				prev.replaced = true -- 5.3: the last one wins
			end
			s.win[e.id] = e
		end
		off = off + ITEM_HEADER_LEN + e.len
	end
	-- after the walk: the family check applies to the values that win (5.3)
	local l, r = s.win[18], s.win[19]
	if l and r and l.len ~= r.len then
		return s, "LADDR and RADDR of different families"
	end
	return s, nil
end

-- The bytes of an item: header and value.
local function entry_range(tvb, e)
	return tvb(e.off, math.min(ITEM_HEADER_LEN + (e.len or 0), tvb:len() - e.off))
end

local function entry_label(e)
	if not e.id then
		return string.format("Item header truncated (%d bytes)", e.len)
	end
	local spec = items[e.id]
	return string.format("Item %d (%s), %d bytes", e.id, spec and spec.name or "unknown", e.len)
end

-- A rejected record: its bytes are shown as text only, so that no ebpf.* field of it can
-- match a display filter; one expert error says why, in the spec's words.
local function dissect_rejected(tvb, pinfo, root, s, reason)
	root:set_text("eBPF system events: malformed record (" .. reason .. ")")
	local avail = s.avail
	local where = root
	if s.magic then
		root:add(tvb(0, 2), string.format("Magic: 0x%04x", s.magic))
	end
	if s.version then
		root:add(tvb(2, 1), "Version: " .. s.version)
	end
	if s.header_length then
		root:add(tvb(3, 1), "Header length: " .. s.header_length)
		root:add(tvb(4, 2), "Event type: " .. event_name(tvb(4, 2):uint()))
	end
	if s.length then
		root:add(tvb(8, 4), string.format("Total length: %d (%d bytes available)", s.length,
			avail))
	end
	for _, e in ipairs(s.entries) do
		local it = root:add(entry_range(tvb, e), entry_label(e))
		if e.broken then
			where = it
		end
	end
	where:add_proto_expert_info(ef.malformed, reason)
	pinfo.cols.info:set("Malformed eBPF record: " .. reason)
	return avail
end

-- The value of a winning item into the tree (under parent) and into v.
local function add_item(parent, tvb, e, v)
	local spec = items[e.id]
	local range = e.len > 0 and tvb(e.off + ITEM_HEADER_LEN, e.len) or nil
	local kind = spec.kind
	if int_widths[kind] then
		local value = kind == "u64" and range:uint64() or range:uint()
		if spec.name == "proto" then
			parent:add(spec.field, range, spec.text(value))
		else
			parent:add(spec.field, range)
		end
		if spec.name_field then
			parent:add(spec.name_field, range, spec.text(value)):set_generated()
		end
		v[spec.name] = value
	elseif kind == "str" then
		-- Not range:string(ENC_UTF_8): Wireshark 4.0 turns bytes that are not UTF-8 into
		-- U+FFFD; the spec shows them escaped. A TvbRange cannot be empty: an empty value
		-- is shown on the item's header.
		local raw = range and range:raw() or ""
		local kept = cut_to_limit(raw, spec.limit)
		local text = utf8_escape(kept)
		local item = parent:add(spec.field, range or tvb(e.off, ITEM_HEADER_LEN), text)
		if #kept < #raw then
			item:append_text(string.format(" [cut to %d of %d bytes]", #kept, #raw))
		end
		v[spec.name] = text
	else
		local is_v6 = e.len == 16
		v.v6 = is_v6
		if is_v6 then
			parent:add(spec.field6, range)
			v[spec.name] = tostring(range:ipv6())
			v[spec.name .. "_addr"] = range:ipv6()
		else
			parent:add(spec.field, range)
			v[spec.name] = tostring(range:ipv4())
			v[spec.name .. "_addr"] = range:ipv4()
		end
	end
end

local function group_summary(key, v)
	if key == "process" then
		local t = process_text(v.pid, v.comm) or "?"
		if v.user then
			t = t .. ", user " .. v.user
		elseif v.uid then
			t = t .. ", uid " .. tostring(v.uid)
		end
		if v.cmdline and v.cmdline ~= "" then
			t = t .. ": " .. v.cmdline
		end
		return "Process: " .. t
	elseif key == "container" then
		local name = v.container or (v.container_id and v.container_id:sub(1, 12)) or "?"
		local t = "Container: " .. name
		if v.pod then
			t = t .. ", pod " .. v.pod .. (v.namespace and ("/" .. v.namespace) or "")
		end
		return t
	elseif key == "connection" then
		local proto = v.proto and ip_proto_name(v.proto) or "?"
		return "Connection: " .. proto .. " " .. (connection_text(v) or "")
	end
end

-- Source, destination and ports of the event frame (the process's socket is the source),
-- so Wireshark's address and port columns show the connection an event belongs to.
local PT_TCP, PT_UDP = 2, 3 -- port_type values (epan/address.h)
local function set_endpoints(pinfo, v)
	if v.laddr_addr then
		pinfo.src = v.laddr_addr
		pinfo.net_src = v.laddr_addr
	end
	local peer = not no_peer(v)
	if v.raddr_addr and peer then
		pinfo.dst = v.raddr_addr
		pinfo.net_dst = v.raddr_addr
	end
	if v.proto == 6 or v.proto == 17 then
		pcall(function()
			pinfo.port_type = v.proto == 6 and PT_TCP or PT_UDP
		end)
	end
	if v.lport then
		pinfo.src_port = v.lport
	end
	if v.rport and peer then
		pinfo.dst_port = v.rport
	end
end

local remember_identity -- Merged packets, below

local function dissect_record(tvb, pinfo, tree)
	pinfo.cols.protocol = "eBPF"
	local root = tree:add(ebpf, tvb())
	local s, reason = scan_record(tvb)
	if reason then
		return dissect_rejected(tvb, pinfo, root, s, reason)
	end

	local type = tvb(4, 2):uint()
	local v = { event = event_name(type) }
	root:add(f.event, tvb(4, 2), v.event)

	-- The winning items, group by group; a subtree's summary line is set once all values
	-- are known.
	local subtrees = {}
	for _, g in ipairs(tree_groups) do
		local parent
		for _, id in ipairs(g.ids) do
			local e = s.win[id]
			if e then
				if not parent then
					parent = g.field and root:add(g.field) or root
					if g.field then
						subtrees[#subtrees + 1] = { key = g.key, item = parent }
					end
				end
				add_item(parent, tvb, e, v)
			end
		end
	end
	for _, st in ipairs(subtrees) do
		st.item:set_text(group_summary(st.key, v))
	end

	-- The record's structure: header fields, skipped header bytes, unknown and replaced items.
	local rec = root:add(f.tree_record, tvb())
	rec:set_text(string.format("Record: version %d, %d bytes, sequence %d", s.version, s.length,
		tvb(12, 4):uint()))
	rec:add(f.magic, tvb(0, 2))
	rec:add(f.version, tvb(2, 1))
	rec:add(f.header_length, tvb(3, 1))
	rec:add(f.type, tvb(4, 2))
	rec:add(f.flags, tvb(6, 2))
	rec:add(f.length, tvb(8, 4))
	rec:add(f.seq, tvb(12, 4))
	rec:add(f.timestamp, tvb(16, 8), nstime_from_ns(tvb(16, 8):uint64()))
	if s.header_length > RECORD_HEADER_LEN then
		rec:add(tvb(RECORD_HEADER_LEN, s.header_length - RECORD_HEADER_LEN),
			string.format("Header extension (%d bytes, skipped)",
				s.header_length - RECORD_HEADER_LEN))
	end
	for _, e in ipairs(s.entries) do
		if not items[e.id] then
			-- Unknown ids come from newer writers: show and skip, never fail.
			local item = rec:add(entry_range(tvb, e),
				string.format("Unknown item %d (len %d)", e.id, e.len))
			if e.len > 0 then
				item:add(f.unknown_item, tvb(e.off + ITEM_HEADER_LEN, e.len))
			end
			item:add_proto_expert_info(ef.unknown_item)
		elseif e.replaced then
			rec:add(entry_range(tvb, e), entry_label(e) ..
				": repeated, replaced by a later one (the last one wins)")
		end
	end

	local info = info_text(v)
	root:append_text(": " .. info)
	if type == EVENT_TCP_CONNECT_FAILED and not v.errno then
		root:add_proto_expert_info(ef.connect_abandoned)
	elseif type == EVENT_TCP_CONNECT_FAILED then
		root:add_proto_expert_info(ef.connect_failed, "TCP connect failed: " ..
			errno_name(v.errno))
	elseif type == EVENT_TCP_RETRANSMIT then
		root:add_proto_expert_info(ef.retransmission)
	end
	if type == EVENT_IDENTITY and v.identity then
		remember_identity(v, pinfo.number)
	end
	set_endpoints(pinfo, v)
	pinfo.cols.info:set(info)
	return s.avail
end

-- Merged packets ------------------------------------------------------------------

local comment_field = Field.new("frame.comment")

-- Comment item names (event_item_name) → the record item's spec (field, kind, limit).
local comment_items = {}
do
	for _, name in ipairs({ "pid", "tid", "uid", "gid", "comm", "exe", "cmdline", "ppid",
		"pcomm", "user", "group", "cgroup_id", "cgroup", "container_id", "container", "pod",
		"namespace", "runtime", "image", "host" }) do
		for _, spec in pairs(items) do
			if spec.name == name then
				comment_items[name] = spec
			end
		end
	end
end
-- Identity records seen in this file: normalized hex identity → { values = the comment
-- items' values by name, frame = its frame number }. Filled as frames are dissected, so
-- a packet after its Identity frame (the writer's order) finds it in a single pass;
-- emptied when a file is (re)loaded.
local identities = {}

function ebpf.init()
	identities = {}
end

local function identity_key(hex)
	return (hex:lower():gsub("^0+(%x)", "%1"))
end

remember_identity = function(v, frame)
	local values = {}
	for name in pairs(comment_items) do
		values[name] = v[name]
	end
	identities[identity_key(v.identity:tohex())] = { values = values, frame = frame }
end

-- Order of the fields inside a Sender/Receiver subtree (comment order does not matter).
local comment_order = { "pid", "tid", "comm", "exe", "cmdline", "ppid", "pcomm", "uid",
	"user", "gid", "group", "cgroup_id", "cgroup", "container_id", "container", "pod",
	"namespace", "runtime", "image", "host" }

local U64_DIGITS_MAX = 20
local U32_MAX_TEXT = "4294967295"
local U64_MAX_TEXT = "18446744073709551615"

-- Decimal text → number (u32) or UInt64 (u64), or nil and the C parser's reason. At most
-- 20 digits, leading zeros included (docs/event-format.md 9).
local function parse_uint(s, kind)
	if #s > U64_DIGITS_MAX then
		return nil, "integer value out of range"
	end
	if s == "" then
		return nil, "integer value is empty"
	end
	if not s:match("^%d+$") then
		return nil, "integer value is not decimal"
	end
	local digits = s:gsub("^0+(%d)", "%1")
	local max = kind == "u64" and U64_MAX_TEXT or U32_MAX_TEXT
	if #digits > #max or (#digits == #max and digits > max) then
		return nil, "integer value out of range"
	end
	if kind ~= "u64" then
		return tonumber(digits)
	end
	local n = UInt64(0)
	for i = 1, #digits do
		n = n * 10 + (digits:byte(i) - 48)
	end
	return n
end

-- "%XX" → byte, or nil and the C parser's reason.
local function percent_decode(s)
	if not s:find("%", 1, true) then
		return s
	end
	local out, i, n = {}, 1, #s
	while i <= n do
		local p = s:find("%", i, true)
		if not p then
			out[#out + 1] = s:sub(i)
			break
		end
		out[#out + 1] = s:sub(i, p - 1)
		if n - p < 2 then
			return nil, "truncated percent-encoding"
		end
		local hex = s:sub(p + 1, p + 2)
		if not hex:match("^%x%x$") then
			return nil, "bad percent-encoding"
		end
		local c = tonumber(hex, 16)
		if c == 0 then
			return nil, "value contains NUL"
		end
		out[#out + 1] = string.char(c)
		i = p + 3
	end
	return table.concat(out)
end

-- A compact process tag, "comm[pid]@name#identity" (docs/event-format.md 9.1): the
-- side's values (comm, pid) and the identity's hex, or nil and the C parser's reason.
local function parse_tag(value)
	local open = value:find("[", 1, true)
	local close = open and value:find("]", open + 1, true)
	if not close then
		return nil, "process tag without [pid]"
	end
	local hash = value:find("#", close + 1, true)
	if not hash then
		return nil, "process tag without #identity"
	end
	local comm, why = percent_decode(value:sub(1, open - 1))
	if not comm then
		return nil, why
	end
	local out = {}
	local pid_text = value:sub(open + 1, close - 1)
	if pid_text ~= "" then
		out.pid, why = parse_uint(pid_text, "u32")
		if out.pid == nil then
			return nil, why
		end
	end
	if hash > close + 1 then
		if value:sub(close + 1, close + 1) ~= "@" then
			return nil, "process tag: text between [pid] and #identity without '@'"
		end
		local name
		name, why = percent_decode(value:sub(close + 2, hash - 1))
		if not name then
			return nil, why
		end
	end
	local hex = value:sub(hash + 1)
	if #hex < 1 or #hex > 16 or not hex:match("^%x+$") then
		return nil, "process tag identity is not 1 to 16 hex digits"
	end
	if comm ~= "" then
		out.comm = utf8_escape(cut_to_limit(comm, 16))
	end
	return out, nil, identity_key(hex)
end

-- Parse "ebpf:1 key=value ..." into { src = {...}, dst = {...}, ident = {...} }, or nil,
-- the reason and the offending pair: one bad pair makes the whole line malformed (as
-- event_comment_parse). ident.src/ident.dst: the compact tags' identities.
local function parse_comment(text)
	local sides = { src = {}, dst = {}, ident = {} }
	if #text > COMMENT_MAX_LEN then
		return nil, "comment line longer than EVENT_COMMENT_MAX"
	end
	for token in text:sub(#COMMENT_TAG + 1):gmatch("[^ \t\r]+") do
		local eq = token:find("=", 1, true)
		if not eq then
			return nil, "pair without '='", token
		end
		local key, value = token:sub(1, eq - 1), token:sub(eq + 1)
		local side, name = key:match("^(%l%l%l)%.(.+)$")
		local spec = comment_items[name]
		if key == "src" or key == "dst" then
			local tag, why, hex = parse_tag(value)
			if not tag then
				return nil, why, token
			end
			for k, val in pairs(tag) do
				sides[key][k] = val
			end
			sides.ident[key] = hex
		elseif (side == "src" or side == "dst") and spec then
			local decoded, why = percent_decode(value)
			if not decoded then
				return nil, why, token
			end
			if int_widths[spec.kind] then
				local n
				n, why = parse_uint(decoded, spec.kind)
				if n == nil then
					return nil, why, token
				end
				sides[side][name] = n
			else
				sides[side][name] = utf8_escape(cut_to_limit(decoded, spec.limit))
			end
		end -- unknown keys: a newer writer's, skipped
	end
	return sides
end

local function side_label(values)
	return process_text(values.pid, values.comm) or "?"
end

-- link: a compact tag's identity (hex, and the frame of its Identity record when seen).
-- Shown as text, not as a field, so that a compact and a full file of one capture give
-- a packet the same ebpf.* fields.
local function add_side(root, field, label, role, values, link)
	local sub = root:add(field)
	sub:set_text(string.format("%s: %s", label, side_label(values)))
	sub:add(f.role, role):set_generated()
	for _, name in ipairs(comment_order) do
		local value = values[name]
		if value ~= nil then
			sub:add(comment_items[name].field, value):set_generated()
		end
	end
	if link and link.frame then
		sub:add(string.format("Identity %s: details from frame %d", link.hex, link.frame))
	elseif link then
		local item = sub:add(string.format("Identity %s: not in this file", link.hex))
		item:add_proto_expert_info(ef.identity_missing,
				string.format("Identity record %s not in this file (removed, or not "
					.. "captured): only the process name and pid are known", link.hex))
	end
end

-- The first comment line that starts with the tag followed by a separator or the line's
-- end (other lines are a human's notes), or nil.
local function find_tagged_line()
	-- A frame may carry several comments; fetch them all at once, use the first ours.
	local comments = { comment_field() }
	for i = 1, #comments do
		local text = comments[i].value
		if text:find(COMMENT_TAG, 1, true) then
			for line in text:gmatch("[^\n]+") do
				if line:sub(1, #COMMENT_TAG) == COMMENT_TAG then
					local after = line:sub(#COMMENT_TAG + 1, #COMMENT_TAG + 1)
					if after == "" or after:match("^[ \t\r]$") then
						return line
					end
				end
			end
		end
	end
	return nil
end

-- A merged packet: one eBPF subtree naming the sender and the receiver with the parsed
-- fields; the frame's own "Packet comments" item keeps the raw line. No expert item unless
-- the line is malformed (then no ebpf.* field either, as for a rejected record).
local function dissect_comment(tvb, pinfo, tree)
	local text = find_tagged_line()
	if not text then
		return 0
	end
	local sides, reason, pair = parse_comment(text)
	local root = tree:add(ebpf)
	if not sides then
		local why = pair and string.format("%s in '%s'", reason, pair) or reason
		root:set_text("eBPF: malformed process comment (" .. why .. ")")
		root:add_proto_expert_info(ef.bad_comment, "Malformed ebpf:1 comment: " .. why)
		return 0
	end
	-- Compact tags: the rest of each process from its Identity record (the tag's own
	-- values agree with it); without the record, only what the tag says.
	local links = {}
	for _, side in ipairs({ "src", "dst" }) do
		local hex = sides.ident[side]
		if hex then
			local known = identities[hex]
			links[side] = { hex = hex, frame = known and known.frame }
			if known then
				for name, value in pairs(known.values) do
					sides[side][name] = value
				end
			end
		end
	end
	local has_src, has_dst = next(sides.src) ~= nil, next(sides.dst) ~= nil
	local label = "eBPF:"
	if has_src then
		label = label .. " sender " .. side_label(sides.src)
	end
	if has_dst then
		label = label .. (has_src and " → " or " ") .. "receiver " .. side_label(sides.dst)
	end
	root:set_text(label)
	if has_src then
		add_side(root, f.tree_sender, "Sender", "sender", sides.src, links.src)
	end
	if has_dst then
		add_side(root, f.tree_receiver, "Receiver", "receiver", sides.dst, links.dst)
	end
	return 0
end

-- One function for both roles (a Proto has one dissector). Exported-PDU hands over a
-- sub-tvb that starts after its tags; a postdissector gets the frame's own tvb, which
-- starts at offset 0 of the frame.
function ebpf.dissector(tvb, pinfo, tree)
	if tvb:offset() == 0 then
		return dissect_comment(tvb, pinfo, tree)
	end
	return dissect_record(tvb, pinfo, tree)
end

register_postdissector(ebpf)

-- Statistics ----------------------------------------------------------------------
-- Statistics > eBPF/Processes and Statistics > eBPF/Containers: connections, bytes,
-- retransmissions and handshake latency per process and per container, from the event
-- frames; merged packets count for the processes and containers they belong to.
--
-- The same tables print from tshark at the end of a run, which is how tests check them:
--   tshark -q -r F -X lua_script:ebpf.lua -X lua_script1:stats=processes [-X lua_script1:tsv]
-- (stats=containers, stats=processes,containers or plain "stats" for both; tsv:
-- tab-separated, no alignment).

-- Arguments of `-X lua_script1:...`; none when loaded as a plugin. An installed plugin
-- takes the same words from EBPFDUMP_STATS: EBPFDUMP_STATS=stats=processes,tsv tshark -q ...
local script_args = { ... }

-- How a row's figures are made (also the column headings' meaning, see docs/user-guide.md):
--  Conns     TCP_Connect, TCP_Accept and TCP_Open (already open at start) events
--  Failed    TCP_Connect_Failed events
--  Sent/Recv TCP_Close connection totals plus UDP_Send/UDP_Recv bytes
--  Retrans   TCP_Close totals, plus TCP_Retransmit events of connections not closed in
--            the capture (a close's total already counts them)
--  Lat       average and max of TCP_Connect handshake times, µs
--  Packets   merged packets the process or container sent or received
local stats_columns = {
	{ key = "conns", title = "Conns" },
	{ key = "failed", title = "Failed" },
	{ key = "sent", title = "Sent" },
	{ key = "recv", title = "Recv" },
	{ key = "retrans", title = "Retrans" },
	{ key = "lat_mean", title = "Lat avg" },
	{ key = "lat_max", title = "Lat max" },
	{ key = "packets", title = "Packets" },
}

local stats_kinds = {
	processes = {
		title = "eBPF Processes",
		menu = "eBPF/Processes",
		keys = { { key = "comm", title = "Process" }, { key = "pid", title = "PID" },
			{ key = "container", title = "Container" } },
	},
	containers = {
		title = "eBPF Containers",
		menu = "eBPF/Containers",
		keys = { { key = "container", title = "Container" }, { key = "pod", title = "Pod" },
			{ key = "namespace", title = "Namespace" },
			{ key = "processes", title = "Procs" } },
	},
}
local stats_kind_order = { "processes", "containers" }

-- Field values as plain Lua numbers (32-bit fields and counts).
local function to_number(v)
	if v == nil then
		return nil
	end
	return tonumber(tostring(v))
end

-- Byte totals are 64-bit: summed as UInt64 so they stay exact past 2^53.
local function to_uint64(v)
	if v == nil then
		return UInt64(0)
	end
	if type(v) == "number" then
		return UInt64(v)
	end
	return v -- a 64-bit field's value is already a UInt64
end

-- a + b, stuck at the largest value instead of wrapping around.
local function add_bytes(a, b)
	local sum = a + b
	if sum < a then
		return UInt64.max()
	end
	return sum
end

-- Expert items are fields too, but not values of a subject.
local not_values = { ["ebpf.malformed"] = true, ["ebpf.connect_failed"] = true,
	["ebpf.connect_abandoned"] = true,
	["ebpf.retransmission"] = true, ["ebpf.unknown_item_skipped"] = true,
	["ebpf.bad_comment"] = true }

-- The ebpf fields of the frame being tapped, grouped into subjects: an event frame is one
-- subject; a merged packet has one per side, each starting at its ebpf.role field.
local function frame_subjects()
	local subjects, cur = {}, nil
	for _, fi in ipairs({ all_field_infos() }) do
		local name = fi.name
		if name == "ebpf.role" then
			cur = { role = tostring(fi.value) }
			subjects[#subjects + 1] = cur
		elseif name:sub(1, 5) == "ebpf." and not not_values[name] and
			name:sub(1, 10) ~= "ebpf.tree." then
			if not cur then
				cur = {}
				subjects[#subjects + 1] = cur
			end
			local key = name:sub(6)
			if cur[key] == nil then
				cur[key] = fi.value
			end
		end
	end
	return subjects
end

local function container_label(s)
	if s.container and s.container ~= "" then
		return tostring(s.container)
	elseif s.pod and s.pod ~= "" then
		return tostring(s.pod)
	elseif s.container_id and s.container_id ~= "" then
		return tostring(s.container_id):sub(1, 12)
	end
	return nil
end

local function new_stats()
	return { rows = {}, events = 0, packets = 0, retrans_events = {}, closed = {} }
end

local function stats_row(st, kind, s)
	local key, init
	local container = container_label(s)
	if kind == "processes" then
		local comm = s.comm and tostring(s.comm) or "?"
		local pid = s.pid and tostring(s.pid) or "?"
		key = comm .. "\0" .. pid
		init = { comm = comm, pid = pid, container = container or "-" }
	else
		key = container or "(no container)"
		init = { container = key, pod = s.pod and tostring(s.pod) or "-",
			namespace = s.namespace and tostring(s.namespace) or "-", pids = {} }
	end
	local row = st.rows[key]
	if not row then
		row = init
		row.conns, row.failed, row.retrans = 0, 0, 0
		row.sent, row.recv = UInt64(0), UInt64(0)
		row.lat_n, row.lat_sum, row.lat_max, row.packets = 0, 0, 0, 0
		st.rows[key] = row
	elseif kind == "processes" and row.container == "-" and container then
		row.container = container -- learnt from a later event
	end
	if row.pids and s.pid then
		row.pids[tostring(s.pid)] = true
	end
	return row
end

-- A connection as the kernel reports it on every event of its socket.
local function connection_key(s)
	return table.concat({ tostring(s.pid), tostring(s.laddr or s.laddr6),
		tostring(s.lport), tostring(s.raddr or s.raddr6), tostring(s.rport) }, " ")
end

local function stats_add(st, kind, s)
	local row = stats_row(st, kind, s)
	local ev = s.event and tostring(s.event)
	if not ev then
		row.packets = row.packets + 1
		return
	end
	if ev == "TCP_Connect" or ev == "TCP_Accept" or ev == "TCP_Open" then
		row.conns = row.conns + 1
	elseif ev == "TCP_Connect_Failed" then
		row.failed = row.failed + 1
	elseif ev == "TCP_Close" then
		row.sent = add_bytes(row.sent, to_uint64(s.bytes_sent))
		row.recv = add_bytes(row.recv, to_uint64(s.bytes_received))
		row.retrans = row.retrans + (to_number(s.retransmits) or 0)
		st.closed[connection_key(s)] = true
	elseif ev == "TCP_Retransmit" then
		local key = connection_key(s)
		local r = st.retrans_events[key]
		if not r then
			r = { row = row, count = 0 }
			st.retrans_events[key] = r
		end
		r.count = r.count + (to_number(s.retransmits) or 1)
	elseif ev == "UDP_Send" then
		row.sent = add_bytes(row.sent, to_uint64(s.bytes))
	elseif ev == "UDP_Recv" then
		row.recv = add_bytes(row.recv, to_uint64(s.bytes))
	end
	local lat = ev == "TCP_Connect" and to_number(s.latency_us)
	if lat then
		row.lat_n = row.lat_n + 1
		row.lat_sum = row.lat_sum + lat
		if lat > row.lat_max then
			row.lat_max = lat
		end
	end
end

-- Tap one frame into the statistics of every kind in kinds.
local function stats_tap(stats, kinds)
	local subjects = frame_subjects()
	if #subjects == 0 then
		return
	end
	local is_event = subjects[1].event ~= nil
	for _, kind in ipairs(kinds) do
		local st = stats[kind]
		if is_event then
			st.events = st.events + 1
		else
			st.packets = st.packets + 1
		end
		for _, s in ipairs(subjects) do
			stats_add(st, kind, s)
		end
	end
end

-- Rows ready to print, biggest first (connections, then bytes), then by name.
local function stats_rows(st, kind)
	local rows = {}
	for _, row in pairs(st.rows) do
		rows[#rows + 1] = row
	end
	for key, r in pairs(st.retrans_events) do
		if not st.closed[key] then
			r.row.extra_retrans = (r.row.extra_retrans or 0) + r.count
		end
	end
	local out = {}
	for _, row in ipairs(rows) do
		local line = {}
		for _, k in ipairs(stats_kinds[kind].keys) do
			if k.key == "processes" then
				local n = 0
				for _ in pairs(row.pids) do
					n = n + 1
				end
				line[k.key] = tostring(n)
			else
				line[k.key] = row[k.key]
			end
		end
		line.conns = row.conns
		line.failed = row.failed
		line.sent = row.sent
		line.recv = row.recv
		line.retrans = row.retrans + (row.extra_retrans or 0)
		line.lat_mean = row.lat_n > 0 and string.format("%.1f", row.lat_sum / row.lat_n) or "-"
		line.lat_max = row.lat_n > 0 and string.format("%d", row.lat_max) or "-"
		line.packets = row.packets
		line.sort_name = table.concat({ tostring(line[stats_kinds[kind].keys[1].key]),
			tostring(line[stats_kinds[kind].keys[2].key]) }, "\0")
		out[#out + 1] = line
		row.extra_retrans = nil
	end
	table.sort(out, function(a, b)
		if a.conns + a.failed ~= b.conns + b.failed then
			return a.conns + a.failed > b.conns + b.failed
		end
		local a_bytes, b_bytes = add_bytes(a.sent, a.recv), add_bytes(b.sent, b.recv)
		if a_bytes ~= b_bytes then
			return b_bytes < a_bytes
		end
		return a.sort_name < b.sort_name
	end)
	return out
end

-- Integers as Lua numbers print as "12345", never "1.2345e+04".
local function cell_text(v)
	if type(v) == "number" then
		return string.format("%.0f", v)
	end
	return tostring(v)
end

-- Display width of UTF-8 text (code points), for alignment.
local function text_width(s)
	local _, n = s:gsub("[^\128-\191]", "")
	return n
end

-- The table as text: aligned columns (for a window) or tab-separated (tsv).
local function stats_text(st, kind, tsv)
	local spec = stats_kinds[kind]
	local header, keys = {}, {}
	for _, k in ipairs(spec.keys) do
		header[#header + 1] = k.title
		keys[#keys + 1] = k.key
	end
	for _, c in ipairs(stats_columns) do
		header[#header + 1] = c.title
		keys[#keys + 1] = c.key
	end
	local lines = { header }
	for _, line in ipairs(stats_rows(st, kind)) do
		local cells = {}
		for i, key in ipairs(keys) do
			cells[i] = cell_text(line[key])
		end
		lines[#lines + 1] = cells
	end
	local title = string.format("%s: %d event frames, %d merged packets", spec.title,
		st.events, st.packets)
	local out = { title, "Sent/Recv in bytes, handshake latency (Lat) in µs", "" }
	if tsv then
		for _, cells in ipairs(lines) do
			out[#out + 1] = table.concat(cells, "\t")
		end
		return table.concat(out, "\n") .. "\n"
	end
	local widths = {}
	for _, cells in ipairs(lines) do
		for i, cell in ipairs(cells) do
			widths[i] = math.max(widths[i] or 0, text_width(cell))
		end
	end
	for _, cells in ipairs(lines) do
		local padded = {}
		for i, cell in ipairs(cells) do
			local pad = string.rep(" ", widths[i] - text_width(cell))
			-- names left-aligned, figures right-aligned
			padded[i] = i <= #spec.keys and (cell .. pad) or (pad .. cell)
		end
		out[#out + 1] = table.concat(padded, "  ")
	end
	if #lines == 1 then
		out[#out + 1] = "(no eBPF events or merged packets)"
	end
	return table.concat(out, "\n") .. "\n"
end

-- Every frame with ebpf fields; all_fields: the tree is built, so all_field_infos() works.
local STATS_TAP_FILTER = "ebpf"

local function open_stats_window(kind)
	local tw = TextWindow.new(stats_kinds[kind].title)
	local stats = { [kind] = new_stats() }
	local listener = Listener.new("frame", STATS_TAP_FILTER, true)
	function listener.reset()
		stats[kind] = new_stats()
	end
	function listener.packet()
		stats_tap(stats, { kind })
	end
	function listener.draw()
		tw:set(stats_text(stats[kind], kind, false))
	end
	tw:set_atclose(function()
		listener:remove()
	end)
	retap_packets()
end

local function parse_stats_args(args)
	local kinds, tsv = nil, false
	for _, a in ipairs(args) do
		a = tostring(a)
		if a == "tsv" then
			tsv = true
		elseif a == "stats" then
			kinds = stats_kind_order
		elseif a:match("^stats=") then
			kinds = {}
			for k in a:sub(7):gmatch("[^,]+") do
				if k == "tsv" then
					tsv = true
				elseif stats_kinds[k] then
					kinds[#kinds + 1] = k
				else
					error("ebpf.lua: unknown statistics '" .. k ..
						"', expected processes or containers")
				end
			end
		end
	end
	return kinds, tsv
end

-- MENU_STAT_UNSORTED: Wireshark 4.0's Qt interface shows no MENU_STAT_GENERIC item of a
-- Lua script at all, and puts these below "ONC-RPC Programs" (named as they are: the "/"
-- makes no submenu there).
if gui_enabled() then
	for _, kind in ipairs(stats_kind_order) do
		register_menu(stats_kinds[kind].menu, function()
			open_stats_window(kind)
		end, MENU_STAT_UNSORTED)
	end
end

-- Print the statistics that args ask for at the end of a tshark run. Once per run: a second
-- copy of this file (see the top) passes its arguments here.
local stats_started = false
local function start_stats(args)
	if stats_started then
		return
	end
	local env = os.getenv("EBPFDUMP_STATS")
	if env and #args == 0 then
		args = {}
		for word in env:gmatch("[^%s]+") do
			args[#args + 1] = word
		end
	end
	local kinds, tsv = parse_stats_args(args)
	if kinds then
		stats_started = true
		local stats = {}
		for _, kind in ipairs(kinds) do
			stats[kind] = new_stats()
		end
		local listener = Listener.new("frame", STATS_TAP_FILTER, true)
		function listener.packet()
			stats_tap(stats, kinds)
		end
		function listener.draw()
			for i, kind in ipairs(kinds) do
				io.write((i > 1 and "\n" or "") .. stats_text(stats[kind], kind, tsv))
			end
			io.flush()
		end
	end
end

start_stats(script_args)
rawset(_G, "ebpfdump_lua", { start_stats = start_stats })
