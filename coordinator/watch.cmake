# The live view and the monitoring endpoints: gpsc_view (the view model and
# renderer, and the progress events' JSON the coordinator publishes),
# gpsc_monitor (the Prometheus endpoint and the view inside gpsc run), and
# gpsc-watch.

add_library(gpsc_view STATIC ${CMAKE_CURRENT_LIST_DIR}/view.c)
target_include_directories(gpsc_view PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(gpsc_view PUBLIC gpsc_log gpsc_core PkgConfig::CJSON gpsc_flags m)

if(TARGET gpsc_coord)
  # the coordinator publishes progress events in the view's format
  target_link_libraries(gpsc_coord PUBLIC gpsc_view)

  add_library(gpsc_monitor STATIC ${CMAKE_CURRENT_LIST_DIR}/prom.c
    ${CMAKE_CURRENT_LIST_DIR}/runview.c)
  target_include_directories(gpsc_monitor PUBLIC ${CMAKE_SOURCE_DIR})
  target_link_libraries(gpsc_monitor PUBLIC gpsc_coord gpsc_view PkgConfig::UV gpsc_flags m)
  foreach(t gpsc-run gpsc-coordinator)
    if(TARGET ${t})
      target_link_libraries(${t} PRIVATE gpsc_monitor)
    endif()
  endforeach()
endif()

add_executable(gpsc-watch ${CMAKE_CURRENT_LIST_DIR}/watch_main.c)
target_link_libraries(gpsc-watch PRIVATE gpsc_view gpsc_keys gpsc_wire gpsc_log gpsc_core gpsc_flags)
