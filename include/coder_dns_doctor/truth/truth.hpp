// Layer 3 (truth; uses util; see README "Layers").
// What each host should resolve to, and where that knowledge came from.
#pragma once

#include <coder_dns_doctor/util/address.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::truth {

// One source's claim about a host: `source` is `static`, `kubernetes:service/<ns>/<name>`,
// `kubernetes:ingress/<ns>/<name>`, ... as CONTRACTS.md lists.
struct TruthEntry {
  std::string host;                       // lower case, no trailing dot
  std::vector<util::IpAddress> addresses; // sorted, unique
  std::string source;
};

// Every claim known for this run. A host may have several entries (an ingress and a Service LB);
// its truth set is their union.
struct Truth {
  std::vector<TruthEntry> entries;
  std::vector<std::string> notes; // e.g. "--expect overrides kubernetes:... for host X"

  // Return the union of addresses claimed for `host`, sorted; empty when nothing is known.
  [[nodiscard]] std::vector<util::IpAddress> addresses_for(std::string_view host) const;
  [[nodiscard]] bool knows(std::string_view host) const;
};

// Merge `static_entries` (from --expect) over `discovered`: for a host present in both, the static
// claim replaces the discovered ones and a note records the override.
[[nodiscard]] Truth merge(Truth discovered, const std::vector<TruthEntry>& static_entries);

} // namespace coder_dns_doctor::truth
