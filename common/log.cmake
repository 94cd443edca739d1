# log: process logging (one macro; text / JSON-lines sinks; forwarding hook)
add_library(gpsc_log STATIC log.c)
target_include_directories(gpsc_log PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(gpsc_log PUBLIC gpsc_core PkgConfig::CJSON Threads::Threads gpsc_flags)
