// util::strings: to_lower, trim, split, split_whitespace, join, with their edge cases (empty input,
// separators at the ends, bytes that are not ASCII).
#include <coder_dns_doctor/util/strings.hpp>

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

using namespace coder_dns_doctor::util;

namespace {

using Strings = std::vector<std::string>;

// "é" in UTF-8, "Ä" in UTF-8 and a Latin-1 "Ä": none is ASCII, so none may change case.
const std::string k_e_acute = "\xc3\xa9";
const std::string k_a_umlaut_upper = "\xc3\x84";
const std::string k_latin1_a_umlaut_upper = "\xc4";

} // namespace

TEST_SUITE("util::strings") {
  TEST_CASE("to_lower lowers ASCII letters only") {
    CHECK(to_lower("") == "");
    CHECK(to_lower("Coder.Example.TEST") == "coder.example.test");
    CHECK(to_lower("already lower 0-9_") == "already lower 0-9_");
    // Every byte that is not A-Z stays as it is; A-Z become a-z.
    std::string all;
    for (int c = 1; c < 256; ++c)
      all += static_cast<char>(c);
    std::string lowered = to_lower(all);
    REQUIRE(lowered.size() == all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(all[i]);
      char want = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : all[i];
      CAPTURE(static_cast<int>(c));
      CHECK(lowered[i] == want);
    }
  }

  TEST_CASE("to_lower keeps UTF-8 and Latin-1 bytes and embedded NULs") {
    CHECK(to_lower("CAF" + k_e_acute) == "caf" + k_e_acute);
    CHECK(to_lower(k_a_umlaut_upper + "X") == k_a_umlaut_upper + "x");
    CHECK(to_lower(k_latin1_a_umlaut_upper) == k_latin1_a_umlaut_upper);
    const std::string with_nul("A\0B", 3);
    CHECK(to_lower(with_nul) == std::string("a\0b", 3));
  }

  TEST_CASE("trim removes spaces, tabs, CR and LF at both ends only") {
    CHECK(trim("") == "");
    CHECK(trim(" \t\r\n") == "");
    CHECK(trim("x") == "x");
    CHECK(trim("  a b  ") == "a b");
    CHECK(trim("\t\r\na\tb\r\n") == "a\tb");
    CHECK(trim(" lead") == "lead");
    CHECK(trim("trail\n") == "trail");
    // Only those four: vertical tab, form feed and NUL are content.
    CHECK(trim("\va\f") == "\va\f");
    CHECK(trim(std::string_view("\0a\0", 3)) == std::string_view("\0a\0", 3));
    CHECK(trim(" " + k_e_acute + " ") == k_e_acute);
  }

  TEST_CASE("trim returns a view into its argument") {
    std::string text = "  coder  ";
    std::string_view trimmed = trim(text);
    CHECK(trimmed == "coder");
    CHECK(trimmed.data() == text.data() + 2);
  }

  TEST_CASE("split keeps empty pieces, also at the ends") {
    CHECK(split("", ',') == Strings{""});
    CHECK(split(",", ',') == Strings{"", ""});
    CHECK(split("a", ',') == Strings{"a"});
    CHECK(split("a,b,c", ',') == Strings{"a", "b", "c"});
    CHECK(split(",a,", ',') == Strings{"", "a", ""});
    CHECK(split("a,,b", ',') == Strings{"a", "", "b"});
    CHECK(split(",,", ',') == Strings{"", "", ""});
  }

  TEST_CASE("split cuts at its separator only and leaves spaces alone") {
    CHECK(split("127.0.0.1:53, 127.0.0.2", ',') == Strings{"127.0.0.1:53", " 127.0.0.2"});
    CHECK(split("a,b", ';') == Strings{"a,b"});
    CHECK(split("host=127.0.0.1=x", '=') == Strings{"host", "127.0.0.1", "x"});
    CHECK(split(std::string_view("a\0b", 3), '\0') == Strings{"a", "b"});
    // A separator byte inside a UTF-8 sequence is not a separator: 0xc3 is not ','.
    CHECK(split(k_e_acute + "," + k_e_acute, ',') == Strings{k_e_acute, k_e_acute});
    CHECK(split(k_e_acute, '\xa9') == Strings{"\xc3", ""});
  }

  TEST_CASE("split_whitespace cuts at runs of spaces and tabs and drops empty pieces") {
    CHECK(split_whitespace("").empty());
    CHECK(split_whitespace(" \t  \t").empty());
    CHECK(split_whitespace("one") == Strings{"one"});
    CHECK(split_whitespace("  nameserver\t\t127.0.0.10  ") == Strings{"nameserver", "127.0.0.10"});
    CHECK(split_whitespace("a b\tc") == Strings{"a", "b", "c"});
  }

  TEST_CASE("split_whitespace treats CR, LF, vertical tab and non-ASCII bytes as content") {
    CHECK(split_whitespace("a\r\nb") == Strings{"a\r\nb"});
    CHECK(split_whitespace("a \r") == Strings{"a", "\r"});
    CHECK(split_whitespace("a\vb") == Strings{"a\vb"});
    CHECK(split_whitespace(k_e_acute + " \xa0x") == Strings{k_e_acute, "\xa0x"});
  }

  TEST_CASE("join puts the separator between pieces only") {
    CHECK(join({}, ",") == "");
    CHECK(join({""}, ",") == "");
    CHECK(join({"a"}, ", ") == "a");
    CHECK(join({"a", "b", "c"}, ", ") == "a, b, c");
    CHECK(join({"", ""}, ",") == ",");
    CHECK(join({"a", "b"}, "") == "ab");
    CHECK(join({k_e_acute, k_e_acute}, "\xe2\x86\x92") == k_e_acute + "\xe2\x86\x92" + k_e_acute);
  }

  TEST_CASE("join undoes split for any separator placement") {
    for (const char* text : {"", ",", "a", "a,b", ",a,", "a,,b", ",,,"}) {
      CAPTURE(text);
      CHECK(join(split(text, ','), ",") == text);
    }
  }
}
