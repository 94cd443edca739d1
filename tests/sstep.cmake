# Unit test of the S-step (learner/sstep.cmake).
if(TARGET gpsc_learner_sstep)
  gpsc_add_test(test_sstep test_sstep.c LIBS gpsc_learner_sstep TIMEOUT 120 LABELS unit)
endif()
