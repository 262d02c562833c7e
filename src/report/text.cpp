#include <coder_dns_doctor/report/report.hpp>
#include <coder_dns_doctor/util/strings.hpp>
#include <coder_dns_doctor/util/table.hpp>

#include <fmt/core.h>

namespace coder_dns_doctor::report {
namespace {

constexpr const char* k_red = "\033[31m";
constexpr const char* k_green = "\033[32m";
constexpr const char* k_yellow = "\033[33m";
constexpr const char* k_bold = "\033[1m";

std::string list_or_dash(const std::vector<std::string>& values) {
  return values.empty() ? std::string("-") : util::join(values, ",");
}

std::string list_or_dash(const std::vector<util::IpAddress>& addresses) {
  return list_or_dash(util::texts(addresses));
}

// ANSI colours when the output is a terminal, nothing otherwise.
struct Paint {
  Colour colour;
  [[nodiscard]] std::string operator()(const char* code) const {
    return colour == Colour::yes ? std::string(code) : std::string();
  }
  [[nodiscard]] std::string reset() const { return colour == Colour::yes ? "\033[0m" : ""; }
};

std::string headline(const Report& report, const Paint& paint) {
  std::size_t errors = 0;
  std::size_t warnings = 0;
  for (const auto& finding : report.findings) {
    errors += finding.severity == analysis::Severity::error;
    warnings += finding.severity == analysis::Severity::warning;
  }
  const char* verdict_colour = report.verdict == analysis::Verdict::healthy    ? k_green
                               : report.verdict == analysis::Verdict::degraded ? k_yellow
                                                                               : k_red;
  return fmt::format("coder-dns-doctor diagnose: {}{}{} ({} error(s), {} warning(s), {:.0f} ms)\n",
                     paint(k_bold) + paint(verdict_colour), analysis::to_string(report.verdict), paint.reset(), errors,
                     warnings, report.observations.cycle_ms);
}

std::string truth_section(const Report& report) {
  if (report.truth.entries.empty())
    return {};
  util::Table table({"HOST", "ADDRESSES", "SOURCE"});
  for (const auto& entry : report.truth.entries)
    table.add({entry.host, list_or_dash(entry.addresses), entry.source});
  std::string out = "\nTRUTH\n" + table.render("  ");
  for (const auto& note : report.truth.notes)
    out += "  note: " + note + "\n";
  return out;
}

std::string resolvers_section(const Report& report) {
  if (report.resolvers.empty())
    return {};
  util::Table table({"LABEL", "SERVERS", "SCOPE", "WHY"});
  for (const auto& resolver : report.resolvers) {
    std::vector<std::string> servers;
    for (const auto& server : resolver.servers)
      servers.push_back(server.to_string());
    std::string why = resolver.scope_reason;
    if (resolver.hosts)
      why += "; reads " + resolver.hosts->file.path + " first";
    table.add({resolver.label, list_or_dash(servers), std::string(probe::to_string(resolver.scope)),
               why.empty() ? "-" : why});
  }
  return "\nRESOLVERS\n" + table.render("  ");
}

std::string dns_section(const Report& report, const Paint& paint) {
  if (report.observations.dns.empty())
    return {};
  util::Table table({"HOST", "RESOLVER", "QUERY", "TYPE", "STATUS", "ANSWER", "EXPECTED", "MATCH", "TTL", "MS"});
  for (std::size_t i = 0; i < report.observations.dns.size(); ++i) {
    const probe::DnsObservation& o = report.observations.dns[i];
    const analysis::Annotation& note = annotation_of(report, i);
    if (o.mode == probe::QueryMode::search && o.name == o.host + ".")
      continue; // the search list fell through to the name itself: same as the absolute row
    std::string match = !note.match ? "-" : *note.match ? "yes" : "NO";
    std::string style = !note.match ? "" : *note.match ? paint(k_green) : paint(k_red);
    std::string status_style =
        o.status == probe::LookupStatus::ok || o.status == probe::LookupStatus::nodata ? std::string() : paint(k_red);
    std::string query = o.mode == probe::QueryMode::absolute ? "absolute"
                        : o.mode == probe::QueryMode::hosts  ? "hosts:" + o.detail
                                                             : "search:" + o.name;
    table.add({o.host, o.resolver, query, std::string(probe::to_string(o.family)),
               std::string(probe::to_string(o.status)), list_or_dash(o.addresses), list_or_dash(note.expected), match,
               o.ttl ? std::to_string(*o.ttl) : "-", fmt::format("{:.1f}", o.duration_ms)},
              {"", "", "", "", status_style, "", "", style, "", ""});
  }
  return "\nDNS\n" + table.render("  ");
}

std::string http_section(const Report& report, const Paint& paint) {
  if (report.observations.http.empty())
    return {};
  util::Table table({"URL", "VIA", "ADDRESS", "FROM", "RESULT", "DEPLOYMENT", "MS"});
  for (const auto& o : report.observations.http) {
    // A failure reads "<status>: <error>", e.g. "refused: Failed to connect ...", "not_sent: Failed ...".
    std::string detail = o.error.value_or("failed");
    if (o.status == http::Status::not_sent && detail.starts_with("not sent: "))
      detail.erase(0, std::string_view("not sent: ").size());
    std::string result = o.ok ? fmt::format("ok {}", o.status_code.value_or(0))
                              : fmt::format("{}: {}", http::to_string(o.status), detail);
    table.add({o.url, std::string(probe::to_string(o.via)), o.address.text, list_or_dash(o.resolvers), result,
               o.deployment_id.value_or("-"), fmt::format("{:.1f}", o.duration_ms)},
              {"", "", "", "", o.ok ? paint(k_green) : paint(k_red), "", ""});
  }
  return "\nHTTP\n" + table.render("  ");
}

// One cell of the transport table: the typed status, its HTTP code when it failed with one, and how
// long a held connection lived. Details are in the findings' evidence and in JSON.
std::string transport_cell(const probe::TransportObservation& o) {
  std::string cell(transport::to_string(o.status));
  if (!transport::passes(o.status) && o.status_code)
    cell += fmt::format(" {}", *o.status_code);
  if (o.held_s)
    cell += fmt::format(" held {:.1f}s", *o.held_s);
  return cell;
}

// One row per path (URL, route, address), one column per check: the agent's connection at a glance.
std::string transport_section(const Report& report, const Paint& paint) {
  const auto& observations = report.observations.transport;
  if (observations.empty())
    return {};
  std::vector<std::string> header{"URL", "VIA", "ADDRESS"};
  for (probe::Check check : transport::all_checks())
    header.emplace_back(transport::to_string(check));
  header.emplace_back("CODERD");
  util::Table table(header);
  for (std::size_t i = 0; i < observations.size();) {
    const auto& first = observations[i];
    std::vector<std::string> row{first.base_url, std::string(probe::to_string(first.via)), first.address.text};
    std::vector<std::string> styles(3);
    std::optional<std::string> version;
    for (probe::Check check : transport::all_checks()) {
      bool found = i < observations.size() && observations[i].base_url == first.base_url &&
                   observations[i].via == first.via && observations[i].address == first.address &&
                   observations[i].check == check;
      if (!found) {
        row.emplace_back("-");
        styles.emplace_back();
        continue;
      }
      const auto& o = observations[i++];
      row.push_back(transport_cell(o));
      styles.emplace_back(transport::passes(o.status) ? paint(k_green) : paint(k_red));
      if (!version && o.coderd_version)
        version = o.coderd_version;
    }
    row.push_back(version.value_or("-"));
    styles.emplace_back();
    table.add(row, styles);
  }
  return "\nTRANSPORT\n" + table.render("  ");
}

std::string workspaces_section(const Report& report, const Paint& paint) {
  if (report.workspaces.empty())
    return {};
  util::Table table({"POD", "AGENT HOST", "TARGET", "FROM"});
  for (const auto& agent : report.workspaces)
    table.add({agent.pod, agent.host.empty() ? "-" : agent.host, std::string(k8s::to_string(agent.target)),
               agent.origin.empty() ? "-" : agent.origin},
              {"", "", agent.target == analysis::AgentTarget::external ? paint(k_yellow) : "", ""});
  return "\nWORKSPACES\n" + table.render("  ");
}

std::string findings_section(const Report& report, const Paint& paint) {
  std::string out = "\nFINDINGS\n";
  if (report.findings.empty())
    out += "  none: every answer matches the truth and every path is healthy\n";
  for (const auto& finding : report.findings) {
    const char* tone = finding.severity == analysis::Severity::error     ? k_red
                       : finding.severity == analysis::Severity::warning ? k_yellow
                                                                         : "";
    out += fmt::format("  {}{:<7} {}{} {}\n", paint(tone), analysis::to_string(finding.severity),
                       analysis::to_string(finding.code), paint.reset(), finding.summary);
    for (const auto& line : finding.evidence)
      out += "          - " + line + "\n";
    if (!finding.remediation.empty())
      out += "          fix: " + finding.remediation + "\n";
  }
  return out;
}

} // namespace

std::string to_text(const Report& report, Colour colour) {
  Paint paint{colour};
  return headline(report, paint) + truth_section(report) + resolvers_section(report) + dns_section(report, paint) +
         http_section(report, paint) + transport_section(report, paint) + workspaces_section(report, paint) +
         findings_section(report, paint);
}

} // namespace coder_dns_doctor::report
