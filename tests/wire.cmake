# wire layer: envelopes, validation, sockets, CURVE/ZAP
gpsc_add_test(test_wire ${CMAKE_CURRENT_LIST_DIR}/test_wire.c LIBS gpsc_wire TIMEOUT 60)

# replay the fuzz seed corpus and every saved crash input through the fuzz
# target in the ordinary build (no libFuzzer needed)
gpsc_add_test(test_fuzz_envelope_replay ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_envelope.c
  ${CMAKE_CURRENT_LIST_DIR}/fuzz/replay_main.c LIBS gpsc_wire TIMEOUT 60
  ARGS ${CMAKE_CURRENT_LIST_DIR}/fuzz/corpus/envelope ${CMAKE_CURRENT_LIST_DIR}/fuzz/regressions/envelope)
