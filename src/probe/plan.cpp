#include <coder_dns_doctor/probe/plan.hpp>

#include <fmt/core.h>

#include <algorithm>

namespace coder_dns_doctor::probe {

std::string_view to_string(ResolverScope scope) {
  return scope == ResolverScope::cluster ? "cluster" : "external";
}

const UrlPlan* Plan::url_for(HostRole role) const {
  for (const auto& url : urls)
    if (url.role == role)
      return &url;
  return nullptr;
}

HostRole Plan::role_of(std::string_view host) const {
  for (const auto& entry : hosts)
    if (entry.host == host)
      return entry.role;
  return HostRole::extra;
}

const ResolverPlan* Plan::resolver(std::string_view label) const {
  for (const auto& entry : resolvers)
    if (entry.label == label)
      return &entry;
  return nullptr;
}

bool Plan::is_cluster_only(std::string_view host) const {
  return is_cluster_only(HostPlan{.host = std::string(host), .role = role_of(host)});
}

bool Plan::is_cluster_only(const HostPlan& entry) const {
  if (entry.role == HostRole::internal)
    return true;
  std::string_view host = entry.host;
  if (cluster_domain.empty())
    return false;
  return host == cluster_domain || (host.size() > cluster_domain.size() && host.ends_with(cluster_domain) &&
                                    host[host.size() - cluster_domain.size() - 1] == '.');
}

bool Plan::has_cluster_resolver() const {
  return std::any_of(resolvers.begin(), resolvers.end(), [](const ResolverPlan& r) { return r.cluster_scoped(); });
}

bool Plan::outside_scope(std::string_view label, std::string_view host) const {
  const ResolverPlan* asked = resolver(label);
  return asked != nullptr && !asked->cluster_scoped() && is_cluster_only(host);
}

void scope_by_servers(Plan& plan, const std::vector<util::Endpoint>& known, std::string_view what) {
  for (auto& resolver : plan.resolvers) {
    if (resolver.scope_declared || resolver.cluster_scoped())
      continue;
    for (const auto& server : resolver.servers) {
      bool listed = std::any_of(known.begin(), known.end(), [&](const util::Endpoint& k) {
        return k.address == server.address && k.port == server.port;
      });
      if (listed) {
        resolver.scope = ResolverScope::cluster;
        resolver.scope_reason = fmt::format("{} is {}", server.to_string(), what);
        break;
      }
    }
  }
}

} // namespace coder_dns_doctor::probe
