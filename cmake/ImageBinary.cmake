# coder-dns-doctor-image: the binary the container image ships. The same objects as
# coder-dns-doctor (main.cpp and the core library), linked against static archives so that only
# glibc is loaded at run time: Debian's own libcares.a, libssl.a, libcrypto.a, libyaml-cpp.a,
# libz.a and libstdc++, fmt compiled in (src/fmt_library.cpp), and a lean libcurl.a and
# libprometheus-cpp-core.a from scripts/build-image-deps.sh in CDD_IMAGE_DEPS. It stays a PIE (the
# executable keeps ASLR; README "Performance" gives what that costs in private memory). Why:
# README "Performance" (start-up, RSS, private memory against the shared build).
foreach(archive libcurl.a libprometheus-cpp-core.a)
  if(NOT EXISTS ${CDD_IMAGE_DEPS}/lib/${archive})
    message(FATAL_ERROR "CDD_IMAGE_DEPS=${CDD_IMAGE_DEPS} has no lib/${archive} (scripts/build-image-deps.sh makes it)")
  endif()
endforeach()
set(cdd_image_archives ${CDD_IMAGE_DEPS}/lib/libcurl.a ${CDD_IMAGE_DEPS}/lib/libprometheus-cpp-core.a)
foreach(name cares yaml-cpp ssl crypto z)
  find_library(cdd_static_${name} NAMES lib${name}.a REQUIRED)
  list(APPEND cdd_image_archives ${cdd_static_${name}})
endforeach()

add_executable(coder-dns-doctor-image ${PROJECT_SOURCE_DIR}/src/main.cpp ${PROJECT_SOURCE_DIR}/src/fmt_library.cpp)
add_dependencies(coder-dns-doctor-image cdd_core)
set_target_properties(coder-dns-doctor-image PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/src)
target_include_directories(coder-dns-doctor-image PRIVATE ${PROJECT_SOURCE_DIR}/include)
# The core archive as a file, not the target: the target would bring its shared dependencies.
target_link_libraries(coder-dns-doctor-image PRIVATE cdd_settings $<TARGET_FILE:cdd_core> ${cdd_image_archives} Threads::Threads)
target_link_options(coder-dns-doctor-image PRIVATE -static-libstdc++ -static-libgcc -Wl,-O1 -Wl,--gc-sections -Wl,--as-needed)
install(TARGETS coder-dns-doctor-image RUNTIME DESTINATION bin)
