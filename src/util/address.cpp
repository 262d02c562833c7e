#include <coder_dns_doctor/util/address.hpp>

#include <arpa/inet.h>
#include <fmt/core.h>

#include <algorithm>
#include <charconv>

namespace coder_dns_doctor::util {

std::optional<IpAddress> parse_ip(std::string_view text) {
  // inet_pton reads a C string: a NUL inside `text` would hide what follows it ("::1\0junk").
  if (text.find('\0') != std::string_view::npos)
    return std::nullopt;
  std::string copy(text);
  char buffer[INET6_ADDRSTRLEN] = {};
  in_addr v4{};
  if (inet_pton(AF_INET, copy.c_str(), &v4) == 1) {
    inet_ntop(AF_INET, &v4, buffer, sizeof buffer);
    return IpAddress{AddressFamily::ipv4, buffer};
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, copy.c_str(), &v6) == 1) {
    inet_ntop(AF_INET6, &v6, buffer, sizeof buffer);
    return IpAddress{AddressFamily::ipv6, buffer};
  }
  return std::nullopt;
}

std::vector<std::string> texts(const std::vector<IpAddress>& addresses) {
  std::vector<std::string> out;
  out.reserve(addresses.size());
  for (const auto& address : addresses)
    out.push_back(address.text);
  return out;
}

std::vector<IpAddress> parse_ips(const std::vector<std::string>& texts) {
  std::vector<IpAddress> out;
  for (const auto& text : texts)
    if (auto address = parse_ip(text))
      out.push_back(std::move(*address));
  sort_unique(out);
  return out;
}

void sort_unique(std::vector<IpAddress>& addresses) {
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
}

std::string Endpoint::to_string() const {
  if (address.family == AddressFamily::ipv6)
    return fmt::format("[{}]:{}", address.text, port);
  return fmt::format("{}:{}", address.text, port);
}

std::expected<Endpoint, std::string> parse_endpoint(std::string_view text, std::uint16_t default_port) {
  auto fail = [&] {
    return std::unexpected(fmt::format("'{}' is not a server address (expected IP, IP:PORT or [IPv6]:PORT)", text));
  };
  std::string_view host = text;
  std::string_view port_text;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos)
      return fail();
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return fail();
      port_text = rest.substr(1);
      has_port = true;
    }
  } else if (text.find(':') != text.rfind(':')) {
    host = text; // bare IPv6 literal: no port possible
  } else if (auto colon = text.find(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    has_port = true;
  }
  auto address = parse_ip(host);
  if (!address)
    return fail();
  Endpoint endpoint{*address, default_port};
  if (has_port) {
    unsigned port = 0;
    auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
      return std::unexpected(fmt::format("'{}' has a bad port (expected 1-65535)", text));
    endpoint.port = static_cast<std::uint16_t>(port);
  }
  return endpoint;
}

} // namespace coder_dns_doctor::util
