# config: YAML configuration documents with file:line:column errors (libyaml)
add_library(gpsc_config STATIC config.c)
target_include_directories(gpsc_config PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(gpsc_config PUBLIC gpsc_core PkgConfig::YAML gpsc_flags)
