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
  unsigned refresh_seconds = 30; // the meta refresh: the daemon's interval (at least 1 s)
  // Where the runbook is: a finding code links to `<runbook_base>#<anchor>`. The default is the
  // daemon's own `/runbook`, relative, so it works through a port-forward too.
  std::string runbook_base = "/runbook";
};

// `text` with &, <, >, " and ' replaced by their character references: safe in element content
// and in a double- or single-quoted attribute value.
[[nodiscard]] std::string html_escape(std::string_view text);

// The page: verdict, findings with remediation (each code linked to its runbook section), the host
// x resolver matrix, the HTTP paths and their transport checks, the history strip, build info.
[[nodiscard]] std::string to_html(const Report& report, const PageContext& context);

// The one style block every page of the daemon inlines (the status page, /runbook).
[[nodiscard]] std::string_view page_style();

// The Content-Security-Policy those pages need: nothing but the inline style of page_style(),
// matched by its SHA-256, so no other style and no script can run even if markup got through.
[[nodiscard]] const std::string& page_security_policy();

} // namespace coder_dns_doctor::report
