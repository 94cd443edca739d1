# The live view, the Prometheus endpoint and gpsc watch (coordinator/view.c,
# coordinator/prom.c, coordinator/watch_main.c): unit tests without a run,
# and a system test with real runs (a pipe, tmux, a restart, scrapes).
if(TARGET gpsc_view)
  gpsc_add_test(test_view test_view.c LIBS gpsc_view TIMEOUT 30 LABELS unit)
endif()
if(TARGET gpsc_monitor)
  gpsc_add_test(test_prom test_prom.c LIBS gpsc_monitor TIMEOUT 30 LABELS unit)
endif()
if(TARGET gpsc-watch AND TARGET gpsc-run)
  gpsc_add_test(test_watch test_watch.c TIMEOUT 300 LABELS system)
  add_dependencies(test_watch gpsc-watch gpsc-run gpsc-coordinator gpsc-learner gpsc-worker)
endif()
