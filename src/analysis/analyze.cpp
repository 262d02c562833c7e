#include <coder_dns_doctor/analysis/analyze.hpp>
#include <coder_dns_doctor/analysis/remedies.hpp>

#include <coder_dns_doctor/util/address.hpp>
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
bool has_no_answer(LookupStatus status) {
  return is_failure(status) && status != LookupStatus::nxdomain;
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

std::string resolver_servers(const DnsObservation& o) {
  return util::join(o.servers, ",");
}

std::vector<const DnsObservation*> absolute_answers(const probe::Observations& observations) {
  std::vector<const DnsObservation*> out;
  for (const auto& o : observations.dns)
    if (o.mode == QueryMode::absolute)
      out.push_back(&o);
  return out;
}

// The annotation of `o`, an element of `observations.dns`: annotations are index-aligned with it.
const Annotation& note_of(const probe::Observations& observations, const std::vector<Annotation>& annotations,
                          const DnsObservation* o) {
  return annotations.at(static_cast<std::size_t>(o - observations.dns.data()));
}

// Whether `o` is a cluster-only name's "I cannot know it" from a resolver that cannot: an
// NXDOMAIN, REFUSED or NODATA from an external resolver. Neither a failure nor an opinion.
bool excused(const DnsObservation& o) {
  return o.outside_scope &&
         (o.status == LookupStatus::nxdomain || o.status == LookupStatus::refused || o.status == LookupStatus::nodata);
}

void check_mismatches(const probe::Plan& plan, const probe::Observations& observations,
                      const std::vector<Annotation>& annotations, const truth::Truth& truth,
                      std::vector<Finding>& findings) {
  std::map<std::string, std::vector<const DnsObservation*>> wrong_by_host;
  for (const DnsObservation* o : absolute_answers(observations))
    if (note_of(observations, annotations, o).match == false && !is_failure(o->status) && !excused(*o))
      wrong_by_host[o->host].push_back(o);
  for (const auto& [host, wrong] : wrong_by_host) {
    HostRole role = plan.role_of(host);
    Finding finding;
    finding.severity = Severity::error;
    std::set<std::string> resolvers;
    for (const DnsObservation* o : wrong) {
      resolvers.insert(o->resolver);
      finding.evidence.push_back(fmt::format("resolver {} ({}) {} {}: {}; expected {}", o->resolver,
                                             resolver_servers(*o), host, probe::to_string(o->family), answer_text(*o),
                                             addresses_text(note_of(observations, annotations, o).expected)));
    }
    finding.evidence.push_back(fmt::format("truth for {}: {} from {}", host, addresses_text(truth.addresses_for(host)),
                                           truth_sources(truth, host)));
    std::string who = util::join({resolvers.begin(), resolvers.end()}, ", ");
    Subject subject{.host = host, .wrong = {resolvers.begin(), resolvers.end()}};
    switch (role) {
    case HostRole::external:
      finding.code = Code::external_dns_mismatch;
      finding.summary = fmt::format("{} resolves to the wrong address via {}", host, who);
      break;
    case HostRole::internal:
      finding.code = Code::internal_dns_mismatch;
      finding.summary = fmt::format("{} does not resolve to the Coder Service's ClusterIP via {}", host, who);
      break;
    case HostRole::extra:
      finding.code = Code::host_dns_mismatch;
      finding.summary = fmt::format("{} resolves outside its expected addresses via {}", host, who);
      break;
    }
    finding.remediation = remediation(finding.code, subject);
    finding.hosts = {host};
    findings.push_back(std::move(finding));
  }
}

void check_failures(const probe::Observations& observations, std::vector<Finding>& findings) {
  std::map<std::string, std::vector<const DnsObservation*>> failed_by_host;
  std::map<std::string, std::vector<const DnsObservation*>> excused_by_host;
  for (const DnsObservation* o : absolute_answers(observations)) {
    if (excused(*o))
      excused_by_host[o->host].push_back(o);
    else if (is_failure(o->status))
      failed_by_host[o->host].push_back(o);
  }
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
                                             resolver_servers(*o), host, probe::to_string(o->family), answer_text(*o),
                                             o->duration_ms));
    }
    finding.summary =
        fmt::format("looking up {} failed ({}) via {}", host, util::join({statuses.begin(), statuses.end()}, ", "),
                    util::join({resolvers.begin(), resolvers.end()}, ", "));
    finding.remediation = remediation(
        Code::dns_lookup_failed,
        {.host = host, .wrong = {resolvers.begin(), resolvers.end()}, .nxdomain = statuses.count("nxdomain") != 0});
    finding.hosts = {host};
    findings.push_back(std::move(finding));
  }
  for (const auto& [host, answers] : excused_by_host) {
    std::set<std::string> resolvers;
    Finding finding{.code = Code::resolver_out_of_scope, .severity = Severity::info};
    for (const DnsObservation* o : answers) {
      resolvers.insert(o->resolver);
      finding.evidence.push_back(fmt::format("resolver {} ({}, scope external) {} {}: {}", o->resolver,
                                             resolver_servers(*o), host, probe::to_string(o->family), answer_text(*o)));
    }
    std::string who = util::join({resolvers.begin(), resolvers.end()}, ", ");
    finding.summary = fmt::format("{} cannot know cluster names: no answer for {} from it is a failure "
                                  "(no cluster-scoped resolver was given)",
                                  who, host);
    finding.remediation =
        remediation(Code::resolver_out_of_scope, {.host = host, .wrong = {resolvers.begin(), resolvers.end()}});
    findings.push_back(std::move(finding));
  }
}

