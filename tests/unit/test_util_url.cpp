#include <coder_dns_doctor/util/url.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

using namespace coder_dns_doctor::util;

namespace {

bool same(const Url& a, const Url& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port && a.port_explicit == b.port_explicit &&
         a.path == b.path;
}

// The fuzz_probe_options invariant: what parse_url accepts prints back to text that parses to it.
void check_round_trip(std::string_view text) {
  auto url = parse_url(text);
  if (!url)
    return;
  auto again = parse_url(url->to_string());
  REQUIRE_MESSAGE(again, "'" << url->to_string() << "' does not parse: " << again.error());
  CHECK_MESSAGE(same(*url, *again), "'" << url->to_string() << "' parses to another URL");
}

} // namespace

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
    for (const char* bad : {"coder.example.test", "ftp://x", "https://", "https://h:0", "https://h:x", "https://u:p@h",
                            "https://h/?q=1", "https://h:", "https://./4", "https://a:b:443", "https://1.34..:2443",
                            "https://[coder.example.test]", "https://a b"}) {
      CAPTURE(bad);
      CHECK_FALSE(parse_url(bad));
    }
  }

  TEST_CASE("rejects NUL, control bytes, whitespace and non-ASCII bytes anywhere") {
    // The fuzz_probe_options crash (corpus seed regression-url-nul-in-brackets): inet_pton stopped at
    // the NUL, so "[::\0a..]" passed as an IPv6 literal; then one trailing dot was dropped per parse
    // and to_string() no longer gave the same URL back.
    const std::string crash("http://[::\0a..]", 15);
    auto url = parse_url(crash);
    REQUIRE_FALSE(url);
    CHECK(url.error().find("expected printable ASCII") != std::string::npos);
    CHECK(url.error().find("0x00 at offset 10") != std::string::npos);
    CHECK(url.error().find("[::\\x00a..]") != std::string::npos); // the message itself holds no NUL
    CHECK(url.error().find('\0') == std::string::npos);
    for (std::string_view odd : {std::string_view("\0", 1), std::string_view(" "), std::string_view("\t"),
                                 std::string_view("\n"), std::string_view("\r"), std::string_view("\x1b"),
                                 std::string_view("\x7f"), std::string_view("\x80"), std::string_view("\xff")}) {
      for (const char* where : {"https://[::1]:8443/a", "https://coder.example.test/base", "http://h:80"}) {
        std::string base(where);
        for (std::size_t at = 0; at <= base.size(); ++at) {
          std::string text = base.substr(0, at) + std::string(odd) + base.substr(at);
          CAPTURE(text);
          CHECK_FALSE(parse_url(text));
        }
      }
    }
  }

  TEST_CASE("takes only real IPv6 literals inside brackets") {
    CHECK(parse_url("http://[::1]"));
    CHECK(parse_url("http://[2001:DB8::1]:8080/x")->host == "2001:db8::1");
    CHECK(parse_url("http://[::ffff:10.0.0.1]"));
    for (const char* bad : {"http://[]", "http://[::1.]", "http://[::1..]", "http://[127.0.0.1]", "http://[::1%eth0]",
                            "http://[::g]", "http://[::1]x", "http://[:::]", "http://[::1]]"}) {
      CAPTURE(bad);
      auto url = parse_url(bad);
      CHECK_FALSE(url);
    }
    CHECK(parse_url("http://[::1.]").error().find("expected an IPv6 address inside '[...]'") != std::string::npos);
  }

  TEST_CASE("a parsed URL prints back to text that parses to the same URL") {
    for (const char* text : {"http://h", "HTTPS://Coder.Example.Test.:18443/base/", "https://[::1]:8443",
                             "http://[2001:DB8::1]/a//", "http://[::ffff:10.0.0.1]:80/", "https://coder.example.test//",
                             "http://a_b-c.d:65535/x/y", "http://h/%00", "http://[::1]/a.b."}) {
      CAPTURE(text);
      REQUIRE(parse_url(text));
      check_round_trip(text);
    }
  }

  TEST_CASE("every URL seed of fuzz_probe_options round-trips") {
    // Each seed is one selector byte, then the text (see tests/fuzz/fuzz_probe_options.cpp).
    std::filesystem::path corpus = std::filesystem::path(CDD_TEST_DATA_DIR) / "fuzz" / "corpus" / "fuzz_probe_options";
    int seeds = 0;
    for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (data.empty())
        continue;
      CAPTURE(entry.path().filename().string());
      check_round_trip(std::string_view(data).substr(1));
      ++seeds;
    }
    CHECK(seeds > 0);
  }
}

TEST_CASE("authority: the Host header names the port only when the URL does") {
  CHECK(coder_dns_doctor::util::parse_url("https://coder.example.test")->authority() == "coder.example.test");
  CHECK(coder_dns_doctor::util::parse_url("https://coder.example.test:18443/x")->authority() ==
        "coder.example.test:18443");
  CHECK(coder_dns_doctor::util::parse_url("http://[::1]:8080")->authority() == "[::1]:8080");
  CHECK(coder_dns_doctor::util::parse_url("http://[::1]")->authority() == "[::1]");
}
