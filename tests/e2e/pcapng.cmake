# SPDX-License-Identifier: GPL-2.0-or-later
# The pcapng writer on a full disk (root: mounts a small tmpfs): the error
# is said and the file holds every block written before. Same script and
# checker as the writer's unit tests (tests/unit/pcapng.cmake).
add_test(NAME pcapng_enospc
         COMMAND bash ${PROJECT_SOURCE_DIR}/tests/unit/pcapng_readback.sh enospc
                 $<TARGET_FILE:test_pcapng>)
set_tests_properties(pcapng_enospc PROPERTIES LABELS "e2e" TIMEOUT 60 SKIP_RETURN_CODE 77)
