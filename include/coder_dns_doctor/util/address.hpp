// IP address literals: validation, canonical text form, socket endpoints.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace coder_dns_doctor::util {

enum class AddressFamily { ipv4, ipv6 };

struct IpAddress {
  AddressFamily family = AddressFamily::ipv4;
  std::string text; // canonical form from inet_ntop, e.g. "127.0.0.1", "::1"
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// Parse `text` as an IPv4 or IPv6 literal (no brackets); nullopt when it is not one.
[[nodiscard]] std::optional<IpAddress> parse_ip(std::string_view text);

struct Endpoint {
  IpAddress address;
  std::uint16_t port = 53;
  // Return "ip:port", with brackets around IPv6 ("[::1]:53").
  [[nodiscard]] std::string to_string() const;
};

// Parse `IP`, `IP:PORT`, `[IPv6]` or `[IPv6]:PORT`; `default_port` when none is given.
[[nodiscard]] std::expected<Endpoint, std::string> parse_endpoint(std::string_view text,
                                                                  std::uint16_t default_port);

} // namespace coder_dns_doctor::util
