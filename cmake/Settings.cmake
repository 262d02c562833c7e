# Compiler settings shared by every target: warnings, sanitizers, the git revision.
add_library(cdd_settings INTERFACE)
# -Wno-missing-field-initializers: settings structs are filled with designated initialisers that
# leave defaulted members out on purpose (STYLE.md); g++ 12 would flag every such use.
target_compile_options(cdd_settings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wno-missing-field-initializers)
if(CDD_WERROR)
  target_compile_options(cdd_settings INTERFACE -Werror)
endif()
if(CDD_SANITIZE)
  target_compile_options(cdd_settings INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                                -fno-sanitize-recover=undefined)
  target_link_options(cdd_settings INTERFACE -fsanitize=address,undefined)
endif()

# -DCDD_GIT_REVISION=... wins (an image build has no .git); else ask git.
if(NOT CDD_GIT_REVISION)
execute_process(
  COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  OUTPUT_VARIABLE CDD_GIT_REVISION
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
if(NOT CDD_GIT_REVISION)
  set(CDD_GIT_REVISION "unknown")
endif()
