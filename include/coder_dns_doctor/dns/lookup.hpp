// Layer 2 (dns): the vocabulary of one DNS lookup, produced here and used by the probe engine,
// analysis, report and metrics.
#pragma once

#include <coder_dns_doctor/util/address.hpp>

#include <string_view>

namespace coder_dns_doctor::dns {

enum class Family { a, aaaa };
enum class LookupStatus { ok, nxdomain, nodata, servfail, refused, timeout, error };

[[nodiscard]] std::string_view to_string(Family family); // "A" | "AAAA"
// The record type that carries `address`.
[[nodiscard]] inline Family family_of(const util::IpAddress& address) {
  return address.is_v6() ? Family::aaaa : Family::a;
}
[[nodiscard]] std::string_view to_string(LookupStatus status);

} // namespace coder_dns_doctor::dns
