# SPDX-License-Identifier: GPL-2.0-or-later
# Unit tests of the packet parser and the merge engine (pure C, no root).
foreach(name test_parse test_flow_table test_merge)
  add_executable(${name} ${CMAKE_CURRENT_LIST_DIR}/${name}.c)
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(${name} PRIVATE ebpf_merge)
endforeach()
# test_merge also writes through the packet sink and reads the file back.
target_link_libraries(test_merge PRIVATE ebpf_packet_sink ebpf_offline)
add_test(NAME unit_parse COMMAND test_parse)
add_test(NAME unit_flow_table COMMAND test_flow_table)
add_test(NAME unit_merge COMMAND test_merge)
set_tests_properties(unit_parse unit_flow_table unit_merge PROPERTIES LABELS "unit" TIMEOUT 60)
