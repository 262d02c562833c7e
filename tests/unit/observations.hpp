// Probe observations built by hand for analysis and report tests.
#pragma once

#include <coder_dns_doctor/probe/observations.hpp>

#include "addresses.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::test {

// GET /healthz of `base` through `via` at `address`: 200 from coderd (its version header) when
// `ok`, else refused; `resolvers` are those whose answer held the address.
inline probe::HttpObservation healthz(const std::string& base, probe::Via via, std::string_view address, bool ok,
                                      std::vector<std::string> resolvers = {}) {
  probe::HttpObservation o;
  o.base_url = base;
  o.url = base + "/healthz";
  o.via = via;
  o.address = ip(address);
  o.resolvers = std::move(resolvers);
  o.ok = ok;
  o.status = ok ? http::Status::ok : http::Status::refused;
  if (ok) {
    o.status_code = 200;
    o.coderd_version = "v2.18.0";
  } else {
    o.error = "Connection refused";
  }
  return o;
}

} // namespace coder_dns_doctor::test
