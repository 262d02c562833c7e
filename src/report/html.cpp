#include <coder_dns_doctor/report/html.hpp>

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>

namespace coder_dns_doctor::report {
namespace {

// The one style block. Its SHA-256 goes in the CSP, so no other inline style (or any script) runs.
constexpr std::string_view k_style =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d1d1f;background:#fff}"
    "h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.4em 0 .4em}"
    "table{border-collapse:collapse;font:12px/1.3 ui-monospace,monospace}"
    "td,th{border:1px solid #d0d0d5;padding:.2em .5em;text-align:left;vertical-align:top}"
    "th{background:#f3f3f6}.ok{background:#e3f6e5}.bad{background:#fde2e1}.warn{background:#fff3cd}"
    ".verdict{display:inline-block;padding:.2em .7em;border-radius:.3em;font-weight:600}"
    ".finding{border-left:4px solid #c33;padding:.3em .8em;margin:.6em 0;background:#fafafa}"
    ".finding.warning{border-color:#d9a400}.finding.info{border-color:#888}"
    ".code{font-family:ui-monospace,monospace;font-weight:600}.fix{margin-top:.3em}"
    ".strip span{display:inline-block;width:.8em;height:1.4em;margin-right:2px}"
    ".meta{color:#666;font-size:12px}";

std::string sha256_base64(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr);
  std::string out(4 * ((size + 2) / 3), '\0');
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

std::string findings_html(const Report& report) {
  if (report.findings.empty())
    return "<p>No findings: every answer matches the truth and every path is healthy.</p>";
  std::string out;
  for (const auto& f : report.findings) {
    out +=
        fmt::format("<div class=\"finding {}\"><span class=\"code\">{} {}</span> {}", analysis::to_string(f.severity),
                    analysis::to_string(f.severity), analysis::to_string(f.code), html_escape(f.summary));
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

// Hosts down, resolvers across: the absolute A/AAAA answers, coloured by their match.
std::string matrix_html(const Report& report) {
  std::vector<std::string> resolvers;
  std::map<std::pair<std::string, std::string>, std::vector<std::size_t>> cells;
  std::vector<std::string> hosts;
  for (std::size_t i = 0; i < report.observations.dns.size(); ++i) {
    const auto& o = report.observations.dns[i];
    if (o.mode == probe::QueryMode::search)
      continue;
    if (std::find(resolvers.begin(), resolvers.end(), o.resolver) == resolvers.end())
      resolvers.push_back(o.resolver);
    if (std::find(hosts.begin(), hosts.end(), o.host) == hosts.end())
      hosts.push_back(o.host);
    cells[{o.host, o.resolver}].push_back(i);
  }
  if (hosts.empty())
    return "<p>No DNS checks ran.</p>";
  std::string out = "<table><tr><th>host</th>";
  for (const auto& resolver : resolvers)
    out += "<th>" + html_escape(resolver) + "</th>";
  out += "</tr>";
  for (const auto& host : hosts) {
    out += "<tr><th>" + html_escape(host) + "</th>";
    for (const auto& resolver : resolvers) {
      std::vector<std::string> parts;
      bool mismatch = false;
      bool failed = false;
      for (std::size_t i : cells[{host, resolver}]) {
        const auto& o = report.observations.dns[i];
        const auto& note = annotation_of(report, i);
        mismatch = mismatch || (note.match && !*note.match);
        failed = failed ||
                 (o.status != probe::LookupStatus::ok && o.status != probe::LookupStatus::nodata && !o.outside_scope);
        std::string answer = o.addresses.empty() ? std::string(probe::to_string(o.status))
                                                 : fmt::format("{}", fmt::join(util::texts(o.addresses), ", "));
        parts.push_back(fmt::format("{} {}", probe::to_string(o.family), answer));
      }
      std::string css = parts.empty() ? "" : (mismatch || failed) ? "bad" : "ok";
      out += cell(parts.empty() ? "-" : fmt::format("{}", fmt::join(parts, "; ")), css);
    }
    out += "</tr>";
  }
  return out + "</table>";
}

std::string paths_html(const Report& report) {
  if (report.observations.http.empty())
    return "<p>No HTTP checks ran.</p>";
  std::string out = "<table><tr><th>URL</th><th>via</th><th>address</th><th>result</th></tr>";
  for (const auto& o : report.observations.http) {
    std::string result = o.ok ? fmt::format("ok {}", o.status_code.value_or(0))
                              : fmt::format("{}: {}", http::to_string(o.status), o.error.value_or("failed"));
    out += "<tr>" + cell(o.url) + cell(probe::to_string(o.via)) + cell(o.address.text) +
           cell(result, o.ok ? "ok" : "bad") + "</tr>";
  }
  return out + "</table>";
}

std::string transport_html(const Report& report) {
  if (report.observations.transport.empty())
    return "<p>No transport checks ran.</p>";
  std::string out = "<table><tr><th>URL</th><th>via</th><th>address</th><th>check</th><th>status</th><th>detail</th>"
                    "<th>coderd</th></tr>";
  for (const auto& o : report.observations.transport) {
    bool passes = transport::passes(o.status);
    std::string status(transport::to_string(o.status));
    if (o.status_code)
      status += fmt::format(" {}", *o.status_code);
    out += "<tr>" + cell(o.base_url) + cell(probe::to_string(o.via)) + cell(o.address.text) +
           cell(transport::to_string(o.check)) + cell(status, passes ? "ok" : "bad") + cell(o.detail) +
           cell(o.coderd_version.value_or("-")) + "</tr>";
  }
  return out + "</table>";
}

std::string history_html(const PageContext& context) {
  if (context.history.empty())
    return "";
  std::string out = "<h2>Last cycles</h2><div class=\"strip\">";
  for (const auto& cycle : context.history)
    out += fmt::format("<span class=\"{}\" title=\"{} {}\"></span>", verdict_class(cycle.verdict),
                       html_escape(cycle.finished_at), analysis::to_string(cycle.verdict));
  return out + "</div>";
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

const std::string& page_security_policy() {
  static const std::string policy =
      fmt::format("default-src 'none'; style-src 'sha256-{}'; img-src 'none'; base-uri 'none'; form-action 'none'; "
                  "frame-ancestors 'none'",
                  sha256_base64(k_style));
  return policy;
}

std::string to_html(const Report& report, const PageContext& context) {
  std::size_t errors = 0;
  std::size_t warnings = 0;
  for (const auto& f : report.findings) {
    errors += f.severity == analysis::Severity::error;
    warnings += f.severity == analysis::Severity::warning;
  }
  std::string out = fmt::format(
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"{}\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
      "<title>coder-dns-doctor: {}</title><style>{}</style></head><body>",
      std::max(context.refresh_seconds, 5U), analysis::to_string(report.verdict), k_style);
  out += fmt::format("<h1>coder-dns-doctor <span class=\"verdict {}\" id=\"verdict\">{}</span></h1>",
                     verdict_class(report.verdict), analysis::to_string(report.verdict));
  out += fmt::format("<p class=\"meta\">{} error(s), {} warning(s); cycle at {} took {:.0f} ms; refreshes every "
                     "{} s</p>",
                     errors, warnings, html_escape(report.generated_at), report.observations.cycle_ms,
                     std::max(context.refresh_seconds, 5U));
  out += "<h2>Findings</h2><div id=\"findings\">" + findings_html(report) + "</div>";
  out += "<h2>DNS: host × resolver</h2>" + matrix_html(report);
  out += "<h2>Paths</h2>" + paths_html(report);
  out += "<h2>Transport (the agent's connection)</h2>" + transport_html(report);
  out += history_html(context);
  out += fmt::format("<p class=\"meta\">coder-dns-doctor {} ({}) · <a href=\"/report\">/report</a> (JSON) · "
                     "<a href=\"/metrics\">/metrics</a></p></body></html>\n",
                     html_escape(context.version), html_escape(context.revision));
  return out;
}

} // namespace coder_dns_doctor::report
