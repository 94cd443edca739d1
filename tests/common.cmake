gpsc_add_test(test_error test_error.c LIBS gpsc_core)
