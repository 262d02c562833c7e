// Process-wide initialisation of c-ares and libcurl, created once, first, before any handle.
#pragma once

#include <expected>
#include <memory>
#include <string>

namespace coder_dns_doctor::probe {

class Libraries {
public:
  // Initialise both libraries; the error names the one that failed. Cleaned up when destroyed.
  [[nodiscard]] static std::expected<std::unique_ptr<Libraries>, std::string> start();
  ~Libraries();
  Libraries(const Libraries&) = delete;
  Libraries& operator=(const Libraries&) = delete;

private:
  Libraries() = default;
  bool m_ares = false;
  bool m_curl = false;
};

// Return "c-ares 1.18.1, libcurl 7.88.1 (OpenSSL/3.0.x)".
[[nodiscard]] std::string library_versions();

} // namespace coder_dns_doctor::probe
