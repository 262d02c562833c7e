// The runbook served at /runbook: docs/runbook.md as built in, rendered with every byte escaped,
// with a heading id for each anchor that the alert rules' runbook_url and the status page's
// finding links point at.
#include <coder_dns_doctor/report/runbook.hpp>

#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

using namespace coder_dns_doctor;

namespace {

std::string read(const std::string& relative) {
  std::ifstream in(std::string(CDD_TEST_DATA_DIR) + "/../" + relative, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read ", relative);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_SUITE("report::heading_anchor") {
  TEST_CASE("GitHub's rule: lower case, spaces to '-', punctuation dropped") {
    CHECK(report::heading_anchor("CoderDNSMismatch") == "coderdnsmismatch");
    CHECK(report::heading_anchor("What to do: step 1.") == "what-to-do-step-1");
    CHECK(report::heading_anchor("  a_b-c  ") == "a_b-c");
    CHECK(report::heading_anchor("<script>x</script>") == "scriptxscript");
    CHECK(report::heading_anchor("").empty());
  }
}

TEST_SUITE("report::markdown_page") {
  TEST_CASE("headings get ids; repeated ones are numbered") {
    std::string page = report::markdown_page("# Title\n\n## Same\ntext\n## Same\n", "t");
    CHECK(has(page, "<h1 id=\"title\">Title</h1>"));
    CHECK(has(page, "<h2 id=\"same\">Same</h2>"));
    CHECK(has(page, "<h2 id=\"same-1\">Same</h2>"));
  }

  TEST_CASE("paragraphs, lists, code and inline markup") {
    std::string page = report::markdown_page("**Fix**: a `x<y`\nsecond line\n\n"
                                             "1. one\n   more\n\n   ```sh\n   dig <host>.\n   ```\n2. two\n\n"
                                             "- [up](#coderdnsmismatch) and [doc](patch.md)\n\nafter\n",
                                             "t");
    CHECK(has(page, "<p><strong>Fix</strong>: a <code>x&lt;y</code> second line</p>"));
    CHECK(has(page, "<ol><li><p>one more</p><pre><code>dig &lt;host&gt;.\n</code></pre></li><li><p>two</p></li></ol>"));
    CHECK(has(page, "<ul><li><p><a href=\"#coderdnsmismatch\">up</a> and doc</p></li></ul><p>after</p>"));
  }

  TEST_CASE("markup in the text is escaped everywhere; only #anchor and http(s) targets become links") {
    std::string page = report::markdown_page("# <script>alert(1)</script>\n<img src=x onerror=alert(1)>\n\n"
                                             "```\n</code></pre><script>x</script>\n```\n"
                                             "[a](javascript:alert(1)) [b](\"><script>)\n",
                                             "<title>");
    CHECK(!has(page, "<script"));
    CHECK(!has(page, "<img"));
    CHECK(!has(page, "javascript:"));
    CHECK(!has(page, "<title><title>"));
    CHECK(has(page, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    CHECK(has(page, "&lt;img src=x onerror=alert(1)&gt;"));
    CHECK(has(page, "&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;x&lt;/script&gt;"));
  }
}

TEST_SUITE("report::runbook_html") {
  TEST_CASE("the binary carries docs/runbook.md as it is in the tree") {
    CHECK(report::runbook_markdown() == read("docs/runbook.md"));
  }

  TEST_CASE("every finding code's section exists") {
    const std::string& page = report::runbook_html();
    for (const auto& info : analysis::code_table()) {
      auto anchor = report::runbook_anchor(info.code);
      if (anchor) {
        CAPTURE(info.name);
        CHECK(has(page, "id=\"" + std::string(*anchor) + "\""));
      }
    }
    CHECK(report::runbook_anchor(analysis::Code::external_dns_mismatch) == "coderdnsmismatch");
  }

  TEST_CASE("every alert's runbook_url anchor is a heading id of the page") {
    const std::string rules = read("charts/coder-dns-doctor/files/alerts.yaml");
    const std::string& page = report::runbook_html();
    std::regex url(R"(runbook_url:\s*\S*#([A-Za-z0-9_-]+))");
    int alerts = 0;
    for (auto it = std::sregex_iterator(rules.begin(), rules.end(), url); it != std::sregex_iterator(); ++it) {
      ++alerts;
      CAPTURE((*it)[1].str());
      CHECK(has(page, "id=\"" + (*it)[1].str() + "\""));
    }
    CHECK(alerts >= 10);
  }
}
