// resolv.conf as a libc stub resolver reads it, and the query names it derives from a host.
#pragma once

#include <coder_dns_doctor/util/address.hpp>

#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::dns {

struct ResolvConf {
  std::vector<util::Endpoint> nameservers; // at most 3, as glibc uses (MAXNS)
  std::vector<std::string> search;         // lower case, no trailing dot
  int ndots = 1;
};

// Parse resolv.conf `text` (`nameserver`, `search`, `domain`, `options ndots:N`; the last
// `search`/`domain` line wins, as in glibc). `origin` names the input in error messages.
[[nodiscard]] std::expected<ResolvConf, std::string> parse_resolv_conf(std::string_view text, std::string_view origin);
[[nodiscard]] std::expected<ResolvConf, std::string> read_resolv_conf(const std::string& path);

// Return the absolute query names (with trailing dot) a glibc stub tries for `host`, in order:
// with fewer than `ndots` dots the search suffixes come first, else the name as given first.
// A `host` ending in '.' yields only itself.
[[nodiscard]] std::vector<std::string> search_candidates(const ResolvConf& conf, std::string_view host);

} // namespace coder_dns_doctor::dns
