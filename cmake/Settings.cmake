# Compiler settings shared by every target: warnings, sanitizers, the git revision.
add_library(cdd_settings INTERFACE)
target_compile_options(cdd_settings INTERFACE -Wall -Wextra -Wpedantic -Wshadow)
if(CDD_WERROR)
  target_compile_options(cdd_settings INTERFACE -Werror)
endif()
if(CDD_SANITIZE)
  target_compile_options(cdd_settings INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                                -fno-sanitize-recover=undefined)
  target_link_options(cdd_settings INTERFACE -fsanitize=address,undefined)
endif()

execute_process(
  COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  OUTPUT_VARIABLE CDD_GIT_REVISION
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT CDD_GIT_REVISION)
  set(CDD_GIT_REVISION "unknown")
endif()
