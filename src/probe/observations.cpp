#include <coder_dns_doctor/probe/observations.hpp>

namespace coder_dns_doctor::probe {

std::string_view to_string(QueryMode mode) {
  switch (mode) {
  case QueryMode::absolute: return "absolute";
  case QueryMode::search: return "search";
  case QueryMode::hosts: return "hosts";
  }
  return "absolute";
}

std::string_view to_string(Via via) {
  switch (via) {
  case Via::dns: return "dns";
  case Via::pinned: return "pinned";
  case Via::internal: return "internal";
  }
  return "dns";
}

std::string_view to_string(Endpoint endpoint) {
  return endpoint == Endpoint::healthz ? "/healthz" : "/api/v2/buildinfo";
}

} // namespace coder_dns_doctor::probe
