gpsc_add_test(test_config test_config.c LIBS gpsc_config TIMEOUT 60)

# replay the fuzz seed corpus and every saved crash input through the fuzz
# target in the ordinary build (no libFuzzer needed)
gpsc_add_test(test_fuzz_config_replay ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_config.c
  ${CMAKE_CURRENT_LIST_DIR}/fuzz/replay_main.c LIBS gpsc_config TIMEOUT 60
  ARGS ${CMAKE_CURRENT_LIST_DIR}/fuzz/corpus/config ${CMAKE_CURRENT_LIST_DIR}/fuzz/regressions/config)
