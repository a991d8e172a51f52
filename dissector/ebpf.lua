-- SPDX-License-Identifier: GPL-2.0-or-later
-- Wireshark dissector for ebpfdump: event records in exported-PDU frames and the
-- process metadata that ebpfdump writes into merged packets' comments.
--
-- One Proto serves both, so one set of ebpf.* fields covers events and packets
-- (`ebpf.comm == "curl"` finds curl's events and curl's packets):
--  * exported-PDU frames (LINKTYPE_WIRESHARK_UPPER_PDU) name the dissector "ebpf";
--    their payload is one binary event record (event/record.h, docs/event-format.md);
--  * as a postdissector it reads frame.comment; a comment starting "ebpf:1" carries
--    "src.<item>=<value>" (the packet's sender) and "dst.<item>=<value>" (its receiver).
--
-- Uses only Lua API present in Wireshark 3.6 (and Lua 5.1 syntax); tested on 4.0 (Lua 5.2).
-- Records are recognised as such because exported-PDU hands over a sub-tvb (offset > 0);
-- a record delivered at offset 0 of a frame would be taken for a postdissector call.
-- Install: copy into a Lua plugins folder (Help > About > Folders), or run
-- `tshark -X lua_script:ebpf.lua`.

local ebpf = Proto("ebpf", "eBPF system events")

-- Record format constants (event/record.h). Records are big-endian throughout.
local RECORD_MAGIC = 0x4542 -- "EB"
local RECORD_VERSION = 1
local RECORD_HEADER_LEN = 24
local RECORD_MAX_LEN = 16384 -- largest record a writer produces; longer is malformed
local ITEM_HEADER_LEN = 4 -- u16 id, u16 value length

-- Merged-packet comment (docs/event-format.md, "EPB comment").
local COMMENT_TAG = "ebpf:1"
-- A comment is outside input: look at no more than this many bytes (the C parser's
-- EVENT_COMMENT_MAX) and pairs, so a huge one stays cheap.
local COMMENT_MAX_LEN = 32768
local COMMENT_MAX_PAIRS = 64

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
}
local EVENT_TCP_CONNECT_FAILED = 2
local EVENT_TCP_RETRANSMIT = 5

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
	return ip_proto_names[p] or string.format("IP protocol %d", p)
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
	retransmission = ProtoExpert.new("ebpf.retransmission", "TCP retransmission",
		expert.group.SEQUENCE, expert.severity.NOTE),
	unknown_item = ProtoExpert.new("ebpf.unknown_item_skipped", "Unknown item skipped",
		expert.group.UNDECODED, expert.severity.NOTE),
	bad_comment = ProtoExpert.new("ebpf.bad_comment", "Malformed ebpf comment pair",
		expert.group.MALFORMED, expert.severity.WARN),
}
ebpf.experts = { ef.malformed, ef.connect_failed, ef.retransmission, ef.unknown_item,
	ef.bad_comment }

