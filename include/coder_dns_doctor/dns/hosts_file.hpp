// The hosts file and the lookup order of /etc/nsswitch.conf, as libc and Go's resolver read them:
// with `hosts: files dns` (the default) a name found in the hosts file is never asked of DNS.
#pragma once

#include <coder_dns_doctor/util/address.hpp>
#include <coder_dns_doctor/util/bounded_read.hpp>

#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::dns {

struct HostsEntry {
  util::IpAddress address;
  std::vector<std::string> names; // canonical name then aliases, lower case, no trailing dot
  int line = 0;                   // 1-based line number in the file
};

struct HostsFile {
  std::string path; // as given, for evidence ("/etc/hosts:3")
  std::vector<HostsEntry> entries;

  // Return the entries that name `host` (lower case, no trailing dot), in file order.
  [[nodiscard]] std::vector<const HostsEntry*> entries_for(std::string_view host) const;
};

// Parse hosts-file `text` as glibc does: `ADDRESS NAME [ALIAS...]`, `#` starts a comment, lines
// whose first field is not an IP literal are skipped (libc skips them too, so they never answer).
[[nodiscard]] HostsFile parse_hosts_file(std::string_view text, std::string path);
[[nodiscard]] std::expected<HostsFile, util::FileError> read_hosts_file(const std::string& path);

// Where the `hosts:` database of nsswitch.conf looks, in order; only the two sources that decide
// what a pod's agent dials are kept (`files`, `dns`); others (myhostname, mdns, resolve) are dropped.
enum class HostsSource { files, dns };

// Return the order of the `hosts:` line of nsswitch.conf `text`; files then dns when the text has no
// such line (glibc's and Go's default).
[[nodiscard]] std::vector<HostsSource> parse_nsswitch_hosts(std::string_view text);

// Return whether the hosts file is read before DNS in `order` (it then decides every name it holds).
[[nodiscard]] bool files_before_dns(const std::vector<HostsSource>& order);

} // namespace coder_dns_doctor::dns
