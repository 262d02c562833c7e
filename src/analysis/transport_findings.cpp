#include <coder_dns_doctor/analysis/transport_findings.hpp>

#include <coder_dns_doctor/analysis/remedies.hpp>
#include <coder_dns_doctor/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>

namespace coder_dns_doctor::analysis {
namespace {

using probe::Check;
using probe::HostRole;
using probe::HttpObservation;
using probe::TransportObservation;
using probe::TransportStatus;
using probe::Via;

// One path: a URL through one route to one address, with everything checked on it.
struct Path {
  const HttpObservation* healthz = nullptr;
  std::vector<const HttpObservation*> http;
  std::map<Check, const TransportObservation*> transport;
};

using PathKey = std::tuple<std::string, Via, util::IpAddress>; // base URL, route, address

std::map<PathKey, Path> paths_of(const probe::Observations& observations) {
  std::map<PathKey, Path> paths;
  for (const auto& o : observations.http) {
    Path& path = paths[{o.base_url, o.via, o.address}];
    path.http.push_back(&o);
    if (o.endpoint == probe::Endpoint::healthz)
      path.healthz = &o;
  }
  for (const auto& o : observations.transport)
    paths[{o.base_url, o.via, o.address}].transport[o.check] = &o;
  return paths;
}

// A check that ran and did not pass (not_bundled is informational: it passes).
bool failed(const Path& path, Check check) {
  auto found = path.transport.find(check);
  return found != path.transport.end() && !transport::passes(found->second->status);
}

bool passed(const Path& path, Check check) {
  auto found = path.transport.find(check);
  return found != path.transport.end() && transport::passes(found->second->status);
}

std::string transport_line(const TransportObservation& o) {
  std::string route = std::string(probe::to_string(o.via));
  if (!o.resolvers.empty())
    route += " from " + util::join(o.resolvers, ",");
  std::string result = std::string(transport::to_string(o.status));
  if (!o.detail.empty())
    result += ": " + o.detail;
  return fmt::format("{} {} via {} at {}: {}", transport::to_string(o.check), o.url, route, o.address, result);
}

std::string internal_base(const probe::Plan& plan) {
  const probe::UrlPlan* internal = plan.url_for(HostRole::internal);
  return internal != nullptr ? internal->url.to_string() : std::string();
}

std::string host_of(const probe::Plan& plan, const std::string& base) {
  for (const auto& url : plan.urls)
    if (url.url.to_string() == base)
      return url.url.host;
  return {};
}

// The evidence of each path of `paths` where `applies` holds, per base URL.
template <class Predicate, class Lines>
std::map<std::string, std::vector<std::string>> evidence_by_url(const std::map<PathKey, Path>& paths, Predicate applies,
                                                                Lines lines) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [key, path] : paths)
    if (applies(path))
      for (std::string& line : lines(path))
        out[std::get<0>(key)].push_back(std::move(line));
  return out;
}

bool cut_while_held(const Path& path);

// A WebSocket check that did not get through: failed, and not a held connection cut later (that
// got through, and is TRANSPORT_CUT_BY_PROXY's).
bool blocked(const Path& path, Check check) {
  return failed(path, check) && !(check == Check::derp_websocket && cut_while_held(path));
}

// The evidence lines of the checks among `checks` that `counts` holds for.
std::vector<std::string> lines_for(const Path& path, std::initializer_list<Check> checks,
                                   bool (*counts)(const Path&, Check)) {
  std::vector<std::string> lines;
  for (Check check : checks)
    if (counts(path, check))
      lines.push_back(transport_line(*path.transport.at(check)));
  return lines;
}

void check_blocked(const probe::Plan& plan, const std::map<PathKey, Path>& paths, std::vector<Finding>& findings) {
  auto by_url = evidence_by_url(
      paths,
      [](const Path& path) {
        return path.healthz != nullptr && path.healthz->ok &&
               (blocked(path, Check::derp_map_websocket) || blocked(path, Check::derp_websocket));
      },
      [](const Path& path) {
        return lines_for(path, {Check::derp_map_websocket, Check::derp_websocket}, blocked);
      });
  for (auto& [base, evidence] : by_url) {
    std::size_t count = evidence.size();
    findings.push_back({.code = Code::agent_transport_blocked,
                        .severity = Severity::error,
                        .summary = fmt::format("{}: /healthz works, but WebSockets do not get through ({} failed "
                                               "check(s)): agents cannot hold their connection",
                                               base, count),
                        .evidence = std::move(evidence),
                        .remediation = remediation(Code::agent_transport_blocked,
                                                   {.host = host_of(plan, base), .url = internal_base(plan)}),
                        .hosts = {host_of(plan, base)}});
  }
}

void check_derp_upgrade(const probe::Plan& plan, const std::map<PathKey, Path>& paths, std::vector<Finding>& findings) {
  auto by_url = evidence_by_url(
      paths, [](const Path& path) { return passed(path, Check::derp_websocket) && failed(path, Check::derp_upgrade); },
      [](const Path& path) { return lines_for(path, {Check::derp_upgrade}, failed); });
  for (auto& [base, evidence] : by_url) {
    std::size_t count = evidence.size();
    findings.push_back({.code = Code::derp_upgrade_blocked,
                        .severity = Severity::warning,
                        .summary = fmt::format("{}: `Upgrade: DERP` fails where the DERP WebSocket works ({} "
                                               "path(s)): agents relay over WebSockets instead",
                                               base, count),
                        .evidence = std::move(evidence),
                        .remediation = remediation(Code::derp_upgrade_blocked, {.host = host_of(plan, base)}),
                        .hosts = {host_of(plan, base)}});
  }
}

