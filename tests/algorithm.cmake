# Tests of the algorithm layer, checkpoints and gpsc-solo (learner/algorithm.cmake).
if(TARGET gpsc_learner_alg)
  gpsc_add_test(test_algorithm test_algorithm.c LIBS gpsc_learner_alg TIMEOUT 120 LABELS unit)
  gpsc_add_test(test_checkpoint test_checkpoint.c LIBS gpsc_learner_alg gpsc_checkpoint
    TIMEOUT 120 LABELS unit)
  gpsc_add_test(test_solo test_solo.c LIBS PkgConfig::CJSON TIMEOUT 600 LABELS system)
  add_dependencies(test_solo gpsc-solo)
endif()
# GPS 2014 (learner/gps2014.{h,c} and the algorithm's gps2014 iteration)
# and the global policy's cost bound of seed 000 C
if(TARGET gpsc_learner_alg)
  gpsc_add_test(test_gps2014 test_gps2014.c LIBS gpsc_learner_alg gpsc_checkpoint TIMEOUT 120
    LABELS unit)
endif()
