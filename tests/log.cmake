gpsc_add_test(test_log test_log.c LIBS gpsc_log TIMEOUT 60)
