#include <coder_dns_doctor/dns/lookup.hpp>

namespace coder_dns_doctor::dns {

std::string_view to_string(Family family) {
  return family == Family::a ? "A" : "AAAA";
}

std::string_view to_string(LookupStatus status) {
  switch (status) {
  case LookupStatus::ok: return "ok";
  case LookupStatus::nxdomain: return "nxdomain";
  case LookupStatus::nodata: return "nodata";
  case LookupStatus::servfail: return "servfail";
  case LookupStatus::refused: return "refused";
  case LookupStatus::timeout: return "timeout";
  case LookupStatus::error: return "error";
  }
  return "error";
}

} // namespace coder_dns_doctor::dns
