// Layer 2 (dns): the vocabulary of one DNS lookup, produced here and used by the probe engine,
// analysis, report and metrics.
#pragma once

#include <string_view>

namespace coder_dns_doctor::dns {

enum class Family { a, aaaa };
enum class LookupStatus { ok, nxdomain, nodata, servfail, refused, timeout, error };

[[nodiscard]] std::string_view to_string(Family family); // "A" | "AAAA"
[[nodiscard]] std::string_view to_string(LookupStatus status);

} // namespace coder_dns_doctor::dns