-- Items of the record (event/event.h). kind: u8/u16/u32/u64 (big-endian, exact width),
-- str (UTF-8, no NUL) or addr (4 bytes IPv4 or 16 bytes IPv6).
local items = {
	[1] = { name = "pid", kind = "u32", field = f.pid },
	[2] = { name = "tid", kind = "u32", field = f.tid },
	[3] = { name = "uid", kind = "u32", field = f.uid },
	[4] = { name = "gid", kind = "u32", field = f.gid },
	[5] = { name = "comm", kind = "str", field = f.comm },
	[6] = { name = "exe", kind = "str", field = f.exe },
	[7] = { name = "cmdline", kind = "str", field = f.cmdline },
	[8] = { name = "ppid", kind = "u32", field = f.ppid },
	[9] = { name = "pcomm", kind = "str", field = f.pcomm },
	[10] = { name = "user", kind = "str", field = f.user },
	[11] = { name = "group", kind = "str", field = f.group },
	[12] = { name = "cgroup_id", kind = "u64", field = f.cgroup_id },
	[13] = { name = "cgroup", kind = "str", field = f.cgroup },
	[14] = { name = "netns", kind = "u32", field = f.netns },
	[15] = { name = "ifindex", kind = "u32", field = f.ifindex },
	[16] = { name = "ifname", kind = "str", field = f.ifname },
	[17] = { name = "proto", kind = "u8", field = f.proto, text = ip_proto_name },
	[18] = { name = "laddr", kind = "addr", field = f.laddr, field6 = f.laddr6 },
	[19] = { name = "raddr", kind = "addr", field = f.raddr, field6 = f.raddr6 },
	[20] = { name = "lport", kind = "u16", field = f.lport },
	[21] = { name = "rport", kind = "u16", field = f.rport },
	[22] = { name = "latency_us", kind = "u32", field = f.latency_us },
	[23] = { name = "bytes_sent", kind = "u64", field = f.bytes_sent },
	[24] = { name = "bytes_received", kind = "u64", field = f.bytes_received },
	[25] = { name = "retransmits", kind = "u32", field = f.retransmits },
	[26] = { name = "srtt_us", kind = "u32", field = f.srtt_us },
	[27] = { name = "error", kind = "u32", field = f.errno, name_field = f.error,
		text = errno_name },
	[28] = { name = "container_id", kind = "str", field = f.container_id },
	[29] = { name = "container", kind = "str", field = f.container },
	[30] = { name = "pod", kind = "str", field = f.pod },
	[31] = { name = "namespace", kind = "str", field = f.namespace },
	[32] = { name = "runtime", kind = "str", field = f.runtime },
	[33] = { name = "host", kind = "str", field = f.host },
	[34] = { name = "packets", kind = "u64", field = f.packets },
	[35] = { name = "bytes", kind = "u64", field = f.bytes },
	[36] = { name = "sock_cookie", kind = "u64", field = f.socket_cookie },
	[37] = { name = "image", kind = "str", field = f.image },
}

local int_widths = { u8 = 1, u16 = 2, u32 = 4, u64 = 8 }

