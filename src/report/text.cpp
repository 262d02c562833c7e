#include <coder_dns_doctor/report/report.hpp>
#include <coder_dns_doctor/util/strings.hpp>
#include <coder_dns_doctor/util/table.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <iterator>
#include <optional>
#include <utility>

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

using util::Column;
using util::Fit;

std::string truth_section(const Report& report, std::size_t width) {
  if (report.truth.entries.empty())
    return {};
  util::Table table(std::vector<Column>{{"HOST", Fit::cut_middle}, {"ADDRESSES", Fit::keep}, {"SOURCE", Fit::cut_end}});
  for (const auto& entry : report.truth.entries)
    table.add({entry.host, list_or_dash(entry.addresses), entry.source});
  std::string out = "\nTRUTH\n" + table.render("  ", width);
  for (const auto& note : report.truth.notes)
    out += util::wrap(note, "  note: ", "        ", width);
  return out;
}

std::string resolvers_section(const Report& report, std::size_t width) {
  if (report.resolvers.empty())
    return {};
  util::Table table(std::vector<Column>{
      {"LABEL", Fit::cut_middle}, {"SERVERS", Fit::keep}, {"SCOPE", Fit::keep}, {"WHY", Fit::cut_end}});
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
  return "\nRESOLVERS\n" + table.render("  ", width);
}

std::string dns_section(const Report& report, const Paint& paint, std::size_t width) {
  if (report.observations.dns.empty())
    return {};
  // Never cut: answers and expectations (addresses), statuses, the match. EXPECTED goes before
  // anything is cut: MATCH says the same in one word.
  util::Table table(std::vector<Column>{{"HOST", Fit::cut_middle},
                                        {"RESOLVER", Fit::cut_middle},
                                        {"QUERY", Fit::cut_end},
                                        {"TYPE", Fit::keep},
                                        {"STATUS", Fit::keep},
                                        {"ANSWER", Fit::keep},
                                        {"EXPECTED", Fit::keep, 2},
                                        {"MATCH", Fit::keep},
                                        {"TTL", Fit::keep, 3},
                                        {"MS", Fit::keep, 4}});
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
  return "\nDNS\n" + table.render("  ", width);
}

