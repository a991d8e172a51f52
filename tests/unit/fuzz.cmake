# SPDX-License-Identifier: GPL-2.0-or-later
# Every fuzz target (fuzz/CMakeLists.txt) runs briefly over its seed corpus:
# libFuzzer for ~10 s when built with EBPFDUMP_FUZZ=ON (clang), otherwise
# the plain driver with a fixed number of deterministic mutations. New
# inputs libFuzzer finds go to the build tree, never into the repository;
# crashes are left as fuzz/artifacts/<name>-crash-* in the build tree.
# For hours: see docs/hardening.md.
get_property(fuzz_dir_added GLOBAL PROPERTY EBPFDUMP_FUZZ_TARGETS SET)
if(NOT fuzz_dir_added)
  # until the top-level CMakeLists.txt adds fuzz/ itself
  add_subdirectory(${PROJECT_SOURCE_DIR}/fuzz ${PROJECT_BINARY_DIR}/fuzz)
endif()
get_property(fuzz_targets GLOBAL PROPERTY EBPFDUMP_FUZZ_TARGETS)
set(EBPFDUMP_FUZZ_SECONDS 10 CACHE STRING "Seconds each libFuzzer target runs in ctest")
set(EBPFDUMP_FUZZ_DRIVER_RUNS 200000 CACHE STRING "Mutated inputs per target without libFuzzer")
file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/fuzz/artifacts)
foreach(name ${fuzz_targets})
  set(work ${PROJECT_BINARY_DIR}/fuzz/work/${name})
  set(seeds ${PROJECT_SOURCE_DIR}/fuzz/corpus/${name})
  file(MAKE_DIRECTORY ${work})
  if(EBPFDUMP_FUZZ)
    add_test(NAME fuzz_${name}
             COMMAND ${name}_fuzz -max_total_time=${EBPFDUMP_FUZZ_SECONDS} -timeout=10
                     -rss_limit_mb=2048 -print_final_stats=1
                     -artifact_prefix=${PROJECT_BINARY_DIR}/fuzz/artifacts/${name}-
                     ${work} ${seeds})
  else()
    add_test(NAME fuzz_${name}
             COMMAND ${name}_fuzz -runs=${EBPFDUMP_FUZZ_DRIVER_RUNS} -max_total_time=30 ${seeds})
  endif()
  set_tests_properties(fuzz_${name} PROPERTIES LABELS "unit;fuzz" TIMEOUT 60
                       WORKING_DIRECTORY ${PROJECT_BINARY_DIR}/fuzz/artifacts)
endforeach()
