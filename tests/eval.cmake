# gpsc eval (worker/eval.{h,c}, worker/eval_main.c): the library and the
# command on a short reacher run of gpsc-solo (MuJoCo; a system test).
if(TARGET gpsc-eval AND TARGET gpsc-solo)
  gpsc_add_test(test_eval test_eval.c LIBS gpsc_eval PkgConfig::CJSON TIMEOUT 300 LABELS system)
  add_dependencies(test_eval gpsc-eval gpsc-solo)
endif()
