# SPDX-License-Identifier: GPL-2.0-or-later
# Capture file reader and offline merge (no root): the reader's C checks
# and fuzzing, tcpdump- and tshark-checked files, and an offline merge of
# generated packets and events checked with tshark and dissector/ebpf.lua.
add_executable(test_reader ${CMAKE_CURRENT_LIST_DIR}/test_reader.c)
target_include_directories(test_reader PRIVATE ${CMAKE_CURRENT_LIST_DIR})
find_package(Threads REQUIRED)
target_link_libraries(test_reader PRIVATE ebpf_pcapng_reader ebpf_pcapng Threads::Threads)

# Driver of offline_merge() for the shell tests and the benchmark.
add_executable(merge_files ${PROJECT_SOURCE_DIR}/tests/tools/merge_files.c)
target_link_libraries(merge_files PRIVATE ebpf_offline)

add_test(NAME reader_unit COMMAND test_reader unit)
add_test(NAME reader_fuzz COMMAND test_reader fuzz 20000)
set_tests_properties(reader_unit reader_fuzz PROPERTIES LABELS "unit" TIMEOUT 60)

add_test(NAME reader_tcpdump_files
         COMMAND bash ${PROJECT_SOURCE_DIR}/tests/e2e/live_reader_files.sh
                 $<TARGET_FILE:test_reader> $<TARGET_FILE:offline_gen>)
add_test(NAME offline_merge
         COMMAND bash ${PROJECT_SOURCE_DIR}/tests/e2e/live_offline.sh
                 $<TARGET_FILE:offline_gen> $<TARGET_FILE:merge_files>
                 $<TARGET_FILE:test_reader> $<TARGET_FILE:mkcapture>
                 ${PROJECT_SOURCE_DIR}/dissector/ebpf.lua)
set_tests_properties(reader_tcpdump_files offline_merge PROPERTIES
                     LABELS "unit" TIMEOUT 60 SKIP_RETURN_CODE 77)