// family -> answer text ("127.0.0.1, 127.0.0.2" or a status) -> the observations that gave it
using AnswersByFamily = std::map<Family, std::map<std::string, std::vector<const DnsObservation*>>>;

// Whether each resolver that answered agrees with the truth: only when every family it answered
// matches; one family off the truth is enough to be wrong.
std::map<std::string, bool> agreement(const probe::Observations& observations,
                                      const std::vector<Annotation>& annotations, const AnswersByFamily& by_family) {
  std::map<std::string, bool> on_truth;
  for (const auto& [family, by_answer] : by_family)
    for (const auto& [answer, list] : by_answer)
      for (const DnsObservation* o : list) {
        bool right = note_of(observations, annotations, o).match == true;
        auto [entry, added] = on_truth.emplace(o->resolver, right);
        if (!added)
          entry->second = entry->second && right;
      }
  return on_truth;
}

// One evidence line per distinct answer of each family that got more than one; empty when every
// family got one answer only.
std::vector<std::string> differing_answers(const std::string& host, const AnswersByFamily& by_family) {
  std::vector<std::string> evidence;
  for (const auto& [family, by_answer] : by_family) {
    if (by_answer.size() < 2)
      continue;
    for (const auto& [answer, list] : by_answer) {
      std::vector<std::string> names;
      for (const DnsObservation* o : list)
        names.push_back(o->resolver);
      evidence.push_back(
          fmt::format("{} {}: {} answer {}", host, probe::to_string(family), util::join(names, ", "), answer));
    }
  }
  return evidence;
}

// RESOLVER_DISAGREEMENT for `host`: an error naming who is right when the truth knows the host,
// a warning otherwise.
Finding disagreement_finding(const std::string& host, const truth::Truth& truth, std::vector<std::string> evidence,
                             const std::map<std::string, bool>& on_truth) {
  Finding finding{.code = Code::resolver_disagreement, .evidence = std::move(evidence)};
  finding.hosts = {host};
  if (!truth.knows(host)) {
    finding.severity = Severity::warning;
    finding.summary = fmt::format("resolvers disagree about {} and no truth says which is right", host);
    finding.remediation = remediation(Code::resolver_disagreement, {.host = host});
    return finding;
  }
  std::vector<std::string> agreeing;
  std::vector<std::string> disagreeing;
  for (const auto& [resolver, right] : on_truth)
    (right ? agreeing : disagreeing).push_back(resolver);
  finding.severity = Severity::error;
  finding.evidence.push_back(agreeing.empty() ? fmt::format("no resolver agrees with the truth for {}", host)
                                              : fmt::format("agrees with the truth: {}", util::join(agreeing, ", ")));
  finding.summary = fmt::format(
      "resolvers disagree about {}; {} right", host,
      agreeing.empty() ? std::string("none is") : util::join(agreeing, ", ") + (agreeing.size() == 1 ? " is" : " are"));
  finding.remediation =
      remediation(Code::resolver_disagreement, {.host = host, .wrong = disagreeing, .right = agreeing});
  return finding;
}

