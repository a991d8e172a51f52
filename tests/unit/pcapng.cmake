# SPDX-License-Identifier: GPL-2.0-or-later
# pcapng writer tests: C checks with a raw block parser, read-back with
# tshark/capinfos, a fifo whose reader dies, short writes on a slow pipe
# (and, in tests/e2e/, a full disk). pcapng_readback.sh owns the
# scratch directories and cleans them up.
add_executable(test_pcapng ${CMAKE_CURRENT_LIST_DIR}/test_pcapng.c)
target_link_libraries(test_pcapng PRIVATE ebpf_pcapng)

foreach(part limits secrets readback fifo shortwrite)
  add_test(NAME pcapng_${part}
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/pcapng_readback.sh ${part} $<TARGET_FILE:test_pcapng>)
  set_tests_properties(pcapng_${part} PROPERTIES LABELS "unit" TIMEOUT 60 SKIP_RETURN_CODE 77)
endforeach()

# The full-disk case needs root: tests/e2e/pcapng.cmake registers it.
