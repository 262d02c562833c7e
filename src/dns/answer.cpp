#include <coder_dns_doctor/dns/answer.hpp>

#include <coder_dns_doctor/util/strings.hpp>

#include <ares.h>
#include <arpa/inet.h>
#include <fmt/core.h>
#include <netdb.h>

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace coder_dns_doctor::dns {

namespace {

// Enough for the largest answers a UDP+TCP lookup realistically returns (a 100-address fault test).
constexpr int k_max_records = 512;

// The typed address of a raw record; inet_ntop's text is canonical by definition.
util::IpAddress address_of(int family, const void* raw) {
  std::array<char, INET6_ADDRSTRLEN> buffer{};
  inet_ntop(family, raw, buffer.data(), buffer.size());
  return {family == AF_INET6 ? util::AddressFamily::ipv6 : util::AddressFamily::ipv4, buffer.data()};
}

// A DNS name at `at` inside `reply`, lower case without the trailing dot; advances `at` past it.
std::optional<std::string> read_name(const unsigned char* reply, int length, const unsigned char*& at) {
  if (at < reply || at >= reply + length)
    return std::nullopt;
  char* name = nullptr;
  long encoded = 0;
  if (ares_expand_name(at, reply, length, &name, &encoded) != ARES_SUCCESS)
    return std::nullopt;
  std::string text = util::to_lower(name);
  ares_free_string(name);
  at += encoded;
  return text;
}

// Return the CNAME chain from the question name through the answer section's CNAME records
// (question name first, then each target), empty when the question name has no CNAME; set `loop`
// when the chain comes back to one of its names. An unwalkable reply gives an empty chain (the
// address parser then says what is wrong with it). The chain is read from the records themselves:
// c-ares' hostent names only the first hop of a longer chain.
std::vector<std::string> cname_chain(const unsigned char* reply, int length, bool& loop) {
  loop = false;
  constexpr int k_header = 12;
  if (reply == nullptr || length < k_header)
    return {};
  auto u16 = [](const unsigned char* p) { return static_cast<unsigned>(p[0] << 8 | p[1]); };
  unsigned questions = u16(reply + 4);
  unsigned answers = u16(reply + 6);
  const unsigned char* end = reply + length;
  const unsigned char* at = reply + k_header;
  if (questions == 0)
    return {};
  auto qname = read_name(reply, length, at);
  if (!qname || end - at < 4)
    return {};
  at += 4;
  for (unsigned i = 1; i < questions; ++i) {
    if (!read_name(reply, length, at) || end - at < 4)
      return {};
    at += 4;
  }
  std::map<std::string, std::string> targets; // owner -> CNAME target (the first one wins)
  constexpr unsigned k_cname = 5;
  for (unsigned i = 0; i < answers; ++i) {
    auto owner = read_name(reply, length, at);
    if (!owner || end - at < 10)
      break;
    unsigned type = u16(at);
    unsigned data_length = u16(at + 8);
    at += 10;
    if (end - at < static_cast<long>(data_length))
      break;
    if (type == k_cname) {
      const unsigned char* data = at;
      if (auto target = read_name(reply, length, data))
        targets.emplace(*owner, *target);
    }
    at += data_length;
  }
  std::vector<std::string> chain{*qname};
  for (auto next = targets.find(*qname); next != targets.end(); next = targets.find(chain.back())) {
    if (std::find(chain.begin(), chain.end(), next->second) != chain.end()) {
      loop = true;
      break;
    }
    chain.push_back(next->second);
  }
  if (chain.size() == 1)
    chain.clear();
  return chain;
}

// Turn a successful reply into addresses, the minimum TTL and the CNAME chain.
Answer decode_reply(const unsigned char* reply, int length, Family family) {
  Answer answer;
  hostent* host = nullptr;
  int count = k_max_records;
  int rc = 0;
  std::vector<std::uint32_t> ttls;
  // The record buffers are left unfilled (c-ares writes the first `count`): zeroing 4-10 kB per
  // answer was a third of the decoding's instructions (callgrind).
  if (family == Family::a) {
    std::array<ares_addrttl, k_max_records> records; // NOLINT(cppcoreguidelines-pro-type-member-init)
    rc = ares_parse_a_reply(reply, length, &host, records.data(), &count);
    if (rc == ARES_SUCCESS)
      for (int i = 0; i < count; ++i) {
        answer.addresses.push_back(address_of(AF_INET, &records[i].ipaddr));
        ttls.push_back(static_cast<std::uint32_t>(std::max(0, records[i].ttl)));
      }
  } else {
    std::array<ares_addr6ttl, k_max_records> records; // NOLINT(cppcoreguidelines-pro-type-member-init)
    rc = ares_parse_aaaa_reply(reply, length, &host, records.data(), &count);
    if (rc == ARES_SUCCESS)
      for (int i = 0; i < count; ++i) {
        answer.addresses.push_back(address_of(AF_INET6, &records[i].ip6addr));
        ttls.push_back(static_cast<std::uint32_t>(std::max(0, records[i].ttl)));
      }
  }
  if (host != nullptr)
    ares_free_hostent(host); // its h_name/h_aliases do not describe chains longer than one CNAME
  bool cname_loop = false;
  answer.cname_chain = cname_chain(reply, length, cname_loop);
  if (cname_loop) {
    answer.status = LookupStatus::error;
    answer.detail = "CNAME loop through " + util::join(answer.cname_chain, ", ");
    answer.addresses.clear();
    return answer;
  }
  if (rc == ARES_ENODATA || (rc == ARES_SUCCESS && answer.addresses.empty())) {
    answer.status = LookupStatus::nodata;
    answer.addresses.clear();
    return answer;
  }
  if (rc != ARES_SUCCESS) {
    answer.status = LookupStatus::error;
    answer.detail = fmt::format("unreadable answer: {}", ares_strerror(rc));
    return answer;
  }
  util::sort_unique(answer.addresses);
  answer.ttl = *std::min_element(ttls.begin(), ttls.end());
  answer.status = LookupStatus::ok;
  return answer;
}

} // namespace

Answer decode_answer(int status, const unsigned char* reply, int length, Family family) {
  if (status == ARES_SUCCESS)
    return decode_reply(reply, length, family);
  Answer answer;
  // Timeouts and unreachable servers are the only failures in which no server said anything.
  answer.responded = status != ARES_ETIMEOUT && status != ARES_ECONNREFUSED && status != ARES_ECANCELLED;
  answer.detail = ares_strerror(status);
  switch (status) {
  case ARES_ENOTFOUND: answer.status = LookupStatus::nxdomain; break;
  case ARES_ENODATA: answer.status = LookupStatus::nodata; break;
  case ARES_ESERVFAIL: answer.status = LookupStatus::servfail; break;
  case ARES_EREFUSED: answer.status = LookupStatus::refused; break;
  case ARES_ETIMEOUT: answer.status = LookupStatus::timeout; break;
  case ARES_ECONNREFUSED:
    answer.status = LookupStatus::error;
    answer.detail = "no DNS server reachable (connection refused or unreachable)";
    break;
  default: answer.status = LookupStatus::error; break;
  }
  return answer;
}

} // namespace coder_dns_doctor::dns