void check_disagreement(const probe::Observations& observations, const std::vector<Annotation>& annotations,
                        const truth::Truth& truth, std::vector<Finding>& findings) {
  std::map<std::string, AnswersByFamily> groups; // host -> its answers
  for (const DnsObservation* o : absolute_answers(observations)) {
    if (has_no_answer(o->status) || excused(*o))
      continue; // a silent server is a lookup failure, an out-of-scope resolver no opinion
    std::string key =
        o->status == LookupStatus::ok ? addresses_text(o->addresses) : std::string(probe::to_string(o->status));
    groups[o->host][o->family][key].push_back(o);
  }
  for (const auto& [host, by_family] : groups) {
    std::vector<std::string> evidence = differing_answers(host, by_family);
    if (evidence.empty())
      continue;
    findings.push_back(
        disagreement_finding(host, truth, std::move(evidence), agreement(observations, annotations, by_family)));
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
      finding.summary =
          fmt::format("the relative name {} is answered by {} through the search list", search.host, search.name);
      finding.evidence.push_back(fmt::format("resolver {} {}: relative name -> {} answered {}; absolute {} answered {}",
                                             search.resolver, probe::to_string(search.family), search.name,
                                             answer_text(search), absolute.name, answer_text(absolute)));
      finding.remediation =
          remediation(Code::search_shadowing, {.host = search.host, .name = search.name, .suffix = suffix});
      finding.hosts = {search.host};
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

// Whether every resolver that sent a request to this address read it from a hosts file: the path
// is the hosts file's doing (HOSTS_FILE_OVERRIDE), not DNS's.
bool only_from_hosts_file(const HttpObservation& o) {
  return !o.resolvers.empty() && std::all_of(o.resolvers.begin(), o.resolvers.end(),
                                             [](const std::string& label) { return label.ends_with("/hosts"); });
}

bool internal_healthy(const probe::Plan& plan, const probe::Observations& observations) {
  const probe::UrlPlan* internal = plan.url_for(HostRole::internal);
  if (internal == nullptr)
    return false;
  std::string base = internal->url.to_string();
  return std::any_of(observations.http.begin(), observations.http.end(), [&](const HttpObservation& o) {
    return o.base_url == base && o.endpoint == probe::Endpoint::healthz && o.ok;
  });
}

// Hairpin: the external URL got no HTTP answer at any address, pinned truth addresses included,
// while the internal URL works. A path that answered (503, 404) means the ingress is reachable.
bool is_hairpin(const probe::Plan& plan, const probe::Observations& observations, const probe::UrlPlan& url,
                const std::vector<const HttpObservation*>& paths) {
  if (url.role != HostRole::external)
    return false;
  bool pinned = std::any_of(paths.begin(), paths.end(), [](const HttpObservation* o) { return o->via == Via::pinned; });
  bool answered =
      std::any_of(paths.begin(), paths.end(), [](const HttpObservation* o) { return o->status_code.has_value(); });
  return pinned && !answered && internal_healthy(plan, observations);
}

// The /healthz requests of one URL, split by outcome.
struct HealthPaths {
  std::vector<const HttpObservation*> all;
  std::vector<const HttpObservation*> working;
  std::vector<const HttpObservation*> failing_dns; // failed through DNS (not pinned, not only the hosts file)
};

HealthPaths health_paths(const probe::Observations& observations, const std::string& base) {
  HealthPaths paths;
  for (const auto& o : observations.http) {
    if (o.base_url != base || o.endpoint != probe::Endpoint::healthz)
      continue;
    paths.all.push_back(&o);
    if (o.ok)
      paths.working.push_back(&o);
    else if (o.via != Via::pinned && !only_from_hosts_file(o))
      paths.failing_dns.push_back(&o);
  }
  return paths;
}

std::vector<std::string> path_lines(const std::vector<const HttpObservation*>& paths) {
  std::vector<std::string> lines;
  for (const HttpObservation* o : paths)
    lines.push_back(path_text(*o));
  return lines;
}

void check_health(const probe::Plan& plan, const probe::Observations& observations, std::vector<Finding>& findings) {
  const probe::UrlPlan* internal = plan.url_for(HostRole::internal);
  std::string internal_base = internal != nullptr ? internal->url.to_string() : std::string();
  for (const auto& url : plan.urls) {
    std::string base = url.url.to_string();
    HealthPaths paths = health_paths(observations, base);
    if (paths.all.empty())
      continue;
    if (paths.working.empty() && is_hairpin(plan, observations, url, paths.all)) {
      findings.push_back(
          {.code = Code::ingress_unreachable_in_cluster,
           .severity = Severity::error,
           .summary = fmt::format("{} is unreachable from here at every address, its truth included, "
                                  "while {} works: the ingress cannot be reached from inside the cluster",
                                  base, internal_base),
           .evidence = path_lines(paths.all),
           .remediation =
               remediation(Code::ingress_unreachable_in_cluster, {.host = url.url.host, .url = internal_base}),
           .hosts = {url.url.host}});
    } else if (paths.working.empty()) {
      bool internal_works = url.role == HostRole::external && internal_healthy(plan, observations);
      findings.push_back(
          {.code = Code::healthz_down,
           .severity = Severity::error,
           .summary = fmt::format("{}/healthz fails through every path ({})", base, paths.all.size()),
           .evidence = path_lines(paths.all),
           .remediation = remediation(Code::healthz_down, {.host = url.url.host, .internal_works = internal_works}),
           .hosts = {url.url.host}});
    } else if (!paths.failing_dns.empty()) {
      std::vector<std::string> evidence = path_lines(paths.failing_dns);
      for (std::string& line : path_lines(paths.working))
        evidence.push_back(std::move(line));
      const util::IpAddress& wrong = paths.failing_dns.front()->address;
      const util::IpAddress& right = paths.working.front()->address;
      findings.push_back(
          {.code = Code::healthz_fails_via_dns,
           .severity = Severity::error,
           .summary = fmt::format("{}/healthz fails at the address DNS gives but works at {}", base, right),
           .evidence = std::move(evidence),
           .remediation = remediation(Code::healthz_fails_via_dns,
                                      {.host = url.url.host, .wrong = {wrong.text}, .right = {right.text}}),
           .hosts = {url.url.host}});
    }
  }
}

// Without truth, a hosts-file answer is still wrong when the agent cannot reach coderd through it:
// /healthz fails at the pinned address while another path of the same URL works. Return that
// evidence ("... /healthz fails there, works at ADDR"), or "" when it does not hold.
std::string dead_pin(const DnsObservation& pin, const probe::Observations& observations) {
  const HttpObservation* failing = nullptr;
  const HttpObservation* working = nullptr;
  std::string label = pin.resolver + "/hosts";
  for (const auto& o : observations.http) {
    if (o.endpoint != probe::Endpoint::healthz)
      continue;
    bool pinned_here = std::find(pin.addresses.begin(), pin.addresses.end(), o.address) != pin.addresses.end() &&
                       std::find(o.resolvers.begin(), o.resolvers.end(), label) != o.resolvers.end();
    if (pinned_here && !o.ok)
      failing = &o;
  }
  if (failing == nullptr)
    return {};
  for (const auto& o : observations.http)
    if (o.endpoint == probe::Endpoint::healthz && o.base_url == failing->base_url && o.ok)
      working = &o;
  if (working == nullptr)
    return {};
  return fmt::format("{} fails at {} ({}) but works at {}", failing->url, failing->address,
                     failing->error.value_or("not OK"), working->address);
}

// HOSTS_FILE_OVERRIDE from the prober's own hosts file: an entry for a host that the truth places
// elsewhere, or (no truth) whose address does not answer while another does. The agent next to
// this prober reads the same file before DNS.
void check_hosts_file(const probe::Plan& plan, const probe::Observations& observations,
                      const std::vector<Annotation>& annotations, const truth::Truth& truth,
                      std::vector<Finding>& findings) {
  std::vector<std::string> entries;
  std::set<std::string> hosts;
  Finding finding{.code = Code::hosts_file_override, .severity = Severity::error};
  for (std::size_t i = 0; i < observations.dns.size(); ++i) {
    const DnsObservation& o = observations.dns[i];
    const Annotation& note = annotations.at(i);
    if (o.mode != QueryMode::hosts || note.match == true || o.addresses.empty())
      continue;
    std::string why =
        note.match == false ? fmt::format("expected {}", addresses_text(note.expected)) : dead_pin(o, observations);
    if (why.empty())
      continue;
    const probe::ResolverPlan* resolver = plan.resolver(o.resolver);
    std::string order = resolver != nullptr && resolver->hosts ? resolver->hosts->order : std::string("files first");
    if (std::find(entries.begin(), entries.end(), o.detail) == entries.end())
      entries.push_back(o.detail);
    if (hosts.insert(o.host).second && truth.knows(o.host))
      finding.evidence.push_back(fmt::format("truth for {}: {} from {}", o.host,
                                             addresses_text(truth.addresses_for(o.host)),
                                             truth_sources(truth, o.host)));
    finding.evidence.push_back(fmt::format("resolver {} reads {} before DNS ({}): {} {} -> {}; {}", o.resolver,
                                           o.detail, order, o.host, probe::to_string(o.family),
                                           addresses_text(o.addresses), why));
  }
  if (hosts.empty())
    return;
  std::string host_list = util::join({hosts.begin(), hosts.end()}, ", ");
  finding.summary = fmt::format("the hosts file pins {} to an address {} (read before DNS)", host_list,
                                truth.knows(*hosts.begin()) ? "outside the truth" : "that does not answer");
  finding.remediation =
      remediation(Code::hosts_file_override,
                  {.host = host_list, .wrong = entries, .right = util::texts(truth.addresses_for(*hosts.begin()))});
  finding.hosts = {hosts.begin(), hosts.end()};
  findings.push_back(std::move(finding));
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
  finding.remediation = remediation(Code::deployment_mismatch, {});
  findings.push_back(std::move(finding));
}

} // namespace

std::vector<Annotation> annotate(const probe::Observations& observations, const truth::Truth& truth) {
  std::vector<Annotation> annotations;
  annotations.reserve(observations.dns.size());
  for (const auto& o : observations.dns) {
    Annotation& note = annotations.emplace_back();
    if (!truth.knows(o.host))
      continue;
    for (const auto& address : truth.addresses_for(o.host))
      if (dns::family_of(address) == o.family)
        note.expected.push_back(address);
    if (has_no_answer(o.status) || excused(o))
      continue; // no answer, or not this resolver's to give: neither right nor wrong
    if (o.status == LookupStatus::ok)
      note.match = std::all_of(o.addresses.begin(), o.addresses.end(), [&](const util::IpAddress& address) {
        return std::binary_search(note.expected.begin(), note.expected.end(), address);
      });
    else if (o.status == LookupStatus::nodata)
      note.match = note.expected.empty(); // no address of this family: right when the truth has none
    else
      note.match = truth.addresses_for(o.host).empty(); // nxdomain says the name has no address of any family
  }
  return annotations;
}

std::vector<Finding> analyze(const probe::Plan& plan, const probe::Observations& observations,
                             const std::vector<Annotation>& annotations, const truth::Truth& truth) {
  std::vector<Finding> findings;
  check_mismatches(plan, observations, annotations, truth, findings);
  check_failures(observations, findings);
  check_disagreement(observations, annotations, truth, findings);
  check_shadowing(observations, findings);
  check_hosts_file(plan, observations, annotations, truth, findings);
  check_health(plan, observations, findings);
  check_deployments(observations, findings);
  return findings;
}

} // namespace coder_dns_doctor::analysis
