# SPDX-License-Identifier: GPL-2.0-or-later
# Where Wireshark looks for extcap programs, Lua plugins and global profiles:
# EBPFDUMP_EXTCAP_DIR, EBPFDUMP_LUA_DIR, EBPFDUMP_WIRESHARK_CONF_DIR.
#
# The installed Wireshark is asked (`tshark -G folders`) instead of guessing, because
# distributions disagree (Debian uses a multiarch libdir, others /usr/lib64 or /usr/local,
# Wireshark 4.6 builds /usr/libexec/wireshark/extcap). All are cache variables, so
# `-DEBPFDUMP_EXTCAP_DIR=...` wins and the question is asked only once per build
# directory. Included from several CMakeLists.txt files, hence the guard.
#
# With EBPFDUMP_WIRESHARK_FOLDERS_PARSE_ONLY set (cmake -P, tests), only the parsing
# function is defined.
include_guard(GLOBAL)

# Parse the text of `tshark -G folders` ("Label:<spaces><tab>path" lines) into the global
# extcap dir, the global Lua plugin dir and the global configuration dir; each is "" when
# absent. Wireshark up to 4.0 prints one or more "Extcap path:" lines (a search path split
# up); 4.2 and later print "Personal Extcap path:" and "Global Extcap path:". A personal
# (per-user) directory is never an install target: with several plain "Extcap path:" lines
# the first outside $HOME wins.
function(ebpfdump_parse_wireshark_folders text out_extcap out_lua out_conf)
	set(global_extcap "")
	set(plain_extcap "")
	set(lua "")
	set(conf "")
	string(REPLACE "\r" "" text "${text}")
	string(REPLACE ";" "\\;" text "${text}")
	string(REPLACE "\n" ";" lines "${text}")
	foreach(line IN LISTS lines)
		if(NOT line MATCHES "^([^:\t]+):[ \t]*(.*)$")
			continue()
		endif()
		set(label "${CMAKE_MATCH_1}")
		string(STRIP "${CMAKE_MATCH_2}" value)
		string(STRIP "${label}" label)
		if(value STREQUAL "")
			continue()
		endif()
		if(label STREQUAL "Global Extcap path" AND NOT global_extcap)
			set(global_extcap "${value}")
		elseif(label STREQUAL "Extcap path" AND NOT plain_extcap)
			set(home_pos -1)
			if(NOT "$ENV{HOME}" STREQUAL "" AND NOT "$ENV{HOME}" STREQUAL "/")
				string(FIND "${value}" "$ENV{HOME}/" home_pos)
			endif()
			if(NOT home_pos EQUAL 0)
				set(plain_extcap "${value}")
			endif()
		elseif(label STREQUAL "Global Lua Plugins" AND NOT lua)
			set(lua "${value}")
		elseif(label STREQUAL "Global configuration" AND NOT conf)
			set(conf "${value}")
		endif()
	endforeach()
	if(global_extcap)
		set(${out_extcap} "${global_extcap}" PARENT_SCOPE)
	else()
		set(${out_extcap} "${plain_extcap}" PARENT_SCOPE)
	endif()
	set(${out_lua} "${lua}" PARENT_SCOPE)
	set(${out_conf} "${conf}" PARENT_SCOPE)
endfunction()

if(EBPFDUMP_WIRESHARK_FOLDERS_PARSE_ONLY)
	return()
endif()

include(GNUInstallDirs)

# A build directory configured before Wireshark was installed holds guessed folders
# (EBPFDUMP_WIRESHARK_DIRS_GUESSED: extcap;lua;conf). Once a tshark answers, the next
# configure asks it again, for each folder still at its guess: an extcap installed
# into a guessed /usr/local/lib/wireshark/extcap is one Debian's Wireshark never lists.
if(EBPFDUMP_WIRESHARK_DIRS_GUESSED)
	find_program(EBPFDUMP_TSHARK tshark DOC "tshark, asked for Wireshark's folders")
	set(_ws_answered FALSE)
	if(EBPFDUMP_TSHARK)
		execute_process(COMMAND ${EBPFDUMP_TSHARK} -G folders
				OUTPUT_QUIET ERROR_QUIET RESULT_VARIABLE _ws_result TIMEOUT 30)
		if(_ws_result EQUAL 0)
			set(_ws_answered TRUE)
		endif()
	endif()
	if(_ws_answered)
		set(_ws_vars EBPFDUMP_EXTCAP_DIR EBPFDUMP_LUA_DIR EBPFDUMP_WIRESHARK_CONF_DIR)
		foreach(_ws_var _ws_guess IN ZIP_LISTS _ws_vars EBPFDUMP_WIRESHARK_DIRS_GUESSED)
			if("${${_ws_var}}" STREQUAL "${_ws_guess}")
				unset(${_ws_var} CACHE)
			endif()
		endforeach()
		unset(EBPFDUMP_WIRESHARK_DIRS_GUESSED CACHE)
		message(STATUS "Wireshark is installed now: asking it for its folders again")
	endif()
