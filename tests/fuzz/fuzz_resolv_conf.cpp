// libFuzzer target: resolv.conf parsing and the search-list expansion must never crash, and what
// they return must keep the promises of resolv_conf.hpp (at most 3 servers, ndots 0..15, lower-case
// suffixes without a trailing dot, one absolute candidate per suffix plus the name itself).
#include <coder_dns_doctor/dns/resolv_conf.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace dns = coder_dns_doctor::dns;

namespace {

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "invariant broken: %s: '%.*s'\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

bool has_upper(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; });
}

} // namespace

// Input: HOST '\n' RESOLV.CONF TEXT (no newline: the whole input is the host, the file is empty).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto newline = input.find('\n');
  std::string_view host = input.substr(0, newline);
  std::string_view text = newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);

  auto conf = dns::parse_resolv_conf(text, "fuzz");
  if (!conf) {
    if (conf.error().empty())
      fail("an error without a message", text);
    return 0;
  }
  if (conf->nameservers.size() > 3)
    fail("more than 3 nameservers", text);
  if (conf->ndots < 0 || conf->ndots > 15)
    fail("ndots outside 0..15", text);
  for (const std::string& suffix : conf->search)
    if (suffix.empty() || suffix.back() == '.' || has_upper(suffix))
      fail("search suffix empty, upper-case or absolute", suffix);

  auto candidates = dns::search_candidates(*conf, host);
  for (const std::string& name : candidates)
    if (name.empty() || name.back() != '.' || has_upper(name))
      fail("candidate not absolute or not lower case", name);
  bool absolute = !host.empty() && host.back() == '.';
  if (absolute) {
    if (candidates.size() != 1)
      fail("an absolute host has more than one candidate", host);
  } else {
    if (candidates.size() != conf->search.size() + 1)
      fail("candidate count is not search size + 1", host);
    auto dots = std::count(host.begin(), host.end(), '.');
    const std::string& as_given = dots >= conf->ndots ? candidates.front() : candidates.back();
    if (as_given.size() != host.size() + 1)
      fail("the name as given is not first (dots >= ndots) or last", host);
  }
  return 0;
}
