#include <coder_dns_doctor/doctor/load_balancers.hpp>

#include <coder_dns_doctor/util/strings.hpp>

#include <fmt/format.h>

#include <map>
#include <set>

namespace coder_dns_doctor::doctor {

std::vector<std::string> hostnames_of(const std::vector<k8s::HostnameClaim>& claims) {
  std::set<std::string> unique;
  for (const auto& claim : claims)
    unique.insert(claim.hostname);
  return {unique.begin(), unique.end()};
}

ResolvedClaims truth_from_hostnames(const std::vector<k8s::HostnameClaim>& claims,
                                    const std::vector<probe::DnsObservation>& lookups) {
  // hostname -> addresses, and who said so
  std::map<std::string, std::set<util::IpAddress>> addresses;
  std::map<std::string, std::set<std::string>> answered_by;
  for (const auto& lookup : lookups) {
    if (lookup.status != probe::LookupStatus::ok || lookup.addresses.empty())
      continue;
    addresses[lookup.host].insert(lookup.addresses.begin(), lookup.addresses.end());
    answered_by[lookup.host].insert(lookup.resolver);
  }
  ResolvedClaims out;
  for (const auto& claim : claims) {
    const auto& found = addresses[claim.hostname];
    if (found.empty()) {
      out.notes.push_back(fmt::format("{}: load-balancer hostname {} did not resolve through any resolver; no truth "
                                      "from it for {}",
                                      claim.source, claim.hostname, claim.host));
      continue;
    }
    std::vector<util::IpAddress> list(found.begin(), found.end());
    out.entries.push_back({claim.host, list, claim.source});
    const auto& who = answered_by[claim.hostname];
    out.notes.push_back(fmt::format("{}: load-balancer hostname {} resolved to {} (via {})", claim.source,
                                    claim.hostname, fmt::join(list, ", "), util::join({who.begin(), who.end()}, ", ")));
  }
  return out;
}

} // namespace coder_dns_doctor::doctor
