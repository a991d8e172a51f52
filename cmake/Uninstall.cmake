# SPDX-License-Identifier: GPL-2.0-or-later
# `cmake --build BUILD --target uninstall`: removes every file that `cmake --install`
# recorded in install_manifest.txt (under the same DESTDIR, if one was used), then the
# directories only ebpfdump creates, when they are left empty. Shared directories
# (Wireshark's extcap and plugin folders, man1) are never removed.
#
#   cmake -DMANIFEST=BUILD/install_manifest.txt -DOWN_DIRS="dir|dir" -P Uninstall.cmake
#
# Files already gone are reported, not an error: uninstalling twice is harmless.
if(NOT MANIFEST OR NOT EXISTS "${MANIFEST}")
	message(FATAL_ERROR "no install manifest at '${MANIFEST}': nothing was installed from "
		"this build directory (run cmake --install first)")
endif()

file(STRINGS "${MANIFEST}" files)
set(removed 0)
set(missing 0)
set(destdir "$ENV{DESTDIR}")
foreach(f IN LISTS files)
	# The manifest holds the install paths without DESTDIR: an uninstall with the DESTDIR
	# of the install removes the staged copies, never the system's.
	if(destdir)
		string(FIND "${f}" "${destdir}/" at)
		if(NOT at EQUAL 0)
			set(f "${destdir}${f}")
		endif()
	endif()
	if(IS_SYMLINK "${f}" OR EXISTS "${f}")
		if(IS_DIRECTORY "${f}" AND NOT IS_SYMLINK "${f}")
			message(STATUS "Skipping directory ${f}")
			continue()
		endif()
		file(REMOVE "${f}")
		if(EXISTS "${f}" OR IS_SYMLINK "${f}")
			message(FATAL_ERROR "cannot remove ${f} (permissions?)")
		endif()
		message(STATUS "Removed ${f}")
		math(EXPR removed "${removed} + 1")
	else()
		message(STATUS "Already gone: ${f}")
		math(EXPR missing "${missing} + 1")
	endif()
endforeach()

# Deepest first, so a tree of our own empty directories goes entirely.
set(dirs "")
string(REPLACE "|" ";" own_dirs "${OWN_DIRS}")
foreach(d IN LISTS own_dirs)
	list(APPEND dirs "$ENV{DESTDIR}${d}")
endforeach()
list(SORT dirs ORDER DESCENDING)
foreach(d IN LISTS dirs)
	if(IS_DIRECTORY "${d}")
		file(GLOB left "${d}/*" "${d}/.*")
		if(left)
			message(STATUS "Keeping ${d}: not empty")
		else()
			file(REMOVE_RECURSE "${d}")
			message(STATUS "Removed directory ${d}")
		endif()
	endif()
endforeach()
message(STATUS "Uninstalled ${removed} files (${missing} already gone)")
