// Process-wide initialisation of c-ares and libcurl, created once, first, before any handle.
#pragma once

#include <string>

namespace coder_dns_doctor::probe {

class Libraries {
public:
  Libraries();
  ~Libraries();
  Libraries(const Libraries&) = delete;
  Libraries& operator=(const Libraries&) = delete;
};

// Return "c-ares 1.18.1, libcurl 7.88.1 (OpenSSL/3.0.x)".
[[nodiscard]] std::string library_versions();

} // namespace coder_dns_doctor::probe
