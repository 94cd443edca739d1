# Every task under experiments/ loads, resolves and rolls out under its
# initial controller on its first two conditions with the
# dimensions docs/tasks.md documents. gpsc-rollout exits non-zero on a model
# or config error and on a failed (non-finite / unstable) rollout.
set(GPSC_TASK_DIMS
  "reacher|T 50 dX 10 dU 2 dO 10 P 3 dQ 2"
  "peg7|T 100 dX 26 dU 7 dO 26 P 6 dQ 7"
  "peg2d|T 800 dX 18 dU 3 dO 18 P 6 dQ 3"
  "peg3d|T 800 dX 24 dU 6 dO 24 P 6 dQ 6"
  "swimmer|T 400 dX 10 dU 2 dO 10 P 0 dQ 5"
  "walker|T 500 dX 18 dU 6 dO 18 P 0 dQ 9"
  "obstacle|T 100 dX 7 dU 2 dO 7 P 3 dQ 2"
  "octopus|T 100 dX 56 dU 18 dO 56 P 6 dQ 25")
foreach(entry ${GPSC_TASK_DIMS})
  string(REPLACE "|" ";" parts "${entry}")
  list(GET parts 0 task)
  list(GET parts 1 dims)
  string(REPLACE " " " +" dims_re "${dims}")
  add_test(NAME task_${task}
    COMMAND bash -c "for c in 0 1; do \
      out=$($<TARGET_FILE:gpsc-rollout> -e ${CMAKE_SOURCE_DIR}/experiments/${task}.yaml -c $c \
            -o ${CMAKE_CURRENT_BINARY_DIR}/task_${task}.traj) || exit 1; \
      echo \"$out\"; echo \"$out\" | grep -Eq '^dims: +${dims_re}$' || exit 1; done")
  set_tests_properties(task_${task} PROPERTIES TIMEOUT 120 LABELS unit)
endforeach()
