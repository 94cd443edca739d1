# The learner's kernels against every reference vector, through the same
# command a user runs.
file(GLOB GPSC_REFERENCE_VECTORS ${GPSC_TEST_DATA}/reference/*.json)
add_test(NAME numerics_reference
  COMMAND $<TARGET_FILE:gpsc-numerics> check ${GPSC_REFERENCE_VECTORS})
set_tests_properties(numerics_reference PROPERTIES TIMEOUT 300 LABELS unit)
