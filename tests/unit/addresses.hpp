// Typed IP addresses from the literals of test data (loopback and documentation addresses).
#pragma once

#include <coder_dns_doctor/util/address.hpp>

#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::test {

// The address `text` stands for; fails the test when it is not an IP literal.
inline util::IpAddress ip(std::string_view text) {
  auto address = util::parse_ip(text);
  REQUIRE_MESSAGE(address.has_value(), "test data: not an IP literal: ", std::string(text));
  return *address;
}

// The addresses `texts` stand for, in the order given (not sorted: tests may want any order).
inline std::vector<util::IpAddress> ips(std::initializer_list<std::string_view> texts) {
  std::vector<util::IpAddress> out;
  for (std::string_view text : texts)
    out.push_back(ip(text));
  return out;
}

inline std::vector<util::IpAddress> ips(const std::vector<std::string>& texts) {
  std::vector<util::IpAddress> out;
  for (const auto& text : texts)
    out.push_back(ip(text));
  return out;
}

} // namespace coder_dns_doctor::test
