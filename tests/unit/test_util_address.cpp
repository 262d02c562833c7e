#include <coder_dns_doctor/util/address.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace coder_dns_doctor::util;

TEST_SUITE("util::address") {
  TEST_CASE("canonicalises IP literals") {
    CHECK(parse_ip("127.0.0.1")->text == "127.0.0.1");
    CHECK(parse_ip("0:0:0:0:0:0:0:1")->text == "::1");
    CHECK(parse_ip("::1")->family == AddressFamily::ipv6);
    CHECK_FALSE(parse_ip("coder.example.test"));
    CHECK_FALSE(parse_ip("127.0.0.256"));
    // inet_pton stops at a NUL; what follows it must not be ignored.
    CHECK_FALSE(parse_ip(std::string("::1\0junk", 9)));
    CHECK_FALSE(parse_ip(std::string("127.0.0.1\0", 10)));
    CHECK_FALSE(parse_endpoint(std::string("[::1\0x]:53", 11), 53));
  }

  TEST_CASE("parses server endpoints with and without ports") {
    CHECK(parse_endpoint("127.0.0.10", 53)->to_string() == "127.0.0.10:53");
    CHECK(parse_endpoint("127.0.0.10:5353", 53)->to_string() == "127.0.0.10:5353");
    CHECK(parse_endpoint("[::1]:5353", 53)->to_string() == "[::1]:5353");
    CHECK(parse_endpoint("::1", 53)->to_string() == "[::1]:53");
    CHECK_FALSE(parse_endpoint("127.0.0.10:", 53));
    CHECK_FALSE(parse_endpoint("127.0.0.10:0", 53));
    CHECK_FALSE(parse_endpoint("127.0.0.10:70000", 53));
    CHECK_FALSE(parse_endpoint("dns.example:53", 53));
    CHECK_FALSE(parse_endpoint("[::1", 53));
  }
}
