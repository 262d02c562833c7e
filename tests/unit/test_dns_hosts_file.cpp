// The hosts file and nsswitch's hosts order, as glibc reads them.
#include <coder_dns_doctor/dns/hosts_file.hpp>

#include <doctest/doctest.h>

using namespace coder_dns_doctor;

TEST_SUITE("dns::hosts_file") {
  TEST_CASE("entries: address, canonical name and aliases; comments and junk skipped") {
    auto file = dns::parse_hosts_file("127.0.0.1\tlocalhost\n"
                                      "# Entries added by HostAliases.\n"
                                      "127.0.50.100  Coder.Example.Test. alias  # trailing comment\n"
                                      "not-an-ip coder.example.test\n"
                                      "::1 ip6-localhost coder.example.test\n"
                                      "127.0.0.9\n"
                                      "\r\n",
                                      "/etc/hosts");
    auto found = file.entries_for("coder.example.test");
    REQUIRE(found.size() == 2);
    CHECK(found[0]->address.text == "127.0.50.100");
    CHECK(found[0]->line == 3);
    CHECK(found[1]->address.family == util::AddressFamily::ipv6);
    CHECK(found[1]->line == 5);
    CHECK(file.entries_for("alias").size() == 1);
    CHECK(file.entries_for("not-an-ip").empty());
    CHECK(file.path == "/etc/hosts");
  }

  TEST_CASE("nsswitch hosts order") {
    using dns::HostsSource;
    CHECK(dns::files_before_dns(dns::parse_nsswitch_hosts("hosts: files dns\n")));
    CHECK(dns::files_before_dns(
        dns::parse_nsswitch_hosts("hosts:   files mdns4_minimal [NOTFOUND=return] dns myhostname")));
    CHECK_FALSE(dns::files_before_dns(dns::parse_nsswitch_hosts("hosts: dns files")));
    CHECK_FALSE(dns::files_before_dns(dns::parse_nsswitch_hosts("hosts: dns")));
    CHECK(dns::files_before_dns(dns::parse_nsswitch_hosts("passwd: files\n# hosts: dns\n"))); // no line: default
    CHECK(dns::files_before_dns(dns::parse_nsswitch_hosts("hosts: files")));
  }

  TEST_CASE("read_hosts_file refuses what is not a regular file") {
    auto device = dns::read_hosts_file("/dev/zero");
    REQUIRE_FALSE(device);
    CHECK(device.error().problem == util::FileProblem::not_regular);
    auto missing = dns::read_hosts_file("/nonexistent/hosts");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().problem == util::FileProblem::missing);
  }
}
