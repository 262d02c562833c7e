// Every remediation sentence reads as a sentence whatever its inputs: no empty slot, no doubled
// blank, no dangling comma, for every code with empty inputs and with full ones.
#include <coder_dns_doctor/analysis/remedies.hpp>

#include <doctest/doctest.h>

#include <regex>

using namespace coder_dns_doctor;

namespace {

// Return what in `text` shows an empty interpolation, or "" when nothing does.
std::string empty_slot(const std::string& text) {
  static const std::regex k_patterns[] = {
      std::regex(R"(  )"),                                            // two blanks: a word went missing between them
      std::regex(R"( [,.;:)])"),                                      // a blank before punctuation
      std::regex(R"(\(\s*\))"),                                       // empty parentheses
      std::regex(R"(``|''|"")"),                                      // empty quotes
      std::regex(R"(,\s*,)"),                                         // an empty list item
      std::regex(R"(\b(for|of|to|at|behind|resolver\(s\))\s*[.,;])"), // a preposition with nothing after it
  };
  for (const auto& pattern : k_patterns) {
    std::smatch match;
    if (std::regex_search(text, match, pattern))
      return match.str();
  }
  if (text.empty())
    return "(empty sentence)";
  if (text.back() != '.' && text.back() != ')')
    return "(no final full stop)";
  return {};
}

} // namespace

TEST_SUITE("analysis::remediation") {
  TEST_CASE("every code renders with empty inputs and no empty slot") {
    for (const auto& info : analysis::code_table()) {
      for (bool flag : {false, true}) {
        analysis::Subject subject{.nxdomain = flag, .internal_works = flag};
        std::string text = analysis::remediation(info.code, subject);
        CAPTURE(info.name);
        CAPTURE(text);
        CHECK(empty_slot(text).empty());
      }
    }
  }

  TEST_CASE("every code renders with full inputs and names them") {
    analysis::Subject subject{.host = "coder.example.test",
                              .wrong = {"cluster", "upstream"},
                              .right = {"public"},
                              .url = "http://coder.coder.svc.cluster.local:80",
                              .name = "coder.example.test.coder.svc.cluster.local.",
                              .suffix = "coder.svc.cluster.local"};
    for (const auto& info : analysis::code_table()) {
      analysis::Subject each = subject;
      if (info.code == analysis::Code::kubernetes_unavailable) // its `wrong` holds whole steps
        each.wrong = {"Grant the missing rule.", "Make the API server reachable."};
      std::string text = analysis::remediation(info.code, each);
      CAPTURE(info.name);
      CAPTURE(text);
      CHECK(empty_slot(text).empty());
    }
    CHECK(analysis::remediation(analysis::Code::resolver_disagreement, subject) ==
          "Make resolver(s) cluster, upstream serve what public serve(s) for coder.example.test.");
    CHECK(analysis::remediation(analysis::Code::agent_url_external, subject).find(subject.url) != std::string::npos);
  }

  TEST_CASE("the checker itself catches empty slots") {
    CHECK_FALSE(empty_slot("Make resolver(s)  serve what x serves.").empty());
    CHECK_FALSE(empty_slot("Fix the record for .").empty());
    CHECK_FALSE(empty_slot("Remove ``.").empty());
    CHECK(empty_slot("Fix the record for coder.example.test.").empty());
  }

  TEST_CASE("names_or falls back on an empty list") {
    CHECK(analysis::names_or({}, "the resolvers named in the evidence") == "the resolvers named in the evidence");
    CHECK(analysis::names_or({"a", "b"}, "x") == "a, b");
  }
}
