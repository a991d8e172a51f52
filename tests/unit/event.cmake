# SPDX-License-Identifier: GPL-2.0-or-later
# Unit tests of event/: the record codec, name tables, golden doc example,
# rejection reasons, mutation fuzzing, and the merged-packet EPB comment.
add_executable(test_record ${CMAKE_CURRENT_LIST_DIR}/test_record.c)
target_link_libraries(test_record PRIVATE ebpf_event)
add_executable(test_comment ${CMAKE_CURRENT_LIST_DIR}/test_comment.c)
target_link_libraries(test_comment PRIVATE ebpf_event)

foreach(group names roundtrip reject fuzz)
  add_test(NAME event_record_${group} COMMAND test_record ${group})
endforeach()
# The doc's worked example must be exactly what the encoder produces.
add_test(NAME event_record_golden_doc
         COMMAND test_record golden ${PROJECT_SOURCE_DIR}/docs/event-format.md)
add_test(NAME event_comment COMMAND test_comment)
set_tests_properties(event_record_fuzz PROPERTIES TIMEOUT 60)

# Drift: ebpf.lua's and event-format.md's type and item names against the C
# tables (EVENT_TYPES, EVENT_ITEMS).
add_executable(test_names ${CMAKE_CURRENT_LIST_DIR}/test_names.c)
target_link_libraries(test_names PRIVATE ebpf_event)
add_test(NAME event_names_drift
         COMMAND test_names ${PROJECT_SOURCE_DIR}/dissector/ebpf.lua
                 ${PROJECT_SOURCE_DIR}/docs/event-format.md)
set_tests_properties(event_names_drift PROPERTIES LABELS "unit;dissector")
