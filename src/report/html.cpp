#include <coder_dns_doctor/report/html.hpp>
#include <coder_dns_doctor/report/runbook.hpp>

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <map>
#include <utility>

namespace coder_dns_doctor::report {
namespace {

// The one style block. Its SHA-256 goes in the CSP, so no other inline style (or any script) runs.
constexpr std::string_view k_style =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d1d1f;background:#fff;max-width:110em}"
    "h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.4em 0 .4em}h3{font-size:1em}"
    "table{border-collapse:collapse;font:12px/1.3 ui-monospace,monospace}"
    "td,th{border:1px solid #d0d0d5;padding:.2em .5em;text-align:left;vertical-align:top}"
    "th{background:#f3f3f6}.ok{background:#e3f6e5}.bad{background:#fde2e1}.warn{background:#fff3cd}"
    ".verdict{display:inline-block;padding:.2em .7em;border-radius:.3em;font-weight:600}"
    ".finding{border-left:4px solid #c33;padding:.3em .8em;margin:.6em 0;background:#fafafa}"
    ".finding.warning{border-color:#d9a400}.finding.info{border-color:#888}"
    ".code{font-family:ui-monospace,monospace;font-weight:600}.fix{margin-top:.3em}"
    ".strip span{display:inline-block;width:.8em;height:1.4em;margin-right:2px;border:1px solid #ccc}"
    ".meta{color:#555;font-size:12px}"
    "pre{background:#f6f6f8;padding:.6em;overflow-x:auto}code{font-family:ui-monospace,monospace}";

std::string sha256_base64(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr);
  std::string out(4 * ((size + 2) / 3) + 1, '\0'); // EVP_EncodeBlock writes a trailing NUL
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), digest.data(), static_cast<int>(size));
  out.resize(static_cast<std::size_t>(std::max(written, 0)));
  return out;
}

std::string_view verdict_class(analysis::Verdict verdict) {
  switch (verdict) {
  case analysis::Verdict::healthy: return "ok";
  case analysis::Verdict::degraded: return "warn";
  case analysis::Verdict::broken: return "bad";
  }
  return "bad";
}

std::string cell(std::string_view text, std::string_view css = "") {
  return css.empty() ? fmt::format("<td>{}</td>", html_escape(text))
                     : fmt::format("<td class=\"{}\">{}</td>", css, html_escape(text));
}

std::string header_row(std::initializer_list<std::string_view> names) {
  std::string out = "<tr>";
  for (std::string_view name : names)
    out += "<th>" + html_escape(name) + "</th>";
  return out + "</tr>";
}

std::string joined(const std::vector<std::string>& parts, std::string_view separator = ", ") {
  return fmt::format("{}", fmt::join(parts, separator));
}

// The finding's code, linked to its runbook section when one covers it.
std::string code_html(analysis::Code code, const PageContext& context) {
  std::string name = html_escape(analysis::to_string(code));
  auto anchor = runbook_anchor(code);
  if (!anchor || context.runbook_base.empty())
    return fmt::format("<span class=\"code\">{}</span>", name);
  return fmt::format("<a class=\"code\" href=\"{}#{}\">{}</a>", html_escape(context.runbook_base), html_escape(*anchor),
                     name);
}

std::string findings_html(const Report& report, const PageContext& context) {
  if (report.findings.empty())
    return "<p>No findings: every answer matches the truth and every path is healthy.</p>";
  std::string out;
  for (const auto& f : report.findings) {
    std::string severity = html_escape(analysis::to_string(f.severity));
    out += fmt::format("<div class=\"finding {}\">{} {} <span class=\"summary\">{}</span>", severity, severity,
                       code_html(f.code, context), html_escape(f.summary));
    if (!f.evidence.empty()) {
      out += "<ul>";
      for (const auto& line : f.evidence)
        out += "<li>" + html_escape(line) + "</li>";
      out += "</ul>";
    }
    if (!f.remediation.empty())
      out += "<div class=\"fix\"><b>Fix:</b> " + html_escape(f.remediation) + "</div>";
    out += "</div>";
  }
  return out;
}

// The column a DNS answer belongs to: the resolver, or `<resolver>/search` for the relative name
// (as the metrics label it).
std::string column_of(const probe::DnsObservation& o) {
  return o.mode == probe::QueryMode::search ? o.resolver + "/search" : o.resolver;
}

