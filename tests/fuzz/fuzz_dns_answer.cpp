// libFuzzer target: turning a DNS reply into an Answer (dns/answer.hpp) must never crash on any
// bytes, and the Answer must be coherent: an ok answer has sorted, unique, canonical addresses of
// the asked family and a TTL; every other status has no addresses.
#include <coder_dns_doctor/dns/answer.hpp>
#include <coder_dns_doctor/util/address.hpp>

#include <ares.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace dns = coder_dns_doctor::dns;
namespace util = coder_dns_doctor::util;

namespace {

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "invariant broken: %s: '%.*s'\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// Mostly ARES_SUCCESS (the reply is parsed); the others exercise the status mapping.
constexpr std::array k_statuses{ARES_SUCCESS,      ARES_SUCCESS,   ARES_SUCCESS,    ARES_SUCCESS,  ARES_SUCCESS,
                                ARES_ENODATA,      ARES_ENOTFOUND, ARES_ESERVFAIL,  ARES_EREFUSED, ARES_ETIMEOUT,
                                ARES_ECONNREFUSED, ARES_EBADRESP,  ARES_ECANCELLED, ARES_EFORMERR};

} // namespace

// Input: one control byte (bit 0: AAAA instead of A; bits 1..: the status), then the reply.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  auto family = (data[0] & 1) != 0 ? dns::Family::aaaa : dns::Family::a;
  int status = k_statuses[(data[0] >> 1) % k_statuses.size()];
  // A copy of exactly the reply's bytes, so the sanitizer sees any read past its end.
  std::basic_string<unsigned char> reply(data + 1, data + size);
  dns::Answer answer = dns::decode_answer(status, reply.data(), static_cast<int>(reply.size()), family);

  if (answer.status == dns::LookupStatus::ok) {
    if (status != ARES_SUCCESS)
      fail("ok from a failed status", answer.detail);
    if (answer.addresses.empty() || !answer.ttl)
      fail("ok without addresses or TTL", answer.detail);
    if (!std::is_sorted(answer.addresses.begin(), answer.addresses.end()) ||
        std::adjacent_find(answer.addresses.begin(), answer.addresses.end()) != answer.addresses.end())
      fail("addresses not sorted and unique", answer.addresses.front().text);
    auto want = family == dns::Family::a ? util::AddressFamily::ipv4 : util::AddressFamily::ipv6;
    for (const util::IpAddress& address : answer.addresses) {
      auto ip = util::parse_ip(address.text); // the text re-parses to the same typed address
      if (!ip || *ip != address || address.family != want)
        fail("an address that is not canonical text of the asked family", address.text);
    }
  } else if (!answer.addresses.empty()) {
    fail("addresses in a failed answer", answer.detail);
  }
  if (answer.status != dns::LookupStatus::ok && answer.ttl)
    fail("a TTL without an answer", answer.detail);
  return 0;
}
