# gpsc_svg: a small SVG plotting module (coordinator/svg.{h,c});
# gpsc_report: the HTML report of a run directory (coordinator/report.{h,c});
# gpsc-report: `gpsc report RUN_DIR` (coordinator/report_main.c).
# The report reads checkpoints (gpsc_checkpoint, defined under learner/) and
# the experiment file (gpsc_experiment); it needs no MuJoCo.
add_library(gpsc_svg STATIC ${CMAKE_CURRENT_LIST_DIR}/svg.c)
target_include_directories(gpsc_svg PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(gpsc_svg PUBLIC gpsc_core gpsc_flags m)

if(TARGET gpsc_checkpoint)
  add_library(gpsc_report STATIC ${CMAKE_CURRENT_LIST_DIR}/report.c)
  target_include_directories(gpsc_report PUBLIC ${CMAKE_SOURCE_DIR})
  target_compile_definitions(gpsc_report PRIVATE GPSC_VERSION="${PROJECT_VERSION}")
  target_link_libraries(gpsc_report PUBLIC gpsc_svg gpsc_checkpoint gpsc_experiment gpsc_core
    PkgConfig::CJSON gpsc_flags m)

  add_executable(gpsc-report ${CMAKE_CURRENT_LIST_DIR}/report_main.c)
  target_link_libraries(gpsc-report PRIVATE gpsc_report gpsc_flags)
endif()
