# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark programs (not tests: they print figures, nothing is checked by
# ctest). Included from the top-level CMakeLists.txt after the modules:
#   include(bench/bench.cmake)
find_package(Threads REQUIRED)
add_executable(loadgen ${PROJECT_SOURCE_DIR}/bench/loadgen.c)
target_link_libraries(loadgen PRIVATE Threads::Threads)
add_executable(pcapng_count ${PROJECT_SOURCE_DIR}/bench/pcapng_count.c)
target_link_libraries(pcapng_count PRIVATE ebpf_event)
add_executable(pipeline_bench ${PROJECT_SOURCE_DIR}/bench/pipeline_bench.c)
target_link_libraries(pipeline_bench PRIVATE ebpf_merge ebpf_enrich ebpf_pcapng ebpf_event)
set_target_properties(loadgen pcapng_count pipeline_bench PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bench)

# Micro benchmark: packets/s through parse + merge with 1M flows, RSS and
# bytes per flow.
add_executable(merge_bench ${PROJECT_SOURCE_DIR}/bench/merge_bench.c)
target_link_libraries(merge_bench PRIVATE ebpf_merge)
# Input generator of the offline merge test and benchmark
# (bench/offline_bench.sh): a pcap of N packets over F flows plus the
# matching connect/accept events.
add_executable(offline_gen ${PROJECT_SOURCE_DIR}/bench/offline_gen.c)
target_link_libraries(offline_gen PRIVATE ebpf_event ebpf_pcapng)
