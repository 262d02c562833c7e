// report::to_html is read by a browser: every value in it is escaped (a label, a host, a DNS
// answer's evidence, a URL could carry markup), it has no script and no external asset, and the
// Content-Security-Policy allows exactly the one style block it inlines (hash checked here with
// OpenSSL's one-shot SHA256 and this file's own base64, not the code under test).
#include <coder_dns_doctor/report/html.hpp>

#include <doctest/doctest.h>
#include <openssl/sha.h>

#include "addresses.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <vector>

using namespace coder_dns_doctor;

namespace {

constexpr std::string_view k_hostile = R"(<script>alert("x")</script> & 'quote')";
constexpr std::string_view k_hostile_escaped =
    "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quote&#39;";

std::string base64(const unsigned char* data, std::size_t size) {
  static constexpr std::string_view k_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < size; i += 3) {
    unsigned value = static_cast<unsigned>(data[i]) << 16U;
    if (i + 1 < size)
      value |= static_cast<unsigned>(data[i + 1]) << 8U;
    if (i + 2 < size)
      value |= data[i + 2];
    out += k_alphabet[(value >> 18U) & 63U];
    out += k_alphabet[(value >> 12U) & 63U];
    out += i + 1 < size ? k_alphabet[(value >> 6U) & 63U] : '=';
    out += i + 2 < size ? k_alphabet[value & 63U] : '=';
  }
  return out;
}

std::string sha256_base64(std::string_view text) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return base64(digest.data(), digest.size());
}

std::size_t count(std::string_view text, std::string_view part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string_view::npos; at = text.find(part, at + part.size()))
    ++n;
  return n;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// The text between the first `open` and the next `close` after it.
std::string between(std::string_view text, std::string_view open, std::string_view close) {
  auto start = text.find(open);
  REQUIRE(start != std::string_view::npos);
  start += open.size();
  auto end = text.find(close, start);
  REQUIRE(end != std::string_view::npos);
  return std::string(text.substr(start, end - start));
}

probe::DnsObservation lookup(std::string host, std::string resolver, std::vector<std::string_view> addresses) {
  probe::DnsObservation made;
  made.host = std::move(host);
  made.name = made.host + ".";
  made.resolver = std::move(resolver);
  made.family = probe::Family::a;
  made.status = probe::LookupStatus::ok;
  for (auto text : addresses)
    made.addresses.push_back(test::ip(text));
  return made;
}

// A report in which every free-text field carries markup.
report::Report hostile_report() {
  const std::string hostile(k_hostile);
  report::Report made;
  made.verdict = analysis::Verdict::broken;
  made.generated_at = "2026-12-02T13:00:00Z" + hostile;
  made.findings.push_back({.code = analysis::Code::external_dns_mismatch,
                           .severity = analysis::Severity::error,
                           .summary = "summary " + hostile,
                           .evidence = {"evidence " + hostile},
                           .remediation = "remediation " + hostile});
  made.observations.dns.push_back(lookup("host" + hostile, "resolver" + hostile, {"127.0.50.100"}));
  analysis::Annotation note;
  note.expected = test::ips({"127.0.50.101"});
  note.match = false;
  made.annotations.push_back(note);
  truth::TruthEntry entry;
  entry.host = "host" + hostile;
  entry.addresses = test::ips({"127.0.50.101"});
  entry.source = "static" + hostile;
  made.truth.entries.push_back(entry);
  made.truth.notes.push_back("note" + hostile);
  probe::HttpObservation request;
  request.url = "https://coder.example.test:18443/" + hostile;
  request.base_url = "https://coder.example.test:18443";
  request.via = probe::Via::dns;
  request.address = test::ip("127.0.50.100");
  request.resolvers = {"resolver" + hostile};
  request.status = http::Status::refused;
  request.error = "error " + hostile;
  request.coderd_version = "v" + hostile;
  made.observations.http.push_back(request);
  probe::TransportObservation check;
  check.url = "https://coder.example.test:18443/derp" + hostile;
  check.base_url = request.base_url;
  check.address = test::ip("127.0.50.101");
  check.status = probe::TransportStatus::closed_early;
  check.detail = "detail " + hostile;
  check.coderd_version = "v" + hostile;
  check.held_s = 61.0;
  made.observations.transport.push_back(check);
  return made;
}

report::PageContext hostile_context() {
  const std::string hostile(k_hostile);
  return {.history = {{.finished_at = "t1" + hostile, .verdict = analysis::Verdict::healthy},
                      {.finished_at = "t2", .verdict = analysis::Verdict::broken}},
          .version = "0.1.0" + hostile,
          .revision = "abc" + hostile,
          .refresh_seconds = 7,
          .runbook_base = "/runbook\"onmouseover=\"x"};
}

} // namespace

TEST_SUITE("report::html_escape") {
  TEST_CASE("the five markup characters become character references") {
    CHECK(report::html_escape("&") == "&amp;");
    CHECK(report::html_escape("<") == "&lt;");
    CHECK(report::html_escape(">") == "&gt;");
    CHECK(report::html_escape("\"") == "&quot;");
    CHECK(report::html_escape("'") == "&#39;");
    CHECK(report::html_escape(k_hostile) == k_hostile_escaped);
  }

  TEST_CASE("everything else passes unchanged, including UTF-8 and an existing reference") {
    CHECK(report::html_escape("").empty());
    CHECK(report::html_escape("coder.example.test 127.0.0.1 ×") == "coder.example.test 127.0.0.1 ×");
    CHECK(report::html_escape("&amp;") == "&amp;amp;"); // escaped again: the text is shown as typed
  }
}

