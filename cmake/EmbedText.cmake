# Write a C++ header holding the bytes of a text file as a constexpr std::array<char, N>, so the
# binary carries the file and never reads it at run time. Run as a script:
#   cmake -DINPUT=<file> -DOUTPUT=<header> -DNAME=<identifier> [-DLIMIT=<bytes>] -P EmbedText.cmake
# The header is rewritten only when its content changes. A file larger than LIMIT (default
# 262144) fails the build: the text is served from memory, so it must stay small.
if(NOT DEFINED LIMIT)
  set(LIMIT 262144)
endif()
file(SIZE "${INPUT}" size)
if(size GREATER LIMIT)
  message(FATAL_ERROR "${INPUT} is ${size} bytes, more than the ${LIMIT} this build embeds")
endif()
file(READ "${INPUT}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
string(REPEAT "'[^']+'," 16 row) # CMake's regular expressions have no {n}
string(REGEX REPLACE "(${row})" "\\1\n    " bytes "${bytes}")
get_filename_component(source "${INPUT}" NAME)
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${source} by cmake/EmbedText.cmake at build time: do not edit.\n"
  "#pragma once\n#include <array>\n\n"
  "static constexpr std::array<char, ${size}> ${NAME}{{\n    ${bytes}}};\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
