#include <coder_dns_doctor/util/address.hpp>
#include <coder_dns_doctor/util/url.hpp>

#include <doctest/doctest.h>

using namespace coder_dns_doctor::util;

TEST_SUITE("util::address") {
  TEST_CASE("canonicalises IP literals") {
    CHECK(parse_ip("127.0.0.1")->text == "127.0.0.1");
    CHECK(parse_ip("0:0:0:0:0:0:0:1")->text == "::1");
    CHECK(parse_ip("::1")->family == AddressFamily::ipv6);
    CHECK_FALSE(parse_ip("coder.example.test"));
    CHECK_FALSE(parse_ip("127.0.0.256"));
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

TEST_SUITE("util::url") {
  TEST_CASE("reads scheme, host, port and path") {
    auto url = parse_url("HTTPS://Coder.Example.Test.:18443/base/");
    REQUIRE(url);
    CHECK(url->scheme == "https");
    CHECK(url->host == "coder.example.test");
    CHECK(url->port == 18443);
    CHECK(url->path == "/base");
    CHECK(url->join("/healthz") == "https://coder.example.test:18443/base/healthz");
  }

  TEST_CASE("fills default ports and keeps them out of the text") {
    auto url = parse_url("http://coder.coder.svc.cluster.local");
    REQUIRE(url);
    CHECK(url->port == 80);
    CHECK(url->to_string() == "http://coder.coder.svc.cluster.local");
    CHECK(parse_url("https://[::1]:8443")->url_host() == "[::1]");
  }

  TEST_CASE("rejects what it cannot probe") {
    // The last ones came from fuzzing: an empty host, ':' outside brackets, empty labels.
    for (const char* bad : {"coder.example.test", "ftp://x", "https://", "https://h:0", "https://h:x",
                            "https://u:p@h", "https://h/?q=1", "https://h:", "https://./4", "https://a:b:443",
                            "https://1.34..:2443", "https://[coder.example.test]", "https://a b"}) {
      CAPTURE(bad);
      CHECK_FALSE(parse_url(bad));
    }
  }
}
