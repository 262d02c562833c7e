// Load-balancer hostnames (an AWS ELB, say) in Ingress and Service status stand for addresses:
// once the probe engine has looked them up, their answers become truth entries. Pure.
#pragma once

#include <coder_dns_doctor/k8s/discovery.hpp>
#include <coder_dns_doctor/probe/observations.hpp>
#include <coder_dns_doctor/truth/truth.hpp>

#include <string>
#include <vector>

namespace coder_dns_doctor::doctor {

struct ResolvedClaims {
  std::vector<truth::TruthEntry> entries;
  std::vector<std::string> notes;
};

// Return a truth entry per claim holding the union of the addresses `lookups` (probe::look_up_names
// of the claims' hostnames) found for its hostname, with a note saying which resolvers answered
// what. A hostname no resolver answered yields a note and no entry.
[[nodiscard]] ResolvedClaims truth_from_hostnames(const std::vector<k8s::HostnameClaim>& claims,
                                                  const std::vector<probe::DnsObservation>& lookups);

// The distinct hostnames of `claims`, sorted: what to look up.
[[nodiscard]] std::vector<std::string> hostnames_of(const std::vector<k8s::HostnameClaim>& claims);

} // namespace coder_dns_doctor::doctor
