# Tests of the report (coordinator/report.cmake): the SVG module, the report
# on a synthetic run directory, and (system) a real gpsc-solo run rendered
# and screenshotted with headless Chromium.
if(TARGET gpsc_svg)
  gpsc_add_test(test_svg test_svg.c LIBS gpsc_svg TIMEOUT 30 LABELS unit)
endif()
if(TARGET gpsc_report)
  gpsc_add_test(test_report test_report.c LIBS gpsc_report gpsc_checkpoint TIMEOUT 30
    LABELS unit)
endif()
# system: a 3-iteration gpsc-solo run of the reacher (or, without gpsc-solo,
# test_report's synthetic run directory), the report, XML and series checks
# with python3, a headless Chromium screenshot into
# build/tests/report_system/report.png. Skipped (77) without python3 or chromium.
if(TARGET gpsc-report AND TARGET test_report)
  if(TARGET gpsc-solo)
    set(_report_mode solo)
    set(_report_gen $<TARGET_FILE:gpsc-solo>)
  else()
    set(_report_mode synthetic)
    set(_report_gen $<TARGET_FILE:test_report>)
  endif()
  add_test(NAME report_system
    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/report_system.sh $<TARGET_FILE:gpsc-report>
      ${CMAKE_BINARY_DIR}/tests/report_system ${CMAKE_SOURCE_DIR}/experiments/reacher.yaml
      ${_report_mode} ${_report_gen})
  set_tests_properties(report_system PROPERTIES TIMEOUT 180 LABELS system SKIP_RETURN_CODE 77)
endif()
