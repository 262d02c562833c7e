#include <coder_dns_doctor/util/url.hpp>

#include <doctest/doctest.h>

using namespace coder_dns_doctor::util;

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
