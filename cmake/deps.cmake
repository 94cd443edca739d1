# Third-party dependencies: MuJoCo through its CMake config, the rest through pkg-config.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(mujoco REQUIRED)

pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
pkg_check_modules(LAPACKE  REQUIRED IMPORTED_TARGET lapacke)
pkg_check_modules(ZMQ      REQUIRED IMPORTED_TARGET libzmq)
pkg_check_modules(PROTOBUFC REQUIRED IMPORTED_TARGET libprotobuf-c)
pkg_check_modules(UV       REQUIRED IMPORTED_TARGET libuv)
pkg_check_modules(CYAML    REQUIRED IMPORTED_TARGET libcyaml)
pkg_check_modules(YAML     REQUIRED IMPORTED_TARGET yaml-0.1)
pkg_check_modules(CJSON    REQUIRED IMPORTED_TARGET libcjson)
if(GPSC_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()

find_program(PROTOC_C protoc-c REQUIRED)