bool lookup_failed(const probe::DnsObservation& o) {
  return o.status != probe::LookupStatus::ok && o.status != probe::LookupStatus::nodata && !o.outside_scope;
}

// One cell of the matrix: every family's answer (hosts-file answers say so), red when one
// mismatches its truth or failed.
std::string matrix_cell(const Report& report, const std::vector<std::size_t>& lookups) {
  if (lookups.empty())
    return cell("-");
  std::vector<std::string> parts;
  bool bad = false;
  bool judged = false;
  for (std::size_t i : lookups) {
    const auto& o = report.observations.dns[i];
    const auto& note = annotation_of(report, i);
    judged = judged || note.match.has_value();
    bad = bad || (note.match && !*note.match) || lookup_failed(o);
    std::string answer =
        o.addresses.empty() ? std::string(probe::to_string(o.status)) : joined(util::texts(o.addresses));
    std::string from = o.mode == probe::QueryMode::hosts ? " (hosts file)" : "";
    parts.push_back(fmt::format("{} {}{}", probe::to_string(o.family), answer, from));
  }
  return cell(joined(parts, "; "), bad ? "bad" : judged ? "ok" : "");
}

// Hosts down, resolvers across: the A/AAAA answers, coloured by their match.
std::string matrix_html(const Report& report) {
  std::vector<std::string> columns;
  std::vector<std::string> hosts;
  std::map<std::pair<std::string, std::string>, std::vector<std::size_t>> cells;
  for (std::size_t i = 0; i < report.observations.dns.size(); ++i) {
    const auto& o = report.observations.dns[i];
    std::string column = column_of(o);
    if (std::find(columns.begin(), columns.end(), column) == columns.end())
      columns.push_back(column);
    if (std::find(hosts.begin(), hosts.end(), o.host) == hosts.end())
      hosts.push_back(o.host);
    cells[{o.host, column}].push_back(i);
  }
  if (hosts.empty())
    return "<p>No DNS checks ran.</p>";
  std::string out = "<table id=\"matrix\"><tr><th>host</th>";
  for (const auto& column : columns)
    out += "<th>" + html_escape(column) + "</th>";
  out += "<th>truth</th></tr>";
  for (const auto& host : hosts) {
    out += "<tr><th>" + html_escape(host) + "</th>";
    for (const auto& column : columns)
      out += matrix_cell(report, cells[{host, column}]);
    auto truth = report.truth.addresses_for(host);
    out += cell(truth.empty() ? "unknown" : joined(util::texts(truth))) + "</tr>";
  }
  return out + "</table>";
}

std::string truth_html(const Report& report) {
  if (report.truth.entries.empty() && report.truth.notes.empty())
    return "";
  std::string out = "<h3>Truth</h3><table id=\"truth\">" + header_row({"host", "addresses", "source"});
  for (const auto& entry : report.truth.entries)
    out += "<tr>" + cell(entry.host) + cell(joined(util::texts(entry.addresses))) + cell(entry.source) + "</tr>";
  out += "</table>";
  for (const auto& note : report.truth.notes)
    out += "<p class=\"meta\">" + html_escape(note) + "</p>";
  return out;
}

std::string paths_html(const Report& report) {
  if (report.observations.http.empty())
    return "<p>No HTTP checks ran.</p>";
  std::string out =
      "<table id=\"paths\">" + header_row({"URL", "via", "address", "resolvers", "result", "coderd", "ms"});
  for (const auto& o : report.observations.http) {
    std::string result = std::string(http::to_string(o.status));
    if (o.status_code)
      result += fmt::format(" {}", *o.status_code);
    if (!o.ok && o.error)
      result += ": " + *o.error;
    out += "<tr>" + cell(o.url) + cell(probe::to_string(o.via)) + cell(o.address.text) + cell(joined(o.resolvers)) +
           cell(result, o.ok ? "ok" : "bad") + cell(o.coderd_version.value_or("-")) +
           cell(fmt::format("{:.1f}", o.duration_ms)) + "</tr>";
  }
  return out + "</table>";
}

