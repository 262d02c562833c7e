// IP address literals: validation, canonical text form, socket endpoints.
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::util {

enum class AddressFamily { ipv4, ipv6 };

// An IP address, typed: made only by parse_ip() (or from a socket address through it), so its text
// is canonical and its family never has to be guessed from the characters.
struct IpAddress {
  AddressFamily family = AddressFamily::ipv4;
  std::string text; // canonical form from inet_ntop, e.g. "127.0.0.1", "::1"

  [[nodiscard]] bool is_v6() const { return family == AddressFamily::ipv6; }
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  // Ordered by canonical text, the order reports and metrics have always listed addresses in.
  friend auto operator<=>(const IpAddress& a, const IpAddress& b) { return a.text <=> b.text; }
};

// Parse `text` as an IPv4 or IPv6 literal (no brackets); nullopt when it is not one.
[[nodiscard]] std::optional<IpAddress> parse_ip(std::string_view text);

// The canonical texts of `addresses`, in order (for JSON, metrics labels and messages).
[[nodiscard]] std::vector<std::string> texts(const std::vector<IpAddress>& addresses);

// The addresses of the IP literals among `texts`, sorted and unique (other strings are skipped:
// for lists whose entries were validated when they were read).
[[nodiscard]] std::vector<IpAddress> parse_ips(const std::vector<std::string>& texts);

// Sort `addresses` and drop duplicates.
void sort_unique(std::vector<IpAddress>& addresses);

struct Endpoint {
  IpAddress address;
  std::uint16_t port = 53;
  // Return "ip:port", with brackets around IPv6 ("[::1]:53").
  [[nodiscard]] std::string to_string() const;
};

// Parse `IP`, `IP:PORT`, `[IPv6]` or `[IPv6]:PORT`; `default_port` when none is given.
[[nodiscard]] std::expected<Endpoint, std::string> parse_endpoint(std::string_view text, std::uint16_t default_port);

} // namespace coder_dns_doctor::util

// fmt prints an address as its canonical text.
template <> struct fmt::formatter<coder_dns_doctor::util::IpAddress> : fmt::formatter<std::string_view> {
  template <typename Context> auto format(const coder_dns_doctor::util::IpAddress& address, Context& context) const {
    return fmt::formatter<std::string_view>::format(address.text, context);
  }
};
