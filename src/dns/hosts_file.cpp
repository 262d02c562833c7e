// The hosts file and nsswitch.conf's hosts order (see hosts_file.hpp).
#include <coder_dns_doctor/dns/hosts_file.hpp>

#include <coder_dns_doctor/util/strings.hpp>

#include <algorithm>

namespace coder_dns_doctor::dns {
namespace {

// Split `line` at blanks (spaces and tabs), dropping empty fields.
std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t at = 0;
  while (at < line.size()) {
    at = line.find_first_not_of(" \t\r", at);
    if (at == std::string_view::npos)
      break;
    std::size_t end = line.find_first_of(" \t\r", at);
    if (end == std::string_view::npos)
      end = line.size();
    fields.push_back(line.substr(at, end - at));
    at = end;
  }
  return fields;
}

std::string_view without_comment(std::string_view line) {
  auto hash = line.find('#');
  return hash == std::string_view::npos ? line : line.substr(0, hash);
}

} // namespace

std::vector<const HostsEntry*> HostsFile::entries_for(std::string_view host) const {
  std::vector<const HostsEntry*> found;
  for (const auto& entry : entries)
    if (std::find(entry.names.begin(), entry.names.end(), host) != entry.names.end())
      found.push_back(&entry);
  return found;
}

HostsFile parse_hosts_file(std::string_view text, std::string path) {
  HostsFile file{.path = std::move(path), .entries = {}};
  int number = 0;
  for (const std::string& line : util::split(text, '\n')) {
    ++number;
    auto fields = fields_of(without_comment(line));
    if (fields.size() < 2)
      continue;
    // glibc accepts a zone-less IPv6 literal or dotted IPv4; anything else is no entry.
    auto address = util::parse_ip(fields.front());
    if (!address)
      continue;
    HostsEntry entry{.address = *address, .names = {}, .line = number};
    for (std::size_t i = 1; i < fields.size(); ++i) {
      std::string name = util::to_lower(fields[i]);
      while (!name.empty() && name.back() == '.')
        name.pop_back();
      if (!name.empty())
        entry.names.push_back(std::move(name));
    }
    if (!entry.names.empty())
      file.entries.push_back(std::move(entry));
  }
  return file;
}

std::expected<HostsFile, util::FileError> read_hosts_file(const std::string& path) {
  auto text = util::read_bounded(path, util::k_small_file_limit);
  if (!text)
    return std::unexpected(text.error());
  return parse_hosts_file(*text, path);
}

std::vector<HostsSource> parse_nsswitch_hosts(std::string_view text) {
  for (const std::string& line : util::split(text, '\n')) {
    auto fields = fields_of(without_comment(line));
    if (fields.empty() || fields.front() != "hosts:")
      continue;
    std::vector<HostsSource> order;
    for (std::size_t i = 1; i < fields.size(); ++i) {
      if (fields[i] == "files")
        order.push_back(HostsSource::files);
      else if (fields[i] == "dns")
        order.push_back(HostsSource::dns);
      // [NOTFOUND=return] and other sources do not change which of the two comes first
    }
    return order;
  }
  return {HostsSource::files, HostsSource::dns};
}

bool files_before_dns(const std::vector<HostsSource>& order) {
  auto files = std::find(order.begin(), order.end(), HostsSource::files);
  auto dns = std::find(order.begin(), order.end(), HostsSource::dns);
  return files != order.end() && files < dns;
}

} // namespace coder_dns_doctor::dns
