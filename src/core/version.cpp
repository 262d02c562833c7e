#include <coder_dns_doctor/core/version.hpp>

namespace coder_dns_doctor::core {

std::string_view version() {
  return CDD_VERSION;
}
std::string_view revision() {
  return CDD_GIT_REVISION;
}

} // namespace coder_dns_doctor::core
