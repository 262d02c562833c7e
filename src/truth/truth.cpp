#include <coder_dns_doctor/truth/truth.hpp>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

namespace coder_dns_doctor::truth {

std::vector<util::IpAddress> Truth::addresses_for(std::string_view host) const {
  std::set<util::IpAddress> all;
  for (const auto& entry : entries)
    if (entry.host == host)
      all.insert(entry.addresses.begin(), entry.addresses.end());
  return {all.begin(), all.end()};
}

bool Truth::knows(std::string_view host) const {
  return std::any_of(entries.begin(), entries.end(), [&](const TruthEntry& entry) { return entry.host == host; });
}

Truth merge(Truth discovered, const std::vector<TruthEntry>& static_entries) {
  for (const auto& claim : static_entries) {
    // Notes first: std::remove_if leaves the removed entries moved-from, not intact at the end.
    for (const auto& entry : discovered.entries)
      if (entry.host == claim.host)
        discovered.notes.push_back(fmt::format("--expect for {} overrides {} ({})", claim.host, entry.source,
                                               fmt::join(entry.addresses, ",")));
    std::erase_if(discovered.entries, [&](const TruthEntry& entry) { return entry.host == claim.host; });
  }
  discovered.entries.insert(discovered.entries.end(), static_entries.begin(), static_entries.end());
  return discovered;
}

} // namespace coder_dns_doctor::truth