std::string transport_html(const Report& report) {
  if (report.observations.transport.empty())
    return "<p>No transport checks ran.</p>";
  std::string out =
      "<table id=\"transport\">" + header_row({"URL", "via", "address", "check", "status", "held", "detail", "coderd"});
  for (const auto& o : report.observations.transport) {
    std::string status(transport::to_string(o.status));
    if (o.status_code)
      status += fmt::format(" {}", *o.status_code);
    std::string held = o.held_s ? fmt::format("{:.0f} s", *o.held_s) : "-";
    out += "<tr>" + cell(o.url) + cell(probe::to_string(o.via)) + cell(o.address.text) +
           cell(transport::to_string(o.check)) + cell(status, transport::passes(o.status) ? "ok" : "bad") + cell(held) +
           cell(o.detail) + cell(o.coderd_version.value_or("-")) + "</tr>";
  }
  return out + "</table>";
}

std::string history_html(const PageContext& context) {
  if (context.history.empty())
    return "";
  std::map<analysis::Verdict, std::size_t> counts;
  std::string strip;
  for (const auto& cycle : context.history) {
    ++counts[cycle.verdict];
    std::string verdict = html_escape(analysis::to_string(cycle.verdict));
    strip += fmt::format("<span class=\"{}\" title=\"{} {}\"></span>", verdict_class(cycle.verdict),
                         html_escape(cycle.finished_at), verdict);
  }
  return fmt::format("<h2>Last {} cycles</h2><div class=\"strip\" id=\"history\">{}</div>"
                     "<p class=\"meta\">oldest first: {} healthy, {} degraded, {} broken</p>",
                     context.history.size(), strip, counts[analysis::Verdict::healthy],
                     counts[analysis::Verdict::degraded], counts[analysis::Verdict::broken]);
}

std::string head_html(const Report& report, unsigned refresh) {
  return fmt::format(
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"{}\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
      "<title>coder-dns-doctor: {}</title><style>{}</style></head><body>",
      refresh, html_escape(analysis::to_string(report.verdict)), k_style);
}

std::string summary_html(const Report& report, unsigned refresh) {
  std::size_t errors = 0;
  std::size_t warnings = 0;
  for (const auto& f : report.findings) {
    errors += f.severity == analysis::Severity::error ? 1 : 0;
    warnings += f.severity == analysis::Severity::warning ? 1 : 0;
  }
  return fmt::format("<h1>coder-dns-doctor <span class=\"verdict {}\" id=\"verdict\">{}</span></h1>"
                     "<p class=\"meta\">{} error(s), {} warning(s); cycle finished at {} and took {:.0f} ms; this "
                     "page refreshes every {} s</p>",
                     verdict_class(report.verdict), html_escape(analysis::to_string(report.verdict)), errors, warnings,
                     html_escape(report.generated_at), report.observations.cycle_ms, refresh);
}

std::string build_html(const PageContext& context) {
  std::string runbook = context.runbook_base.empty()
                            ? ""
                            : fmt::format(" · <a href=\"{}\">runbook</a>", html_escape(context.runbook_base));
  return fmt::format(
      "<p class=\"meta\" id=\"build\">coder-dns-doctor {} (revision {}) · <a href=\"/report\">/report</a> "
      "(JSON) · <a href=\"/metrics\">/metrics</a>{}</p>",
      html_escape(context.version), html_escape(context.revision), runbook);
}

} // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default: out += c;
    }
  }
  return out;
}

std::string_view page_style() {
  return k_style;
}

const std::string& page_security_policy() {
  static const std::string policy =
      fmt::format("default-src 'none'; style-src 'sha256-{}'; img-src 'none'; script-src 'none'; base-uri 'none'; "
                  "form-action 'none'; frame-ancestors 'none'",
                  sha256_base64(k_style));
  return policy;
}

std::string to_html(const Report& report, const PageContext& context) {
  unsigned refresh = std::max(context.refresh_seconds, 1U);
  std::string out = head_html(report, refresh) + summary_html(report, refresh);
  out += "<h2>Findings</h2><div id=\"findings\">" + findings_html(report, context) + "</div>";
  out += "<h2>DNS: host × resolver</h2>" + matrix_html(report) + truth_html(report);
  out += "<h2>Paths (HTTP checks)</h2>" + paths_html(report);
  out += "<h2>Transport (the agent's connection)</h2>" + transport_html(report);
  out += history_html(context);
  out += build_html(context) + "</body></html>\n";
  return out;
}

} // namespace coder_dns_doctor::report