endif()

if(NOT DEFINED CACHE{EBPFDUMP_EXTCAP_DIR} OR NOT DEFINED CACHE{EBPFDUMP_LUA_DIR}
   OR NOT DEFINED CACHE{EBPFDUMP_WIRESHARK_CONF_DIR})
	find_program(EBPFDUMP_TSHARK tshark DOC "tshark, asked for Wireshark's folders")
	set(_ws_extcap "")
	set(_ws_lua "")
	set(_ws_conf "")
	if(EBPFDUMP_TSHARK)
		# tshark prints a "Running as user root" warning on stderr; only stdout is parsed.
		execute_process(COMMAND ${EBPFDUMP_TSHARK} -G folders
				OUTPUT_VARIABLE _ws_folders
				ERROR_QUIET
				RESULT_VARIABLE _ws_result
				TIMEOUT 30)
		if(_ws_result EQUAL 0)
			ebpfdump_parse_wireshark_folders("${_ws_folders}" _ws_extcap _ws_lua _ws_conf)
		endif()
	endif()
	set(_ws_guessed FALSE)
	if(NOT _ws_extcap OR NOT _ws_lua)
		message(STATUS "Wireshark folders unknown (no working tshark); using "
			"${CMAKE_INSTALL_FULL_LIBDIR}/wireshark/{extcap,plugins}; "
			"override with -DEBPFDUMP_EXTCAP_DIR= and -DEBPFDUMP_LUA_DIR=, "
			"or configure again once Wireshark is installed")
		set(_ws_guessed TRUE)
	endif()
	if(NOT _ws_extcap)
		set(_ws_extcap "${CMAKE_INSTALL_FULL_LIBDIR}/wireshark/extcap")
	endif()
	if(NOT _ws_lua)
		set(_ws_lua "${CMAKE_INSTALL_FULL_LIBDIR}/wireshark/plugins")
	endif()
	if(NOT _ws_conf)
		set(_ws_conf "${CMAKE_INSTALL_FULL_DATADIR}/wireshark")
	endif()
	if(NOT DEFINED CACHE{EBPFDUMP_EXTCAP_DIR})
		set(EBPFDUMP_EXTCAP_DIR "${_ws_extcap}" CACHE PATH
		    "Directory where Wireshark looks for extcap programs")
	endif()
	if(NOT DEFINED CACHE{EBPFDUMP_LUA_DIR})
		set(EBPFDUMP_LUA_DIR "${_ws_lua}" CACHE PATH
		    "Directory where Wireshark loads global Lua plugins from")
	endif()
	if(NOT DEFINED CACHE{EBPFDUMP_WIRESHARK_CONF_DIR})
		set(EBPFDUMP_WIRESHARK_CONF_DIR "${_ws_conf}" CACHE PATH
		    "Wireshark's global configuration directory (holds profiles/ and colorfilters)")
	endif()
	if(_ws_guessed)
		set(EBPFDUMP_WIRESHARK_DIRS_GUESSED "${_ws_extcap};${_ws_lua};${_ws_conf}"
		    CACHE INTERNAL "Wireshark folders guessed without a working tshark")
	endif()
endif()
message(STATUS "Wireshark extcap dir: ${EBPFDUMP_EXTCAP_DIR}")
message(STATUS "Wireshark Lua plugin dir: ${EBPFDUMP_LUA_DIR}")
message(STATUS "Wireshark global configuration dir: ${EBPFDUMP_WIRESHARK_CONF_DIR}")
