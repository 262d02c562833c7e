// Tables fitted to a width: what gives way first, what never does, and how text is cut or wrapped.
#include <coder_dns_doctor/util/table.hpp>

#include "text_lines.hpp"

#include <doctest/doctest.h>

#include <sstream>

using namespace coder_dns_doctor;
using util::Column;
using util::Fit;

namespace {

using test::lines_of;

std::size_t widest(const std::string& text) {
  std::size_t most = 0;
  for (const auto& line : lines_of(text))
    most = std::max(most, util::display_width(line));
  return most;
}

util::Table sample() {
  util::Table table(std::vector<Column>{
      {"URL", Fit::cut_middle}, {"ADDRESS", Fit::keep}, {"RESULT", Fit::cut_end}, {"MS", Fit::keep, 1}});
  table.add({"https://coder.example.test:18443/api/v2/buildinfo", "127.0.50.100",
             "refused: Failed to connect to 127.0.50.100 port 18443 after 1 ms", "12.5"});
  table.add({"http://coder.coder.svc.cluster.local:18080/healthz", "2001:db8::1", "ok 200", "0.4"});
  return table;
}

} // namespace

TEST_CASE("display width counts code points, so an ellipsis is one column") {
  CHECK(util::display_width("abc") == 3);
  CHECK(util::display_width("a…b") == 3);
  CHECK(util::display_width("") == 0);
}

TEST_CASE("shorten: the end, or the middle keeping both ends; keep never shortens") {
  CHECK(util::shorten("refused: Failed to connect", 10, Fit::cut_end) == "refused: …");
  CHECK(util::shorten("https://coder.example.test:18443", 12, Fit::cut_middle) == "https:…18443");
  CHECK(util::display_width(util::shorten("https://coder.example.test:18443", 12, Fit::cut_middle)) == 12);
  CHECK(util::shorten("127.0.50.100", 4, Fit::keep) == "127.0.50.100");
  CHECK(util::shorten("short", 10, Fit::cut_end) == "short");
}

TEST_CASE("a table without a limit is as wide as its widest cells") {
  auto table = sample();
  std::string text = table.render("  ");
  CHECK(widest(text) == table.natural_width("  "));
  CHECK(text.find("refused: Failed to connect to 127.0.50.100 port 18443 after 1 ms") != std::string::npos);
}

TEST_CASE("fitted: droppable columns go first, then cut columns shrink; addresses stay whole") {
  auto table = sample();
  std::string text = table.render("  ", 80);
  CHECK(widest(text) <= 80);
  CHECK(text.find("MS") == std::string::npos); // dropped before anything was cut
  CHECK(text.find("127.0.50.100 ") != std::string::npos);
  CHECK(text.find("2001:db8::1") != std::string::npos);
  CHECK(text.find("…") != std::string::npos);
  CHECK(text.find("/buildinfo") != std::string::npos); // the middle cut keeps the URL's end
  // Wide enough: nothing dropped or cut.
  CHECK(table.render("  ", 200) == table.render("  "));
}

TEST_CASE("fitted: when only keep columns are left the line stays long rather than cut an address") {
  util::Table table(std::vector<Column>{{"ADDRESS", Fit::keep}, {"ANSWER", Fit::keep}});
  table.add({"2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1111"});
  std::string text = table.render("", 30);
  CHECK(text.find("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff") != std::string::npos);
  CHECK(text.find("…") == std::string::npos);
}

TEST_CASE("wrap: at spaces, with a hanging prefix; a word longer than a line is split; nothing lost") {
  std::string text = "DNS is the cause: the server is up at 127.0.50.101 but clients are sent to 127.0.50.100.";
  std::string wrapped = util::wrap(text, "fix: ", "     ", 30);
  auto lines = lines_of(wrapped);
  REQUIRE(lines.size() > 2);
  CHECK(lines[0].starts_with("fix: DNS"));
  for (const auto& line : lines) {
    CHECK(util::display_width(line) <= 30);
    CHECK(line.back() != ' ');
  }
  CHECK(lines[1].starts_with("     "));
  std::string joined;
  for (const auto& line : lines)
    joined += line.substr(5) + " ";
  CHECK(joined.find("127.0.50.101 but clients are sent to 127.0.50.100.") != std::string::npos);
  auto split = lines_of(util::wrap("x https://a-very-long-url.example.test/with/a/path", "", "", 20));
  for (const auto& line : split)
    CHECK(util::display_width(line) <= 20);
  CHECK(util::wrap("no limit here", "- ", "  ", 0) == "- no limit here\n");
}
