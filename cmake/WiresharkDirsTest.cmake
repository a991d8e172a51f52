# SPDX-License-Identifier: GPL-2.0-or-later
# Test of ebpfdump_parse_wireshark_folders (cmake/WiresharkDirs.cmake) on the
# `tshark -G folders` layouts of Wireshark 3.6/4.0 (Debian 12) and 4.2+ (4.6 with
# /usr/libexec/wireshark/extcap). Run: cmake -P cmake/WiresharkDirsTest.cmake
set(EBPFDUMP_WIRESHARK_FOLDERS_PARSE_ONLY ON)
include(${CMAKE_CURRENT_LIST_DIR}/WiresharkDirs.cmake)
set(ENV{HOME} "/home/alice")
set(failures 0)

function(expect name text extcap lua conf)
	ebpfdump_parse_wireshark_folders("${text}" got_extcap got_lua got_conf)
	if(NOT got_extcap STREQUAL extcap OR NOT got_lua STREQUAL lua OR NOT got_conf STREQUAL conf)
		message(SEND_ERROR "${name}: got extcap='${got_extcap}' lua='${got_lua}' "
			"conf='${got_conf}', expected '${extcap}' '${lua}' '${conf}'")
		math(EXPR failures "${failures} + 1")
		set(failures ${failures} PARENT_SCOPE)
	else()
		message(STATUS "ok: ${name}")
	endif()
endfunction()

# Wireshark 4.0 on Debian 12 (labels padded to 21 columns, then a tab).
string(CONCAT debian_4_0
	"Temp:                \t/tmp\n"
	"Personal configuration:\t/home/alice/.config/wireshark\n"
	"Global configuration:\t/usr/share/wireshark\n"
	"System:              \t/etc\n"
	"Program:             \t/usr/bin\n"
	"Personal Plugins:    \t/home/alice/.local/lib/wireshark/plugins/4.0\n"
	"Global Plugins:      \t/usr/lib/x86_64-linux-gnu/wireshark/plugins/4.0\n"
	"Personal Lua Plugins:\t/home/alice/.local/lib/wireshark/plugins\n"
	"Global Lua Plugins:  \t/usr/lib/x86_64-linux-gnu/wireshark/plugins\n"
	"Extcap path:         \t/usr/lib/x86_64-linux-gnu/wireshark/extcap\n"
	"MaxMind database path:\t/usr/share/GeoIP\n")
expect("Debian 12, Wireshark 4.0" "${debian_4_0}"
	"/usr/lib/x86_64-linux-gnu/wireshark/extcap"
	"/usr/lib/x86_64-linux-gnu/wireshark/plugins" "/usr/share/wireshark")

# Wireshark 4.6 built with its default layout: personal and global extcap lines,
# extcap programs in libexec, versioned plugin dirs.
string(CONCAT ws_4_6
	"Temp:                \t/tmp\n"
	"Personal configuration:\t/home/alice/.config/wireshark\n"
	"Global configuration:\t/usr/share/wireshark\n"
	"System:              \t/etc\n"
	"Program:             \t/usr/bin\n"
	"Personal Plugins:    \t/home/alice/.local/lib/wireshark/plugins/4.6\n"
	"Global Plugins:      \t/usr/lib64/wireshark/plugins/4.6\n"
	"Personal Lua Plugins:\t/home/alice/.local/lib/wireshark/plugins\n"
	"Global Lua Plugins:  \t/usr/lib64/wireshark/plugins\n"
	"Personal Extcap path:\t/home/alice/.local/lib/wireshark/extcap\n"
	"Global Extcap path:  \t/usr/libexec/wireshark/extcap\n"
	"MaxMind database path:\t/usr/share/GeoIP\n")
expect("Wireshark 4.6, libexec" "${ws_4_6}" "/usr/libexec/wireshark/extcap"
	"/usr/lib64/wireshark/plugins" "/usr/share/wireshark")

# An old search path printed as several plain lines, the personal one first.
string(CONCAT split_path
	"Extcap path:         \t/home/alice/.local/lib/wireshark/extcap\n"
	"Extcap path:         \t/usr/local/lib/wireshark/extcap\n"
	"Global Lua Plugins:  \t/usr/local/lib/wireshark/plugins\n"
	"Global configuration:\t/usr/local/share/wireshark\n")
expect("split search path" "${split_path}" "/usr/local/lib/wireshark/extcap"
	"/usr/local/lib/wireshark/plugins" "/usr/local/share/wireshark")

# CRLF line ends and paths with spaces and semicolons survive.
expect("CRLF and odd paths"
	"Global Extcap path:\t/opt/Wire shark;x/extcap\r\nGlobal Lua Plugins:\t/opt/l ua\r\n"
	"/opt/Wire shark;x/extcap" "/opt/l ua" "")
expect("nothing known" "Temp:\t/tmp\n" "" "" "")

if(failures GREATER 0)
	message(FATAL_ERROR "${failures} failed")
endif()
message("5 passed, 0 failed")
