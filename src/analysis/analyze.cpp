#include <coder_dns_doctor/analysis/analyze.hpp>

#include <coder_dns_doctor/util/strings.hpp>

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace coder_dns_doctor::analysis {
namespace {

using probe::DnsObservation;
using probe::Family;
using probe::HostRole;
using probe::HttpObservation;
using probe::LookupStatus;
using probe::QueryMode;
using probe::Via;

bool is_failure(LookupStatus status) {
  return status == LookupStatus::nxdomain || status == LookupStatus::servfail || status == LookupStatus::refused ||
         status == LookupStatus::timeout || status == LookupStatus::error;
}

// nxdomain is an answer (the name does not exist); the others mean no answer was had.
bool has_no_answer(LookupStatus status) { return is_failure(status) && status != LookupStatus::nxdomain; }

bool is_v6(const std::string& address) { return address.find(':') != std::string::npos; }

std::string addresses_text(const std::vector<std::string>& addresses) {
  return addresses.empty() ? std::string("(none)") : util::join(addresses, ", ");
}

// How an answer reads in evidence: "127.0.50.100 (ttl 30)", "nxdomain", "timeout (...)".
std::string answer_text(const DnsObservation& o) {
  if (o.status == LookupStatus::ok)
    return o.ttl ? fmt::format("{} (ttl {})", addresses_text(o.addresses), *o.ttl) : addresses_text(o.addresses);
  if (o.detail.empty())
    return std::string(probe::to_string(o.status));
  return fmt::format("{} ({})", probe::to_string(o.status), o.detail);
}

std::string truth_sources(const truth::Truth& truth, const std::string& host) {
  std::vector<std::string> sources;
  for (const auto& entry : truth.entries)
    if (entry.host == host)
      sources.push_back(entry.source);
  return util::join(sources, ", ");
}

std::string resolver_servers(const DnsObservation& o) { return util::join(o.servers, ","); }

std::vector<const DnsObservation*> absolute_answers(const probe::Observations& observations) {
  std::vector<const DnsObservation*> out;
  for (const auto& o : observations.dns)
    if (o.mode == QueryMode::absolute)
      out.push_back(&o);
  return out;
}

void check_mismatches(const probe::Plan& plan, const probe::Observations& observations, const truth::Truth& truth,
                      std::vector<Finding>& findings) {
  std::map<std::string, std::vector<const DnsObservation*>> wrong_by_host;
  for (const DnsObservation* o : absolute_answers(observations))
    if (o->match == false && !is_failure(o->status))
      wrong_by_host[o->host].push_back(o);
  for (const auto& [host, wrong] : wrong_by_host) {
    HostRole role = plan.role_of(host);
    Finding finding;
    finding.severity = Severity::error;
    std::set<std::string> resolvers;
    for (const DnsObservation* o : wrong) {
      resolvers.insert(o->resolver);
      finding.evidence.push_back(fmt::format("resolver {} ({}) {} {}: {}; expected {}", o->resolver,
                                             resolver_servers(*o), host, probe::to_string(o->family),
                                             answer_text(*o), addresses_text(o->expected)));
    }
    finding.evidence.push_back(fmt::format("truth for {}: {} from {}", host, addresses_text(truth.addresses_for(host)),
                                           truth_sources(truth, host)));
    std::string who = util::join({resolvers.begin(), resolvers.end()}, ", ");
    switch (role) {
    case HostRole::external:
      finding.code = Code::external_dns_mismatch;
      finding.summary = fmt::format("{} resolves to the wrong address via {}", host, who);
      finding.remediation = fmt::format(
          "Fix or remove the stale record for {} on the DNS server behind resolver(s) {} (CoreDNS forwards it "
          "upstream), or point workspace agents at the internal URL with `coder-dns-doctor patch`.",
          host, who);
      break;
    case HostRole::internal:
      finding.code = Code::internal_dns_mismatch;
      finding.summary = fmt::format("{} does not resolve to the Coder Service's ClusterIP via {}", host, who);
      finding.remediation = fmt::format(
          "Check the Coder Service and CoreDNS: {} must resolve to the Service's ClusterIP; look for a stub "
          "domain, rewrite rule or hosts entry that overrides it.",
          host);
      break;
    case HostRole::extra:
      finding.code = Code::host_dns_mismatch;
      finding.summary = fmt::format("{} resolves outside its expected addresses via {}", host, who);
      finding.remediation = fmt::format("Correct the record for {} on the DNS server behind resolver(s) {}.", host, who);
      break;
    }
    findings.push_back(std::move(finding));
  }
}

void check_failures(const probe::Observations& observations, std::vector<Finding>& findings) {
  std::map<std::string, std::vector<const DnsObservation*>> failed_by_host;
  for (const DnsObservation* o : absolute_answers(observations))
    if (is_failure(o->status))
      failed_by_host[o->host].push_back(o);
  for (const auto& [host, failed] : failed_by_host) {
    Finding finding;
    finding.code = Code::dns_lookup_failed;
    finding.severity = Severity::error;
    std::set<std::string> resolvers;
    std::set<std::string_view> statuses;
    for (const DnsObservation* o : failed) {
      resolvers.insert(o->resolver);
      statuses.insert(probe::to_string(o->status));
      finding.evidence.push_back(fmt::format("resolver {} ({}) {} {}: {} after {:.0f} ms", o->resolver,
                                             resolver_servers(*o), host, probe::to_string(o->family),
                                             answer_text(*o), o->duration_ms));
    }
    finding.summary = fmt::format("looking up {} failed ({}) via {}", host,
                                  util::join({statuses.begin(), statuses.end()}, ", "),
                                  util::join({resolvers.begin(), resolvers.end()}, ", "));
    finding.remediation =
        statuses.count("nxdomain") != 0
            ? fmt::format("Create the record for {} (or fix the Service/Ingress name) on the authoritative server, "
                          "then check again after the negative-cache TTL.",
                          host)
            : fmt::format("Make the DNS servers of resolver(s) {} reachable and answering (check CoreDNS pods, "
                          "NetworkPolicies and the upstream in the Corefile's forward plugin).",
                          util::join({resolvers.begin(), resolvers.end()}, ", "));
    findings.push_back(std::move(finding));
  }
}

void check_disagreement(const probe::Observations& observations, const truth::Truth& truth,
                        std::vector<Finding>& findings) {
  // host -> family -> answer text -> resolvers
  std::map<std::string, std::map<Family, std::map<std::string, std::vector<const DnsObservation*>>>> groups;
  for (const DnsObservation* o : absolute_answers(observations)) {
    if (has_no_answer(o->status))
      continue; // a silent server is a lookup failure, not an opinion
    std::string key = o->status == LookupStatus::ok ? addresses_text(o->addresses) : std::string(probe::to_string(o->status));
    groups[o->host][o->family][key].push_back(o);
  }
  for (const auto& [host, by_family] : groups) {
    Finding finding;
    finding.code = Code::resolver_disagreement;
    bool known = truth.knows(host);
    std::set<std::string> agreeing;
    std::set<std::string> disagreeing;
    for (const auto& [family, by_answer] : by_family) {
      if (by_answer.size() < 2)
        continue;
      for (const auto& [answer, list] : by_answer) {
        std::vector<std::string> names;
        for (const DnsObservation* o : list) {
          names.push_back(o->resolver);
          (o->match == true ? agreeing : disagreeing).insert(o->resolver);
        }
        finding.evidence.push_back(fmt::format("{} {}: {} answer {}", host, probe::to_string(family),
                                               util::join(names, ", "), answer));
      }
    }
    if (finding.evidence.empty())
      continue;
    for (const auto& name : agreeing)
      disagreeing.erase(name);
    if (known) {
      finding.severity = Severity::error;
      finding.evidence.push_back(agreeing.empty()
                                     ? fmt::format("no resolver agrees with the truth for {}", host)
                                     : fmt::format("agrees with the truth: {}", util::join({agreeing.begin(), agreeing.end()}, ", ")));
      finding.summary = fmt::format("resolvers disagree about {}; {} right", host,
                                    agreeing.empty() ? std::string("none is")
                                                     : util::join({agreeing.begin(), agreeing.end()}, ", ") +
                                                           (agreeing.size() == 1 ? " is" : " are"));
      finding.remediation = fmt::format("Make resolver(s) {} serve what {} serve(s) for {}.",
                                        util::join({disagreeing.begin(), disagreeing.end()}, ", "),
                                        agreeing.empty() ? std::string("the truth") : util::join({agreeing.begin(), agreeing.end()}, ", "),
                                        host);
    } else {
      finding.severity = Severity::warning;
      finding.summary = fmt::format("resolvers disagree about {} and no truth says which is right", host);
      finding.remediation = fmt::format(
          "Tell coder-dns-doctor the right addresses (--expect {}=ADDR or Kubernetes access) so it can name the "
          "stale resolver.",
          host);
    }
    findings.push_back(std::move(finding));
  }
}

void check_shadowing(const probe::Observations& observations, std::vector<Finding>& findings) {
  std::map<std::string, Finding> by_host;
  for (const auto& search : observations.dns) {
    if (search.mode != QueryMode::search || search.name == search.host + ".")
      continue;
    for (const auto& absolute : observations.dns) {
      if (absolute.mode != QueryMode::absolute || absolute.host != search.host ||
          absolute.resolver != search.resolver || absolute.family != search.family)
        continue;
      if (absolute.status == search.status && absolute.addresses == search.addresses)
        continue;
      Finding& finding = by_host[search.host];
      finding.code = Code::search_shadowing;
      finding.severity = Severity::error;
      std::string suffix = search.name.substr(search.host.size() + 1);
      if (!suffix.empty() && suffix.back() == '.')
        suffix.pop_back();
      finding.summary = fmt::format("the relative name {} is answered by {} through the search list", search.host,
                                    search.name);
      finding.evidence.push_back(fmt::format("resolver {} {}: relative name -> {} answered {}; absolute {} answered {}",
                                             search.resolver, probe::to_string(search.family), search.name,
                                             answer_text(search), absolute.name, answer_text(absolute)));
      finding.remediation = fmt::format(
          "Remove the record (or wildcard) that answers {} under the search domain {}, or make clients use the "
          "absolute name {} (trailing dot) or lower ndots.",
          search.name, suffix, search.host + ".");
    }
  }
  for (auto& [host, finding] : by_host)
    findings.push_back(std::move(finding));
}

std::string path_text(const HttpObservation& o) {
  std::string route = std::string(probe::to_string(o.via));
  if (!o.resolvers.empty())
    route += " from " + util::join(o.resolvers, ",");
  std::string result = o.ok ? fmt::format("HTTP {}", o.status_code.value_or(0)) : o.error.value_or("failed");
  return fmt::format("{} via {} at {}: {}", o.url, route, o.address, result);
}

void check_health(const probe::Plan& plan, const probe::Observations& observations, std::vector<Finding>& findings) {
  for (const auto& url : plan.urls) {
    std::string base = url.url.to_string();
    std::vector<const HttpObservation*> paths;
    for (const auto& o : observations.http)
      if (o.base_url == base && o.endpoint == probe::Endpoint::healthz)
        paths.push_back(&o);
    if (paths.empty())
      continue;
    std::vector<const HttpObservation*> failing_dns;
    std::vector<const HttpObservation*> working;
    for (const HttpObservation* o : paths) {
      if (o->ok)
        working.push_back(o);
      else if (o->via != Via::pinned)
        failing_dns.push_back(o);
    }
    if (working.empty()) {
      Finding finding{.code = Code::healthz_down,
                      .severity = Severity::error,
                      .summary = fmt::format("{}/healthz fails through every path ({})", base, paths.size()),
                      .evidence = {},
                      .remediation = fmt::format(
                          "Check the Coder pods and the ingress behind {}: no address answers /healthz with OK "
                          "(kubectl -n <coder namespace> get pods,endpoints; ingress controller logs).",
                          url.url.host)};
      for (const HttpObservation* o : paths)
        finding.evidence.push_back(path_text(*o));
      findings.push_back(std::move(finding));
    } else if (!failing_dns.empty()) {
      Finding finding{.code = Code::healthz_fails_via_dns,
                      .severity = Severity::error,
                      .summary = fmt::format("{}/healthz fails at the address DNS gives but works at {}", base,
                                             working.front()->address),
                      .evidence = {},
                      .remediation = fmt::format(
                          "DNS is the cause: the server is up at {} but clients are sent to {}. Fix the record for {} "
                          "or point agents at the internal URL (`coder-dns-doctor patch`).",
                          working.front()->address, failing_dns.front()->address, url.url.host)};
      for (const HttpObservation* o : failing_dns)
        finding.evidence.push_back(path_text(*o));
      for (const HttpObservation* o : working)
        finding.evidence.push_back(path_text(*o));
      findings.push_back(std::move(finding));
    }
  }
}

void check_deployments(const probe::Observations& observations, std::vector<Finding>& findings) {
  std::map<std::string, std::vector<const HttpObservation*>> by_deployment;
  for (const auto& o : observations.http)
    if (o.ok && o.deployment_id)
      by_deployment[*o.deployment_id].push_back(&o);
  if (by_deployment.size() < 2)
    return;
  Finding finding;
  finding.code = Code::deployment_mismatch;
  finding.severity = Severity::error;
  std::vector<std::string> ids;
  for (const auto& [id, paths] : by_deployment) {
    ids.push_back(id);
    for (const HttpObservation* o : paths)
      finding.evidence.push_back(fmt::format("deployment_id {}: {}", id, path_text(*o)));
  }
  finding.summary = fmt::format("paths reach different Coder deployments ({})", util::join(ids, ", "));
  finding.remediation =
      "Make the external and the internal URL reach the same coderd: check which Service the ingress backend "
      "names and whether an old deployment still answers at one of the addresses.";
  findings.push_back(std::move(finding));
}

} // namespace

probe::Observations annotate(probe::Observations observations, const truth::Truth& truth) {
  for (auto& o : observations.dns) {
    o.expected.clear();
    o.match.reset();
    if (!truth.knows(o.host))
      continue;
    for (const auto& address : truth.addresses_for(o.host))
      if (is_v6(address) == (o.family == Family::aaaa))
        o.expected.push_back(address);
    if (has_no_answer(o.status))
      continue;
    if (o.status == LookupStatus::ok)
      o.match = std::all_of(o.addresses.begin(), o.addresses.end(), [&](const std::string& address) {
        return std::binary_search(o.expected.begin(), o.expected.end(), address);
      });
    else
      o.match = o.expected.empty(); // nxdomain / nodata: right only when nothing is expected
  }
  return observations;
}

std::vector<Finding> analyze(const probe::Plan& plan, const probe::Observations& observations,
                             const truth::Truth& truth) {
  std::vector<Finding> findings;
  check_mismatches(plan, observations, truth, findings);
  check_failures(observations, findings);
  check_disagreement(observations, truth, findings);
  check_shadowing(observations, findings);
  check_health(plan, observations, findings);
  check_deployments(observations, findings);
  std::stable_sort(findings.begin(), findings.end(),
                   [](const Finding& a, const Finding& b) { return a.severity > b.severity; });
  return findings;
}

} // namespace coder_dns_doctor::analysis
