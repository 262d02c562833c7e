#include <coder_dns_doctor/k8s/facts.hpp>

namespace coder_dns_doctor::k8s {

std::string_view to_string(AgentTarget target) {
  switch (target) {
  case AgentTarget::external: return "external";
  case AgentTarget::internal: return "internal";
  case AgentTarget::other: return "other";
  case AgentTarget::unknown: return "unknown";
  }
  return "unknown";
}

} // namespace coder_dns_doctor::k8s
