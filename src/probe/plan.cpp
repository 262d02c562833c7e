#include <coder_dns_doctor/probe/plan.hpp>

namespace coder_dns_doctor::probe {

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

} // namespace coder_dns_doctor::probe
