#include <coder_dns_doctor/dns/resolv_conf.hpp>
#include <coder_dns_doctor/util/bounded_read.hpp>

#include <coder_dns_doctor/util/strings.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace coder_dns_doctor::dns {
namespace {

constexpr std::size_t k_max_nameservers = 3; // glibc MAXNS
constexpr int k_max_ndots = 15;              // glibc RES_MAXNDOTS

std::string strip_dot(std::string name) {
  while (!name.empty() && name.back() == '.')
    name.pop_back();
  return util::to_lower(name);
}

// Where a line is, for messages: "/etc/resolv.conf:3".
struct LineAt {
  std::string_view origin;
  std::size_t number = 0;
};

std::expected<void, std::string> read_nameserver(const std::vector<std::string>& words, LineAt at, ResolvConf& conf) {
  if (words.size() < 2)
    return std::unexpected(fmt::format("{}:{}: 'nameserver' needs an IP address", at.origin, at.number));
  auto address = util::parse_ip(words[1]);
  if (!address)
    return std::unexpected(
        fmt::format("{}:{}: '{}' is not an IP address (expected 'nameserver IP')", at.origin, at.number, words[1]));
  if (conf.nameservers.size() < k_max_nameservers)
    conf.nameservers.push_back(util::Endpoint{*address, 53});
  return {};
}

// `options`: only ndots changes which names are asked; timeout, attempts, rotate, edns0... do not.
std::expected<void, std::string> read_options(const std::vector<std::string>& words, LineAt at, ResolvConf& conf) {
  for (std::size_t i = 1; i < words.size(); ++i) {
    std::string_view option = words[i];
    if (!option.starts_with("ndots:"))
      continue;
    std::string_view value = option.substr(6);
    int ndots = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), ndots);
    if (error != std::errc{} || end != value.data() + value.size() || ndots < 0)
      return std::unexpected(
          fmt::format("{}:{}: '{}' is not a valid ndots option (expected ndots:N)", at.origin, at.number, option));
    conf.ndots = std::min(ndots, k_max_ndots);
  }
  return {};
}

// One line of the file into `conf`. Other keywords (sortlist, lookup, ...) do not change the names
// asked; they are ignored, as libc does.
std::expected<void, std::string> read_line(std::string_view line, LineAt at, ResolvConf& conf) {
  if (auto comment = line.find_first_of("#;"); comment != std::string_view::npos)
    line = line.substr(0, comment);
  auto words = util::split_whitespace(util::trim(line));
  if (words.empty())
    return {};
  const std::string& keyword = words.front();
  if (keyword == "nameserver")
    return read_nameserver(words, at, conf);
  if (keyword == "options")
    return read_options(words, at, conf);
  if (keyword == "search" || keyword == "domain") {
    conf.search.clear();
    for (std::size_t i = 1; i < words.size(); ++i)
      if (std::string suffix = strip_dot(words[i]); !suffix.empty())
        conf.search.push_back(std::move(suffix));
  }
  return {};
}

} // namespace

std::expected<ResolvConf, std::string> parse_resolv_conf(std::string_view text, std::string_view origin) {
  ResolvConf conf;
  std::size_t line_number = 0;
  for (const std::string& raw : util::split(text, '\n'))
    if (auto read = read_line(raw, {origin, ++line_number}, conf); !read)
      return std::unexpected(read.error());
  return conf;
}

std::expected<ResolvConf, std::string> read_resolv_conf(const std::string& path) {
  auto text = util::read_bounded(path, util::k_small_file_limit);
  if (!text)
    return std::unexpected(text.error().message);
  auto conf = parse_resolv_conf(*text, path);
  if (conf && conf->nameservers.empty())
    return std::unexpected(fmt::format("'{}' names no nameserver (expected at least one 'nameserver IP' line)", path));
  return conf;
}

std::vector<std::string> search_candidates(const ResolvConf& conf, std::string_view host) {
  if (!host.empty() && host.back() == '.')
    return {util::to_lower(host)};
  std::string name = util::to_lower(host);
  auto dots = static_cast<int>(std::count(name.begin(), name.end(), '.'));
  std::vector<std::string> candidates;
  if (dots >= conf.ndots)
    candidates.push_back(name + ".");
  for (const std::string& suffix : conf.search)
    candidates.push_back(name + "." + suffix + ".");
  if (dots < conf.ndots)
    candidates.push_back(name + ".");
  return candidates;
}

} // namespace coder_dns_doctor::dns