std::string http_section(const Report& report, const Paint& paint, std::size_t width) {
  if (report.observations.http.empty())
    return {};
  util::Table table(std::vector<Column>{{"URL", Fit::cut_middle},
                                        {"VIA", Fit::keep},
                                        {"ADDRESS", Fit::keep},
                                        {"FROM", Fit::cut_end, 1},
                                        {"RESULT", Fit::cut_end},
                                        {"DEPLOYMENT", Fit::cut_middle, 2},
                                        {"MS", Fit::keep, 3}});
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
  return "\nHTTP\n" + table.render("  ", width);
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

// The transport observations of one path (URL, route, address), in check order.
struct TransportRow {
  const probe::TransportObservation* first = nullptr;
  std::vector<const probe::TransportObservation*> checks; // one per transport::all_checks(), or null
};

std::vector<TransportRow> transport_rows(const std::vector<probe::TransportObservation>& observations) {
  std::vector<TransportRow> rows;
  for (const auto& o : observations) {
    bool same_path = !rows.empty() && rows.back().first->base_url == o.base_url && rows.back().first->via == o.via &&
                     rows.back().first->address == o.address;
    if (!same_path)
      rows.push_back({&o, std::vector<const probe::TransportObservation*>(transport::all_checks().size(), nullptr)});
    const auto& all = transport::all_checks();
    auto at = static_cast<std::size_t>(std::find(all.begin(), all.end(), o.check) - all.begin());
    if (at < all.size())
      rows.back().checks[at] = &o;
  }
  return rows;
}

// One column per check: the agent's connection at a glance, when it fits.
util::Table transport_table(const std::vector<TransportRow>& rows, const Paint& paint) {
  std::vector<Column> columns{{"URL", Fit::cut_middle}, {"VIA", Fit::keep}, {"ADDRESS", Fit::keep}};
  for (probe::Check check : transport::all_checks())
    columns.push_back({std::string(transport::to_string(check)), Fit::keep});
  columns.push_back({"CODERD", Fit::cut_end, 1});
  util::Table table(std::move(columns));
  for (const auto& row : rows) {
    std::vector<std::string> cells{row.first->base_url, std::string(probe::to_string(row.first->via)),
                                   row.first->address.text};
    std::vector<std::string> styles(3);
    std::optional<std::string> version;
    for (const auto* o : row.checks) {
      cells.push_back(o != nullptr ? transport_cell(*o) : "-");
      styles.push_back(o == nullptr ? "" : transport::passes(o->status) ? paint(k_green) : paint(k_red));
      if (o != nullptr && !version && o->coderd_version)
        version = o->coderd_version;
    }
    cells.push_back(version.value_or("-"));
    table.add(std::move(cells), std::move(styles));
  }
  return table;
}

// Narrow terminals: one CHECKS cell per path, naming only what failed.
util::Table compact_transport_table(const std::vector<TransportRow>& rows, const Paint& paint) {
  util::Table table(std::vector<Column>{
      {"URL", Fit::cut_middle}, {"VIA", Fit::keep}, {"ADDRESS", Fit::keep}, {"CHECKS", Fit::cut_end}});
  for (const auto& row : rows) {
    // Grouped by outcome, the outcome first: a cut cell still says what went wrong.
    std::vector<std::pair<std::string, std::vector<std::string>>> failed;
    std::size_t passed = 0;
    for (const auto* o : row.checks) {
      if (o == nullptr)
        continue;
      if (transport::passes(o->status)) {
        ++passed;
        continue;
      }
      std::string outcome = transport_cell(*o);
      auto group = std::find_if(failed.begin(), failed.end(), [&](const auto& g) { return g.first == outcome; });
      if (group == failed.end()) {
        failed.push_back({outcome, {}});
        group = std::prev(failed.end());
      }
      group->second.emplace_back(transport::to_string(o->check));
    }
    std::vector<std::string> parts;
    for (const auto& [outcome, checks] : failed)
      parts.push_back(fmt::format("{} ({})", outcome, util::join(checks, ", ")));
    std::string cell = failed.empty() ? fmt::format("all {} pass", passed)
                                      : fmt::format("{}; {} pass", util::join(parts, "; "), passed);
    table.add({row.first->base_url, std::string(probe::to_string(row.first->via)), row.first->address.text, cell},
              {"", "", "", failed.empty() ? paint(k_green) : paint(k_red)});
  }
  return table;
}

std::string transport_section(const Report& report, const Paint& paint, std::size_t width) {
  if (report.observations.transport.empty())
    return {};
  auto rows = transport_rows(report.observations.transport);
  util::Table table = transport_table(rows, paint);
  if (width > 0 && table.natural_width("  ") > width)
    table = compact_transport_table(rows, paint);
  return "\nTRANSPORT\n" + table.render("  ", width);
}

std::string workspaces_section(const Report& report, const Paint& paint, std::size_t width) {
  if (report.workspaces.empty())
    return {};
  util::Table table(std::vector<Column>{
      {"POD", Fit::cut_middle}, {"AGENT HOST", Fit::cut_middle}, {"TARGET", Fit::keep}, {"FROM", Fit::cut_end, 1}});
  for (const auto& agent : report.workspaces)
    table.add({agent.pod, agent.host.empty() ? "-" : agent.host, std::string(k8s::to_string(agent.target)),
               agent.origin.empty() ? "-" : agent.origin},
              {"", "", agent.target == analysis::AgentTarget::external ? paint(k_yellow) : "", ""});
  return "\nWORKSPACES\n" + table.render("  ", width);
}

std::string agents_section(const Report& report, const Paint& paint, std::size_t width) {
  if (!report.agents || report.agents->empty())
    return {};
  util::Table table(std::vector<Column>{{"WORKSPACE", Fit::cut_middle},
                                        {"AGENT", Fit::cut_end, 2},
                                        {"STATUS", Fit::keep},
                                        {"SINCE", Fit::keep, 1},
                                        {"POD", Fit::cut_middle},
                                        {"PATH", Fit::keep},
                                        {"CAUSES", Fit::cut_end}});
  for (const auto& agent : *report.agents) {
    std::vector<std::string> causes;
    for (analysis::Code code : agent.cause_codes)
      causes.emplace_back(analysis::to_string(code));
    bool lost = agent.lost();
    table.add({agent.workspace_path(), agent.agent, std::string(coderapi::to_string(agent.status)),
               agent.since.empty() ? "-" : agent.since, agent.pod.empty() ? "-" : agent.pod,
               std::string(analysis::to_string(agent.path_verdict)), causes.empty() ? "-" : util::join(causes, ",")},
              {"", "", lost ? paint(k_red) : "", "", "",
               agent.path_verdict == analysis::PathVerdict::fails ? paint(k_red) : "", ""});
  }
  return "\nAGENTS (from the Coder API)\n" + table.render("  ", width);
}

// Findings wrap at the width rather than being cut: every word of them matters.
std::string findings_section(const Report& report, const Paint& paint, std::size_t width) {
  std::string out = "\nFINDINGS\n";
  if (report.findings.empty())
    out += "  none: every answer matches the truth and every path is healthy\n";
  const std::string hanging(10, ' ');
  for (const auto& finding : report.findings) {
    const char* tone = finding.severity == analysis::Severity::error     ? k_red
                       : finding.severity == analysis::Severity::warning ? k_yellow
                                                                         : "";
    std::string label =
        fmt::format("{:<7} {}", analysis::to_string(finding.severity), analysis::to_string(finding.code));
    // Wrapped with the plain label as the first line's prefix, then the label coloured in place.
    std::string wrapped = util::wrap(finding.summary, "  " + label + " ", hanging, width);
    // Colour the severity and code (they open the first line, whole, since codes have no spaces).
    out += "  " + paint(tone) + label + paint.reset() + wrapped.substr(2 + label.size());
    for (const auto& line : finding.evidence)
      out += util::wrap(line, hanging + "- ", hanging + "  ", width);
    if (!finding.remediation.empty())
      out += util::wrap(finding.remediation, hanging + "fix: ", hanging + "     ", width);
  }
  return out;
}

} // namespace

std::string to_text(const Report& report, const TextOptions& options) {
  Paint paint{options.colour};
  std::size_t width = options.width;
  std::string out = headline(report, paint) + findings_section(report, paint, width);
  if (options.quiet)
    return out;
  return out + truth_section(report, width) + resolvers_section(report, width) + dns_section(report, paint, width) +
         http_section(report, paint, width) + transport_section(report, paint, width) +
         workspaces_section(report, paint, width) + agents_section(report, paint, width);
}

} // namespace coder_dns_doctor::report
