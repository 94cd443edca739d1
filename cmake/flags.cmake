# Warnings and sanitizers, applied through an interface target so that
# nothing global leaks into third-party code.
add_library(gpsc_flags INTERFACE)
target_compile_options(gpsc_flags INTERFACE -Wall -Wextra -Wshadow -Wstrict-prototypes
  -Wmissing-prototypes -Wno-unused-parameter)
if(GPSC_WERROR)
  target_compile_options(gpsc_flags INTERFACE -Werror)
endif()
target_compile_definitions(gpsc_flags INTERFACE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
if(GPSC_SANITIZE)
  target_compile_options(gpsc_flags INTERFACE -fsanitize=address,undefined
    -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(gpsc_flags INTERFACE -fsanitize=address,undefined)
endif()
if(GPSC_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "GPSC_FUZZ needs clang (CC=clang)")
  endif()
  target_compile_options(gpsc_flags INTERFACE -fsanitize=fuzzer-no-link,address,undefined
    -fno-omit-frame-pointer)
  target_link_options(gpsc_flags INTERFACE -fsanitize=address,undefined)
endif()
