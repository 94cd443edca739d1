# keys: CURVE key files of the cluster roles (own pair, server key,
# allow-lists) on top of the wire layer
add_library(gpsc_keys STATIC ${CMAKE_CURRENT_LIST_DIR}/keys.c)
target_include_directories(gpsc_keys PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(gpsc_keys PUBLIC gpsc_wire gpsc_core gpsc_flags)
