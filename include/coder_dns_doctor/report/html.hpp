// Layer 6 (report): the report as a self-contained HTML status page for a person (serve's `/`).
// No script, no external asset: inline CSS whose hash the Content-Security-Policy allows, and a
// meta refresh. Every value shown is escaped.
#pragma once

#include <coder_dns_doctor/report/report.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::report {

// One finished cycle for the history strip.
struct CycleVerdict {
  std::string finished_at; // RFC 3339 UTC
  analysis::Verdict verdict = analysis::Verdict::healthy;
};

struct PageContext {
  std::vector<CycleVerdict> history; // oldest first
  std::string version;               // build info
  std::string revision;
  unsigned refresh_seconds = 30;
};

// `text` with &, <, >, " and ' replaced by their character references.
[[nodiscard]] std::string html_escape(std::string_view text);

// The page: verdict, findings with remediation, the host x resolver matrix, the HTTP paths and
// their transport checks, the history strip, build info.
[[nodiscard]] std::string to_html(const Report& report, const PageContext& context);

// The Content-Security-Policy the page needs: nothing but its own inline style.
[[nodiscard]] const std::string& page_security_policy();

} // namespace coder_dns_doctor::report
