# Unit tests of the trajectory half of the learner (learner/traj.cmake).
if(TARGET gpsc_learner_traj)
  gpsc_add_test(test_lqr test_lqr.c LIBS gpsc_learner_traj TIMEOUT 60 LABELS unit)
  gpsc_add_test(test_traj test_traj.c LIBS gpsc_learner_traj TIMEOUT 60 LABELS unit)
  gpsc_add_test(test_cstep test_cstep.c LIBS gpsc_learner_traj TIMEOUT 120 LABELS unit)
  gpsc_add_test(test_stepsize test_stepsize.c LIBS gpsc_learner_traj TIMEOUT 30 LABELS unit)
  gpsc_add_test(test_init test_init.c LIBS gpsc_learner_traj TIMEOUT 30 LABELS unit)
  gpsc_add_test(test_pool test_pool.c LIBS gpsc_learner_traj TIMEOUT 60 LABELS unit)
endif()
