# SPDX-License-Identifier: GPL-2.0-or-later
# The --tls frame builder (issue 19).
if(EBPFDUMP_WITH_BPF)
  add_executable(test_tls_frame ${CMAKE_CURRENT_LIST_DIR}/test_tls_frame.c)
  target_link_libraries(test_tls_frame PRIVATE ebpf_tls)
  target_include_directories(test_tls_frame PRIVATE ${PROJECT_SOURCE_DIR})
  add_test(NAME tls_frame COMMAND test_tls_frame)
  set_tests_properties(tls_frame PROPERTIES LABELS "unit")
endif()