-- Text that is valid UTF-8: invalid sequences become U+FFFD, as Wireshark shows record
-- strings (ENC_UTF_8). Comment values are bytes after percent-decoding, and a task's comm
-- can hold any byte. Lua 5.2 has no utf8 library.
local REPLACEMENT = "\239\191\189" -- U+FFFD
local function utf8_sanitize(s)
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
			out[#out + 1] = REPLACEMENT
			i = i + 1
		end
	end
	return table.concat(out)
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

-- One line for the Info column from what was decoded (possibly only part of a record).
local function info_text(v)
	local parts = { v.event }
	parts[#parts + 1] = process_text(v.pid, v.comm)
	local l = endpoint_text(v.laddr, v.lport, v.v6)
	local r = endpoint_text(v.raddr, v.rport, v.v6)
	if l and r then
		parts[#parts + 1] = l .. " → " .. r
	elseif l or r then
		-- a bound socket without a peer, or a record that lost one side
		parts[#parts + 1] = l or ("→ " .. r)
	end
	if v.latency_us then
		parts[#parts + 1] = string.format("latency %s µs", tostring(v.latency_us))
	end
	if v.error then
		parts[#parts + 1] = errno_name(v.error)
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
	return table.concat(parts, " ")
end

-- Add one known item. Returns nil, or the reason the item is malformed.
local function add_item(tree, spec, range, len, v, item_range)
	local kind = spec.kind
	local width = int_widths[kind]
	if width then
		if len ~= width then
			return string.format("item %s has %d bytes, expected %d", spec.name, len, width)
		end
		local value = width == 8 and range:uint64() or range:uint()
		if kind == "u8" and spec.text then
			tree:add(spec.field, range, spec.text(value))
		else
			tree:add(spec.field, range)
		end
		if spec.name_field then
			tree:add(spec.name_field, range, spec.text(value)):set_generated()
		end
		v[spec.name] = value
		return nil
	elseif kind == "str" then
		-- len 0 is a valid empty string; a TvbRange cannot be empty on every version.
		if len == 0 then
			tree:add(spec.field, item_range, "")
			v[spec.name] = ""
			return nil
		end
		local raw = range:raw()
		if raw:find("\0", 1, true) then
			return string.format("item %s contains a NUL byte", spec.name)
		end
		tree:add_packet_field(spec.field, range, ENC_UTF_8)
		-- Not range:string(ENC_UTF_8): Wireshark 4.0 cuts its result to the byte length
		-- of the range, losing the tail when a replacement character is longer.
		v[spec.name] = utf8_sanitize(raw)
		return nil
	elseif kind == "addr" then
		if len ~= 4 and len ~= 16 then
			return string.format("item %s has %d bytes, expected 4 or 16", spec.name, len)
		end
		local is_v6 = len == 16
		if v.v6 ~= nil and v.v6 ~= is_v6 then
			return "local and remote addresses of different families"
		end
		v.v6 = is_v6
		if is_v6 then
			tree:add(spec.field6, range)
			v[spec.name] = tostring(range:ipv6())
		else
			tree:add(spec.field, range)
			v[spec.name] = tostring(range:ipv4())
		end
		return nil
	end
	return "internal: unknown item kind " .. tostring(kind)
end

-- Check the 24-byte header. Returns header values, or nil and the reason.
local function check_header(tvb, avail)
	if avail < RECORD_HEADER_LEN then
		return nil, string.format("truncated header (%d of %d bytes)", avail, RECORD_HEADER_LEN)
	end
	local h = {
		magic = tvb(0, 2):uint(),
		version = tvb(2, 1):uint(),
		header_length = tvb(3, 1):uint(),
		type = tvb(4, 2):uint(),
		length = tvb(8, 4):uint(),
	}
	if h.magic ~= RECORD_MAGIC then
		return nil, string.format("bad magic 0x%04x", h.magic)
	end
	if h.version ~= RECORD_VERSION then
		return h, string.format("unsupported version %d", h.version)
	end
	if h.header_length < RECORD_HEADER_LEN then
		return h, string.format("header length %d < %d", h.header_length, RECORD_HEADER_LEN)
	end
	if h.length > RECORD_MAX_LEN then
		return h, string.format("record length %d > %d", h.length, RECORD_MAX_LEN)
	end
	if h.length < h.header_length then
		return h, string.format("record length %d < header length %d", h.length,
			h.header_length)
	end
	if h.length > avail then
		return h, string.format("truncated record (%d of %d bytes)", avail, h.length)
	end
	return h, nil
end

local function dissect_record(tvb, pinfo, tree)
	pinfo.cols.protocol = "eBPF"
	local avail = tvb:len()
	local root = tree:add(ebpf, tvb())
	local h, reason = check_header(tvb, avail)
	if h == nil then
		root:add_proto_expert_info(ef.malformed, reason)
		pinfo.cols.info:set("Malformed eBPF record: " .. reason)
		return avail
	end

	root:add(f.magic, tvb(0, 2))
	root:add(f.version, tvb(2, 1))
	root:add(f.header_length, tvb(3, 1))
	local v = { event = event_name(h.type) }
	if reason then
		root:add(f.event, tvb(4, 2), v.event)
		root:add_proto_expert_info(ef.malformed, reason)
		pinfo.cols.info:set("Malformed eBPF record: " .. reason)
		return avail
	end
	root:add(f.type, tvb(4, 2))
	root:add(f.event, tvb(4, 2), v.event)
	root:add(f.flags, tvb(6, 2))
	root:add(f.length, tvb(8, 4))
	root:add(f.seq, tvb(12, 4))
	root:add(f.timestamp, tvb(16, 8), nstime_from_ns(tvb(16, 8):uint64()))
	root:append_text(": " .. v.event)

	-- A longer header (a newer writer's) is skipped to its length.
	local off = h.header_length
	local total = h.length
	if off > RECORD_HEADER_LEN then
		root:add(tvb(RECORD_HEADER_LEN, off - RECORD_HEADER_LEN),
			string.format("Header extension (%d bytes, skipped)", off - RECORD_HEADER_LEN))
	end
	local error_item
	while off < total and not reason do
		if total - off < ITEM_HEADER_LEN then
			reason = string.format("item header truncated at offset %d", off)
			error_item = root:add(tvb(off, total - off), "Truncated item header")
			break
		end
		local id = tvb(off, 2):uint()
		local len = tvb(off + 2, 2):uint()
		if len > total - off - ITEM_HEADER_LEN then
			local name = items[id] and items[id].name or "unknown"
			reason = string.format("item %s (%d) value of %d bytes past the end", name, id,
				len)
			error_item = root:add(tvb(off, total - off),
				string.format("Item %d (len %d), past the end of the record", id, len))
			break
		end
		local range = len > 0 and tvb(off + ITEM_HEADER_LEN, len) or nil
		local spec = items[id]
		if spec then
			reason = add_item(root, spec, range, len, v, tvb(off, ITEM_HEADER_LEN))
			if reason then
				error_item = root:add(tvb(off, ITEM_HEADER_LEN + len),
					string.format("Item %s (id %d, len %d)", spec.name, id, len))
			end
		else
			-- Unknown ids come from newer writers: show and skip, never fail.
			local item = root:add(tvb(off, ITEM_HEADER_LEN + len),
				string.format("Unknown item %d (len %d)", id, len))
			if range then
				item:add(f.unknown_item, range)
			end
			item:add_proto_expert_info(ef.unknown_item)
		end
		off = off + ITEM_HEADER_LEN + len
	end
	if not reason and total < avail then
		reason = string.format("%d bytes after the record", avail - total)
		error_item = root:add(tvb(total, avail - total), "Trailing bytes")
	end

	local info = info_text(v)
	if h.type == EVENT_TCP_CONNECT_FAILED then
		root:add_proto_expert_info(ef.connect_failed, "TCP connect failed: " ..
			(v.error and errno_name(v.error) or "no error code"))
	elseif h.type == EVENT_TCP_RETRANSMIT then
		root:add_proto_expert_info(ef.retransmission)
	end
	if reason then
		local where = error_item or root
		where:add_proto_expert_info(ef.malformed, reason)
		info = info .. " [Malformed: " .. reason .. "]"
	end
	pinfo.cols.info:set(info)
	return avail
end

-- Merged packets ------------------------------------------------------------------

local comment_field = Field.new("frame.comment")

-- Comment item names (event_item_name) → field and how to read the value.
local comment_items = {
	pid = { field = f.pid, kind = "u32" },
	tid = { field = f.tid, kind = "u32" },
	uid = { field = f.uid, kind = "u32" },
	gid = { field = f.gid, kind = "u32" },
	ppid = { field = f.ppid, kind = "u32" },
	cgroup_id = { field = f.cgroup_id, kind = "u64" },
	comm = { field = f.comm }, exe = { field = f.exe }, cmdline = { field = f.cmdline },
	pcomm = { field = f.pcomm }, user = { field = f.user }, group = { field = f.group },
	cgroup = { field = f.cgroup }, container_id = { field = f.container_id },
	container = { field = f.container }, pod = { field = f.pod },
	namespace = { field = f.namespace }, runtime = { field = f.runtime },
	image = { field = f.image }, host = { field = f.host },
}
-- Order of the fields inside a Sender/Receiver subtree (comment order does not matter).
local comment_order = { "pid", "tid", "comm", "exe", "cmdline", "ppid", "pcomm", "uid",
	"user", "gid", "group", "cgroup_id", "cgroup", "container_id", "container", "pod",
	"namespace", "runtime", "image", "host" }

local U32_MAX = 4294967295
local U64_MAX_TEXT = "18446744073709551615"

-- Decimal text → number (u32) or UInt64 (u64); nil when not a valid value.
local function parse_uint(s, kind)
	if not s:match("^%d+$") then
		return nil
	end
	if kind == "u32" then
		if #s > 10 then
			return nil
		end
		local n = tonumber(s)
		return n <= U32_MAX and n or nil
	end
	s = s:gsub("^0+(%d)", "%1")
	if #s > #U64_MAX_TEXT or (#s == #U64_MAX_TEXT and s > U64_MAX_TEXT) then
		return nil
	end
	local n = UInt64(0)
	for i = 1, #s do
		n = n * 10 + (s:byte(i) - 48)
	end
	return n
end

-- "%XX" → byte. Returns nil when a '%' is not followed by two hex digits.
local function percent_decode(s)
	if not s:find("%", 1, true) then
		return s
	end
	if s:find("%%%X") or s:find("%%%x%X") or s:find("%%%x?$") then
		return nil
	end
	return (s:gsub("%%(%x%x)", function(hex)
		return string.char(tonumber(hex, 16))
	end))
end

-- Parse "ebpf:1 key=value ..." into { src = {...}, dst = {...} }, plus bad-pair reasons.
local function parse_comment(text)
	local sides = { src = {}, dst = {} }
	local bad = {}
	local pairs_seen = 0
	if #text > COMMENT_MAX_LEN then
		bad[#bad + 1] = string.format("longer than %d bytes, rest ignored", COMMENT_MAX_LEN)
		text = text:sub(1, COMMENT_MAX_LEN)
	end
	for token in text:sub(#COMMENT_TAG + 1):gmatch("%S+") do
		pairs_seen = pairs_seen + 1
		if pairs_seen > COMMENT_MAX_PAIRS then
			bad[#bad + 1] = string.format("more than %d pairs, rest ignored", COMMENT_MAX_PAIRS)
			break
		end
		local key, value = token:match("^([^=]+)=(.*)$")
		if not key then
			bad[#bad + 1] = string.format("'%s' is not key=value", token)
		else
			local side, name = key:match("^(%a+)%.(.+)$")
			local spec = comment_items[name]
			if sides[side] and spec then
				local decoded = percent_decode(value)
				if decoded == nil then
					bad[#bad + 1] = string.format("bad percent-encoding in '%s'", token)
				elseif decoded:find("\0", 1, true) then
					bad[#bad + 1] = string.format("NUL byte in '%s'", token)
				elseif spec.kind then
					local n = parse_uint(decoded, spec.kind)
					if n == nil then
						bad[#bad + 1] = string.format("'%s' is not a valid %s", token,
							spec.kind)
					else
						sides[side][name] = n
					end
				else
					sides[side][name] = utf8_sanitize(decoded)
				end
			end -- unknown keys: a newer writer's, ignored
		end
	end
	return sides, bad
end

local function side_label(values)
	return process_text(values.pid, values.comm) or "?"
end

local function add_side(root, label, role, values)
	local sub = root:add(string.format("%s: %s", label, side_label(values)))
	sub:add(f.role, role):set_generated()
	for _, name in ipairs(comment_order) do
		local value = values[name]
		if value ~= nil then
			sub:add(comment_items[name].field, value):set_generated()
		end
	end
end

-- The first comment line that starts with the tag followed by a space or the line's end
-- (other lines are a human's notes), or nil.
local function find_tagged_line()
	-- A frame may carry several comments; fetch them all at once, use the first ours.
	local comments = { comment_field() }
	for i = 1, #comments do
		local text = comments[i].value
		if text:find(COMMENT_TAG, 1, true) then
			for line in text:gmatch("[^\r\n]+") do
				if line:sub(1, #COMMENT_TAG) == COMMENT_TAG then
					local after = line:sub(#COMMENT_TAG + 1, #COMMENT_TAG + 1)
					if after == "" or after:match("%s") then
						return line
					end
				end
			end
		end
	end
	return nil
end

local function dissect_comment(tvb, pinfo, tree)
	local text = find_tagged_line()
	if not text then
		return 0
	end
	local sides, bad = parse_comment(text)
	local has_src, has_dst = next(sides.src) ~= nil, next(sides.dst) ~= nil
	local label = "eBPF:"
	if has_src then
		label = label .. " sender " .. side_label(sides.src)
	end
	if has_dst then
		label = label .. (has_src and " → " or " ") .. "receiver " .. side_label(sides.dst)
	end
	local root = tree:add(ebpf)
	root:set_text(label)
	if has_src then
		add_side(root, "Sender", "sender", sides.src)
	end
	if has_dst then
		add_side(root, "Receiver", "receiver", sides.dst)
	end
	for _, reason in ipairs(bad) do
		root:add_proto_expert_info(ef.bad_comment, "Malformed ebpf comment pair: " .. reason)
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
do
	local env = os.getenv("EBPFDUMP_STATS")
	if env and #script_args == 0 then
		for word in env:gmatch("[^%s]+") do
			script_args[#script_args + 1] = word
		end
	end
end

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

-- The ebpf fields of the frame being tapped, grouped into subjects: an event frame is one
-- subject; a merged packet has one per side, each starting at its ebpf.role field.
local function frame_subjects()
	local subjects, cur = {}, nil
	for _, fi in ipairs({ all_field_infos() }) do
		local name = fi.name
		if name == "ebpf.role" then
			cur = { role = tostring(fi.value) }
			subjects[#subjects + 1] = cur
		elseif name:sub(1, 5) == "ebpf." then
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

do
	local kinds, tsv = parse_stats_args(script_args)
	if kinds then
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
