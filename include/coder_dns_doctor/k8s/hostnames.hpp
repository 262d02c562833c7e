// Load-balancer hostnames (an AWS ELB, say) stand for addresses: resolve them into truth entries.
#pragma once

#include <coder_dns_doctor/k8s/discovery.hpp>
#include <coder_dns_doctor/probe/plan.hpp>

#include <atomic>
#include <chrono>
#include <vector>

namespace coder_dns_doctor::k8s {

struct ResolvedClaims {
  std::vector<truth::TruthEntry> entries;
  std::vector<std::string> notes;
};

// Resolve every claim's hostname through each of `resolvers` (absolute name, the plan's families)
// and return a truth entry per claim holding the union of the answers, with a note saying which
// resolvers answered what. A hostname no resolver answers yields a note and no entry.
[[nodiscard]] ResolvedClaims resolve_hostnames(const std::vector<HostnameClaim>& claims,
                                               const std::vector<probe::ResolverPlan>& resolvers,
                                               const std::vector<probe::Family>& families,
                                               std::chrono::milliseconds timeout,
                                               const std::atomic<bool>* cancel = nullptr);

} // namespace coder_dns_doctor::k8s