bool cut_while_held(const Path& path) {
  auto found = path.transport.find(Check::derp_websocket);
  return found != path.transport.end() && found->second->held_s &&
         found->second->status == TransportStatus::closed_early;
}

void check_cut(const probe::Plan& plan, const std::map<PathKey, Path>& paths, const std::vector<HeldConnection>& held,
               std::vector<Finding>& findings) {
  auto cut = evidence_by_url(paths, cut_while_held, [](const Path& path) {
    return std::vector<std::string>{transport_line(*path.transport.at(Check::derp_websocket))};
  });
  for (const HeldConnection& connection : held)
    if (auto line = held_cut_line(connection))
      cut[connection.url].push_back(std::move(*line));
  for (auto& [base, evidence] : cut) {
    std::size_t count = evidence.size();
    findings.push_back({.code = Code::transport_cut_by_proxy,
                        .severity = Severity::error,
                        .summary = fmt::format("{}: a held DERP connection was closed before the hold ended ({} "
                                               "path(s)): an idle timeout on the path cuts relay links",
                                               base, count),
                        .evidence = std::move(evidence),
                        .remediation = remediation(Code::transport_cut_by_proxy,
                                                   {.host = host_of(plan, base), .url = internal_base(plan)}),
                        .hosts = {host_of(plan, base)}});
  }
}

// What one address's answers say about who answered.
struct Identity {
  bool answered_2xx = false;
  bool carries_version = false;
  std::vector<std::string> lines;
};

Identity identity_of(const Path& path) {
  Identity identity;
  auto note = [&](std::optional<long> code, const std::optional<std::string>& version, const std::string& url) {
    if (!code)
      return;
    identity.answered_2xx = identity.answered_2xx || (*code >= 200 && *code < 300);
    identity.carries_version = identity.carries_version || version.has_value();
    identity.lines.push_back(fmt::format("{}: HTTP {} without X-Coder-Build-Version", url, *code));
  };
  for (const HttpObservation* o : path.http)
    note(o->status_code, o->coderd_version, o->url);
  for (const auto& [check, o] : path.transport)
    if (check != Check::derp_upgrade || o->status_code != 101) // coderd's raw DERP 101 has no such header
      note(o->status_code, o->coderd_version, o->url);
  return identity;
}

void check_identity(const probe::Plan& plan, const std::map<PathKey, Path>& paths, std::vector<Finding>& findings) {
  std::map<std::string, std::vector<std::string>> evidence;
  std::map<std::string, std::vector<util::IpAddress>> impostors;
  std::map<std::string, std::vector<util::IpAddress>> genuine;
  for (const auto& [key, path] : paths) {
    const auto& [base, via, address] = key;
    Identity identity = identity_of(path);
    if (identity.carries_version) {
      genuine[base].push_back(address);
    } else if (identity.answered_2xx) {
      impostors[base].push_back(address);
      for (std::string& line : identity.lines)
        evidence[base].push_back(fmt::format("via {} at {}: {}", probe::to_string(via), address, std::move(line)));
    }
  }
  for (auto& [base, lines] : evidence) {
    util::sort_unique(impostors[base]);
    util::sort_unique(genuine[base]);
    findings.push_back(
        {.code = Code::not_coderd,
         .severity = Severity::error,
         .summary = fmt::format("{} answers at {} without coderd's X-Coder-Build-Version: that is not coderd", base,
                                addresses_text(impostors[base])),
         .evidence = std::move(lines),
         .remediation = remediation(
             Code::not_coderd,
             {.host = host_of(plan, base), .wrong = util::texts(impostors[base]), .right = util::texts(genuine[base])}),
         .hosts = {host_of(plan, base)}});
  }
}

} // namespace

std::optional<std::string> held_cut_line(const HeldConnection& held) {
  std::size_t count = held.early_closes_s.size();
  if (count < k_early_closes_for_cut)
    return std::nullopt;
  auto [shortest, longest] = std::minmax_element(held.early_closes_s.begin(), held.early_closes_s.end());
  std::string lived = *longest - *shortest < 0.05 ? fmt::format("{:.1f} s", *shortest)
                                                  : fmt::format("{:.1f}-{:.1f} s", *shortest, *longest);
  return fmt::format("held derp-websocket {} via {} at {}: closed after {}, {} times (serve holds one connection "
                     "per path; --hold-min {:.0f} s)",
                     held.url, probe::to_string(held.via), held.address, lived, count, held.hold_min_s);
}

std::vector<Finding> check_transport(const probe::Plan& plan, const probe::Observations& observations,
                                     const std::vector<HeldConnection>& held) {
  std::vector<Finding> findings;
  auto paths = paths_of(observations);
  check_identity(plan, paths, findings);
  check_blocked(plan, paths, findings);
  check_derp_upgrade(plan, paths, findings);
  check_cut(plan, paths, held, findings);
  return findings;
}

} // namespace coder_dns_doctor::analysis
