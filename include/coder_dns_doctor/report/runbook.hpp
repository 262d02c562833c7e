// Layer 6 (report): the runbook (docs/runbook.md, compiled into the binary) as an HTML page for
// serve's `/runbook`, and which of its sections each finding code links to.
#pragma once

#include <coder_dns_doctor/analysis/findings.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace coder_dns_doctor::report {

// docs/runbook.md as it was when the binary was built.
[[nodiscard]] std::string_view runbook_markdown();

// The runbook page: runbook_markdown() rendered once, on first use, by markdown_page().
[[nodiscard]] const std::string& runbook_html();

// Render the subset of Markdown the docs use (ATX headings, paragraphs, `-`/`1.` lists, fenced
// code, `code`, **bold**, [links](#anchor)) as a whole page titled `title`. Every byte of the
// input is escaped; a heading gets the id heading_anchor() gives it (GitHub's rule, which the
// alert rules' runbook_url anchors follow). Only `#anchor` and http(s) links become links.
[[nodiscard]] std::string markdown_page(std::string_view markdown, std::string_view title);

// GitHub's anchor of a heading: lower case; letters, digits, '_', '-' kept; spaces become '-';
// everything else is dropped. "CoderDNSMismatch" -> "coderdnsmismatch".
[[nodiscard]] std::string heading_anchor(std::string_view heading);

// The runbook section (anchor) that covers `code`, when one does.
[[nodiscard]] std::optional<std::string_view> runbook_anchor(analysis::Code code);

} // namespace coder_dns_doctor::report
