// The parts of an http(s) URL that probes need.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace coder_dns_doctor::util {

struct Url {
  std::string scheme; // "http" | "https"
  std::string host;   // lower case, no trailing dot, no brackets
  std::uint16_t port = 0;
  bool port_explicit = false;
  std::string path; // without trailing slash; "" for the root

  // Return scheme://host[:port]path as given (no trailing slash).
  [[nodiscard]] std::string to_string() const;
  // Return the URL of `path` (starting with '/') under this URL's path.
  [[nodiscard]] std::string join(std::string_view sub_path) const;
  // Return the host as it appears inside a URL (brackets for IPv6 literals).
  [[nodiscard]] std::string url_host() const;
  // Return the Host header for this URL: url_host(), with the port when the URL names one.
  [[nodiscard]] std::string authority() const;
};

// Parse an absolute http or https URL: printable ASCII only (no NUL, control byte, space or byte
// >= 0x80 anywhere), a host name or an IPv6 literal in brackets, an optional port and path, no
// credentials, query or fragment. What it accepts round-trips: parse_url(url.to_string()) gives
// `url` back. The error names what was expected.
[[nodiscard]] std::expected<Url, std::string> parse_url(std::string_view text);

} // namespace coder_dns_doctor::util
