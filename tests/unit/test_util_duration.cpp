#include <coder_dns_doctor/util/duration.hpp>

#include <doctest/doctest.h>

using namespace coder_dns_doctor::util;
using std::chrono::milliseconds;

TEST_SUITE("util::duration") {
  TEST_CASE("parses every unit users type") {
    CHECK(parse_duration("500ms").value() == milliseconds(500));
    CHECK(parse_duration("2s").value() == milliseconds(2000));
    CHECK(parse_duration("1.5s").value() == milliseconds(1500));
    CHECK(parse_duration("1m").value() == milliseconds(60'000));
    CHECK(parse_duration("1h").value() == milliseconds(3'600'000));
  }

  TEST_CASE("rejects what is not a positive duration, naming the input") {
    for (const char* bad : {"", "2", "s", "2x", "-1s", "0s", "1.2.3s", "2 s", "ms5", "9999h"}) {
      CAPTURE(bad);
      auto parsed = parse_duration(bad);
      REQUIRE_FALSE(parsed.has_value());
      CHECK(parsed.error().find(std::string("'") + bad + "'") != std::string::npos);
    }
  }

  TEST_CASE("formats back to what it parses") {
    for (const char* text : {"500ms", "2s", "1m", "1h", "1500ms"}) {
      CAPTURE(text);
      CHECK(format_duration(parse_duration(text).value()) == text);
    }
  }
}
