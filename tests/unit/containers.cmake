# SPDX-License-Identifier: GPL-2.0-or-later
# Unit tests of container identity (enrich/cgroup, oci, docker, cri,
# container): cgroup path tables, OCI bundle fixtures, the Docker client
# against a fake unix-socket server that answers well, badly, slowly or not
# at all, and the CRI answer decoder.
set(CONTAINER_FIXTURES ${PROJECT_SOURCE_DIR}/tests/fixtures/containers)
foreach(name test_cgroup test_oci test_docker test_cri)
  add_executable(${name} ${CMAKE_CURRENT_LIST_DIR}/${name}.c)
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(${name} PRIVATE ebpf_enrich)
endforeach()
find_package(Threads REQUIRED)
target_link_libraries(test_docker PRIVATE Threads::Threads)

add_test(NAME unit_cgroup_paths COMMAND test_cgroup ${CONTAINER_FIXTURES})
add_test(NAME unit_oci_bundles COMMAND test_oci ${CONTAINER_FIXTURES})
add_test(NAME unit_docker_client COMMAND test_docker ${CONTAINER_FIXTURES})
add_test(NAME unit_cri_decode COMMAND test_cri)
set_tests_properties(unit_cgroup_paths unit_oci_bundles unit_docker_client unit_cri_decode
                     PROPERTIES LABELS "unit" TIMEOUT 60)
