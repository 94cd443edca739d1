# wire: envelopes <-> bytes, validation, ZeroMQ sockets, CURVE/ZAP.
# The only library that links libzmq and packs protobuf-c messages.
add_library(gpsc_wire STATIC ${CMAKE_CURRENT_LIST_DIR}/wire.c)
target_include_directories(gpsc_wire PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(gpsc_wire PUBLIC gpsc_core gpsc_proto PkgConfig::ZMQ gpsc_flags
  Threads::Threads)