TEST_SUITE("report::to_html") {
  TEST_CASE("markup in any value is shown as text, never as markup") {
    std::string page = report::to_html(hostile_report(), hostile_context());
    CHECK(count(page, k_hostile) == 0);
    CHECK(lower(page).find("<script") == std::string::npos);
    // Each field that carried it shows the escaped text: finding summary, evidence, remediation,
    // host, resolver label, truth source and note, URL, error, detail, versions, history, build.
    CHECK(count(page, k_hostile_escaped) >= 16);
    CHECK(page.find("evidence " + std::string(k_hostile_escaped)) != std::string::npos);
    CHECK(page.find("<th>host" + std::string(k_hostile_escaped) + "</th>") != std::string::npos);
    CHECK(page.find("<th>resolver" + std::string(k_hostile_escaped) + "</th>") != std::string::npos);
    CHECK(page.find("title=\"t1" + std::string(k_hostile_escaped) + " healthy\"") != std::string::npos);
    CHECK(page.find("href=\"/runbook&quot;onmouseover=&quot;x#coderdnsmismatch\"") != std::string::npos);
    CHECK(page.find("onmouseover=\"") == std::string::npos);
  }

  TEST_CASE("self-contained: one style block, no script, no inline style attribute, no external asset") {
    std::string page = lower(report::to_html(hostile_report(), hostile_context()));
    CHECK(count(page, "<style>") == 1);
    CHECK(page.find(" style=") == std::string::npos);
    CHECK(page.find("<link") == std::string::npos);
    CHECK(page.find("<img") == std::string::npos);
    CHECK(page.find("src=") == std::string::npos);
    CHECK(page.find("url(") == std::string::npos);
    CHECK(page.find("@import") == std::string::npos);
  }

  TEST_CASE("the CSP allows exactly the inlined style, by its SHA-256") {
    std::string page = report::to_html(hostile_report(), hostile_context());
    std::string style = between(page, "<style>", "</style>");
    CHECK(style == report::page_style());
    const std::string& policy = report::page_security_policy();
    CHECK(policy.find("default-src 'none'") != std::string::npos);
    CHECK(policy.find("script-src 'none'") != std::string::npos);
    CHECK(policy.find("frame-ancestors 'none'") != std::string::npos);
    CHECK(policy.find("style-src 'sha256-" + sha256_base64(style) + "'") != std::string::npos);
    CHECK(count(policy, "sha256-") == 1);
    CHECK(policy.find("unsafe") == std::string::npos);
  }

  TEST_CASE("the page refreshes itself at the daemon's interval, at least every second") {
    report::PageContext context = hostile_context();
    CHECK(report::to_html(hostile_report(), context).find("<meta http-equiv=\"refresh\" content=\"7\">") !=
          std::string::npos);
    context.refresh_seconds = 0;
    CHECK(report::to_html(hostile_report(), context).find("<meta http-equiv=\"refresh\" content=\"1\">") !=
          std::string::npos);
  }

  TEST_CASE("verdict, findings linked to their runbook section, matrix, paths, transport, history, build") {
    report::Report made = hostile_report();
    made.findings.push_back({.code = analysis::Code::healthz_fails_via_dns,
                             .severity = analysis::Severity::error,
                             .summary = "healthz",
                             .evidence = {},
                             .remediation = "fix DNS"});
    report::PageContext context = hostile_context();
    context.runbook_base = "https://wiki.example.test/runbooks/coder-dns-doctor";
    std::string page = report::to_html(made, context);
    CHECK(page.find("id=\"verdict\">broken</span>") != std::string::npos);
    CHECK(page.find("<a class=\"code\" href=\"https://wiki.example.test/runbooks/coder-dns-doctor#coderdnsmismatch\">"
                    "EXTERNAL_DNS_MISMATCH</a>") != std::string::npos);
    CHECK(page.find("#coderhealthzdownviadns\">HEALTHZ_FAILS_VIA_DNS</a>") != std::string::npos);
    CHECK(page.find("<b>Fix:</b> fix DNS") != std::string::npos);
    CHECK(page.find("<td class=\"bad\">A 127.0.50.100</td>") != std::string::npos); // mismatched answer
    CHECK(page.find("<td>127.0.50.101</td>") != std::string::npos);                 // the host's truth
    CHECK(page.find("id=\"paths\"") != std::string::npos);
    CHECK(page.find("refused") != std::string::npos);
    CHECK(page.find("id=\"transport\"") != std::string::npos);
    CHECK(page.find("closed_early") != std::string::npos);
    CHECK(page.find("61 s") != std::string::npos);
    CHECK(count(between(page, "id=\"history\">", "</div>"), "<span class=") == 2);
    CHECK(page.find("1 healthy, 0 degraded, 1 broken") != std::string::npos);
    CHECK(page.find("id=\"build\">coder-dns-doctor 0.1.0") != std::string::npos);
  }

  TEST_CASE("an empty report still renders a whole page") {
    std::string page = report::to_html(report::Report{}, report::PageContext{});
    CHECK(page.starts_with("<!DOCTYPE html>"));
    CHECK(page.ends_with("</html>\n"));
    CHECK(page.find("id=\"verdict\">healthy</span>") != std::string::npos);
    CHECK(page.find("No findings") != std::string::npos);
    CHECK(page.find("No DNS checks ran") != std::string::npos);
    CHECK(page.find("id=\"history\"") == std::string::npos);
  }
}
