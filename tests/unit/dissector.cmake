# SPDX-License-Identifier: GPL-2.0-or-later
# Dissector tests: mkcapture writes captures with known content, tshark decodes them
# with the source tree's dissector/ebpf.lua, a golden table states what must come out.
# One ctest test per capture, so they run in parallel and each stays well under a minute.
add_executable(mkcapture ${PROJECT_SOURCE_DIR}/tests/tools/mkcapture.c)
target_link_libraries(mkcapture PRIVATE ebpf_event ebpf_pcapng)

find_program(EBPFDUMP_TSHARK tshark DOC "tshark, asked for Wireshark's folders")
if(EBPFDUMP_TSHARK)
  # "-": rows without a capture (field names and types). random: mutated records, the
  # dissector against the C codec (same rejections and reasons, same values).
  foreach(capture fields events malformed merged all random)
    set(selector ${capture})
    if(capture STREQUAL "fields")
      set(selector "-")
    endif()
    add_test(NAME dissector_${capture}
             COMMAND ${PROJECT_SOURCE_DIR}/tests/unit/dissector_golden.sh
                     $<TARGET_FILE:mkcapture>
                     ${PROJECT_SOURCE_DIR}/dissector/ebpf.lua
                     ${PROJECT_SOURCE_DIR}/tests/unit/dissector_golden.tsv
                     ${selector})
    set_tests_properties(dissector_${capture} PROPERTIES
                         ENVIRONMENT "TSHARK=${EBPFDUMP_TSHARK}"
                         TIMEOUT 90)
  endforeach()
else()
  message(STATUS "tshark not found: dissector tests disabled")
endif()
