#include <coder_dns_doctor/analysis/agent_causes.hpp>
#include <coder_dns_doctor/analysis/remedies.hpp>
#include <coder_dns_doctor/util/strings.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <set>

namespace coder_dns_doctor::analysis {
namespace {

using coderapi::AgentStatus;
using probe::HostRole;

// The first of coderd's timestamps that says since when an agent is in its state.
std::string since_of(const coderapi::Agent& agent) {
  if (!agent.disconnected_at.empty() && agent.status != AgentStatus::connected)
    return agent.disconnected_at;
  if (!agent.last_connected_at.empty())
    return agent.last_connected_at;
  return agent.created_at;
}

// The pod name Coder's official Kubernetes templates give a workspace: coder-<owner>-<workspace>.
std::string template_pod_name(const coderapi::Agent& agent) {
  return util::to_lower(fmt::format("coder-{}-{}", agent.owner, agent.workspace));
}

bool pod_name_matches(const std::string& pod, const std::string& wanted) {
  std::string_view name = pod;
  if (auto slash = name.find('/'); slash != std::string_view::npos)
    name.remove_prefix(slash + 1);
  return name == wanted || (name.starts_with(wanted) && name.size() > wanted.size() && name[wanted.size()] == '-');
}

const WorkspaceAgent* pod_of(const coderapi::Agent& agent, const std::vector<WorkspaceAgent>& pods) {
  for (const auto& pod : pods)
    if (!agent.workspace_id.empty() && pod.labels.workspace_id == agent.workspace_id)
      return &pod;
  for (const auto& pod : pods)
    if (pod.labels.workspace_id.empty() && !pod.labels.workspace.empty() && pod.labels.workspace == agent.workspace &&
        pod.labels.owner == agent.owner)
      return &pod;
  std::string wanted = template_pod_name(agent);
  for (const auto& pod : pods)
    if (pod.labels.workspace_id.empty() && pod_name_matches(pod.pod, wanted))
      return &pod;
  return nullptr;
}

// The host of the plan an agent's path is checked on: the plan's URL host for external and
// internal targets (an alias such as coder.coder.svc counts as the internal host), the host itself
// when the plan probes it, else "".
std::string probed_host(const probe::Plan& plan, const WorkspaceAgent& pod) {
  if (pod.target == AgentTarget::external || pod.target == AgentTarget::internal) {
    const probe::UrlPlan* url =
        plan.url_for(pod.target == AgentTarget::external ? HostRole::external : HostRole::internal);
    return url != nullptr ? url->url.host : std::string();
  }
  bool probed = std::any_of(plan.hosts.begin(), plan.hosts.end(), [&](const auto& h) { return h.host == pod.host; });
  return probed ? pod.host : std::string();
}

// Whether the pod's own hostAliases pin `host` outside its truth (its /etc/hosts, read before DNS).
bool pinned_wrong(const WorkspaceAgent& pod, const std::string& host, const truth::Truth& truth) {
  std::vector<util::IpAddress> right = truth.addresses_for(host);
  if (right.empty())
    return false;
  for (const auto& alias : pod.host_aliases)
    if (std::find(alias.hostnames.begin(), alias.hostnames.end(), host) != alias.hostnames.end() &&
        std::none_of(right.begin(), right.end(), [&](const util::IpAddress& a) { return a.text == alias.address; }))
      return true;
  return false;
}

std::vector<Code> causes_on(const std::string& host, const WorkspaceAgent& pod, const truth::Truth& truth,
                            const std::vector<Finding>& findings) {
  std::vector<Code> codes;
  auto add = [&codes](Code code) {
    if (std::find(codes.begin(), codes.end(), code) == codes.end())
      codes.push_back(code);
  };
  if (pinned_wrong(pod, host, truth))
    add(Code::hosts_file_override);
  for (const Finding& finding : findings)
    if (finding.severity != Severity::info &&
        std::find(finding.hosts.begin(), finding.hosts.end(), host) != finding.hosts.end())
      add(finding.code);
  return codes;
}

// Whether /healthz of a plan URL on `host` answered through DNS (`internal` is the internal URL's
// DNS path): the path was probed and works.
bool path_works(const probe::Plan& plan, const probe::Observations& observations, const std::string& host) {
  for (const auto& url : plan.urls) {
    if (url.url.host != host)
      continue;
    std::string base = url.url.to_string();
    for (const auto& o : observations.http)
      if (o.base_url == base && o.endpoint == probe::Endpoint::healthz && o.via != probe::Via::pinned && o.ok)
        return true;
  }
  return false;
}

// ", which resolves in the cluster to A, not B" when a cluster-scoped resolver answers `host`
// outside its truth; "" otherwise.
std::string resolution_phrase(const probe::Plan& plan, const probe::Observations& observations,
                              const std::vector<Annotation>& annotations, const std::string& host) {
  std::vector<util::IpAddress> wrong;
  std::vector<util::IpAddress> expected;
  for (std::size_t i = 0; i < observations.dns.size() && i < annotations.size(); ++i) {
    const auto& o = observations.dns[i];
    const probe::ResolverPlan* resolver = plan.resolver(o.resolver);
    if (o.host != host || o.mode == probe::QueryMode::hosts || annotations[i].match != false || resolver == nullptr ||
        !resolver->cluster_scoped())
      continue;
    wrong.insert(wrong.end(), o.addresses.begin(), o.addresses.end());
    expected.insert(expected.end(), annotations[i].expected.begin(), annotations[i].expected.end());
  }
  if (wrong.empty())
    return {};
  util::sort_unique(wrong);
  util::sort_unique(expected);
  return fmt::format(", which resolves in the cluster to {}, not {}", addresses_text(wrong), addresses_text(expected));
}

std::string code_list(const std::vector<Code>& codes) {
  std::vector<std::string> names;
  for (Code code : codes)
    names.emplace_back(to_string(code));
  return util::join(names, ", ");
}

struct Context {
  const probe::Plan& plan;
  const probe::Observations& observations;
  const std::vector<Annotation>& annotations;
  const truth::Truth& truth;
  const std::vector<Finding>& findings;
  const std::optional<std::vector<WorkspaceAgent>>& pods;
  const CoderInput& coder;
};

AgentEntry entry_of(const Context& c, const coderapi::Agent& agent) {
  AgentEntry entry{.workspace_id = agent.workspace_id,
                   .workspace = agent.workspace,
                   .owner = agent.owner,
                   .agent = agent.agent,
                   .status = agent.status,
                   .since = since_of(agent),
                   .build_status = agent.build_status,
                   .outdated = agent.outdated};
  const WorkspaceAgent* pod = c.pods ? pod_of(agent, *c.pods) : nullptr;
  if (pod == nullptr)
    return entry;
  entry.pod = pod->pod;
  entry.agent_host = pod->host;
  entry.target = pod->target;
  std::string host = probed_host(c.plan, *pod);
  if (host.empty())
    return entry;
  entry.cause_codes = causes_on(host, *pod, c.truth, c.findings);
  if (!entry.cause_codes.empty())
    entry.path_verdict = PathVerdict::fails;
  else if (path_works(c.plan, c.observations, host))
    entry.path_verdict = PathVerdict::works;
  return entry;
}

std::string next_check(const AgentEntry& entry) {
  return fmt::format("next: `coder ping {}`, and the agent log /tmp/coder-agent.log in {}", entry.workspace_path(),
                     entry.pod.empty() ? std::string("its pod") : entry.pod);
}

// One evidence line of AGENT_DISCONNECTED: the state, the pod, the host, the cause chain or "none".
std::string disconnected_line(const Context& c, const AgentEntry& e) {
  std::string head = fmt::format("{} (agent {}): {}{}", e.workspace_path(), e.agent, coderapi::to_string(e.status),
                                 e.since.empty() ? std::string() : " since " + e.since);
  if (!c.pods)
    return fmt::format("{}; its pod is unknown (the workspace audit did not run); {}", head, next_check(e));
  if (e.pod.empty())
    return fmt::format("{}; no workspace pod in namespace(s) {} carries com.coder.workspace.id={}: no cause found on "
                       "its path; {}",
                       head, util::join(c.coder.workspace_namespaces, ", "), e.workspace_id, next_check(e));
  std::string dials = e.agent_host.empty()
                          ? fmt::format("pod {} has no agent URL the audit could read", e.pod)
                          : fmt::format("pod {} dials {} ({})", e.pod, e.agent_host, k8s::to_string(e.target));
  switch (e.path_verdict) {
  case PathVerdict::fails: {
    const probe::UrlPlan* url =
        c.plan.url_for(e.target == AgentTarget::internal ? HostRole::internal : HostRole::external);
    std::string host = e.target == AgentTarget::other || url == nullptr ? e.agent_host : url->url.host;
    return fmt::format("{}; {}{}: {}", head, dials, resolution_phrase(c.plan, c.observations, c.annotations, host),
                       code_list(e.cause_codes));
  }
  case PathVerdict::works:
    return fmt::format("{}; {}: no cause found on its path (DNS, /healthz and the agent's connection work from "
                       "here); {}",
                       head, dials, next_check(e));
  case PathVerdict::unchecked: break;
  }
  return fmt::format("{}; {}, which this check does not probe: no cause found on its path; {}", head, dials,
                     next_check(e));
}

std::optional<Finding> agent_disconnected(const Context& c, const std::vector<AgentEntry>& agents) {
  std::vector<std::string> evidence;
  std::vector<std::string> with_cause;
  std::vector<std::string> without_cause;
  for (const auto& entry : agents) {
    if (!entry.lost())
      continue;
    evidence.push_back(disconnected_line(c, entry));
    (entry.path_verdict == PathVerdict::fails ? with_cause : without_cause).push_back(entry.workspace_path());
  }
  if (evidence.empty())
    return std::nullopt;
  std::size_t lost = evidence.size();
  std::size_t caused = with_cause.size();
  std::size_t running = static_cast<std::size_t>(
      std::count_if(agents.begin(), agents.end(), [](const AgentEntry& e) { return e.build_status == "running"; }));
  return Finding{.code = Code::agent_disconnected,
                 .severity = Severity::error,
                 .summary = fmt::format("coderd reports {} of {} running agent(s) disconnected; {} with a cause on "
                                        "their path",
                                        lost, running, caused),
                 .evidence = std::move(evidence),
                 .remediation = remediation(Code::agent_disconnected, {.wrong = with_cause, .right = without_cause}),
                 .hosts = {}};
}

bool has_code(const std::vector<Finding>& findings, Code code) {
  return std::any_of(findings.begin(), findings.end(), [code](const Finding& f) { return f.code == code; });
}

std::optional<Finding> rebuild_needed(const Context& c, const std::vector<AgentEntry>& agents) {
  bool url_external = has_code(c.findings, Code::agent_url_external);
  std::vector<std::string> evidence;
  std::set<std::string> seen;
  for (const auto& e : agents) {
    if (e.build_status != "running" || !seen.insert(e.workspace_id).second)
      continue;
    if (e.outdated)
      evidence.push_back(fmt::format("{}: its build is not on the template's active version: `coder update {}`",
                                     e.workspace_path(), e.workspace_path()));
    else if (url_external && e.target == AgentTarget::external)
      evidence.push_back(fmt::format("{}: pod {} still dials the external URL and the build is on the active version: "
                                     "push the patched template, then `coder update {}`",
                                     e.workspace_path(), e.pod, e.workspace_path()));
  }
  if (evidence.empty())
    return std::nullopt;
  const probe::UrlPlan* internal = c.plan.url_for(HostRole::internal);
  std::size_t count = evidence.size();
  return Finding{.code = Code::workspace_rebuild_needed,
                 .severity = Severity::info,
                 .summary =
                     fmt::format("{} running workspace(s) need a new build to pick up the template's fix", count),
                 .evidence = std::move(evidence),
                 .remediation = remediation(Code::workspace_rebuild_needed,
                                            {.url = internal != nullptr ? internal->url.to_string() : std::string()}),
                 .hosts = {}};
}

std::optional<Finding> api_unavailable(const coderapi::CoderFacts& facts) {
  if (facts.problems.empty())
    return std::nullopt;
  std::vector<std::string> evidence;
  std::set<std::string> kinds;
  for (const auto& problem : facts.problems) {
    evidence.push_back(problem.text);
    switch (problem.failure) {
    case coderapi::CoderFailure::config:
    case coderapi::CoderFailure::credentials: kinds.insert("the token file"); break;
    case coderapi::CoderFailure::unauthorized: kinds.insert("the token is not accepted"); break;
    case coderapi::CoderFailure::forbidden: kinds.insert("the token lacks the Owner role"); break;
    case coderapi::CoderFailure::partial_view: kinds.insert("only some workspaces are visible"); break;
    case coderapi::CoderFailure::unreachable: kinds.insert("coderd did not answer"); break;
    case coderapi::CoderFailure::server:
    case coderapi::CoderFailure::malformed: kinds.insert("coderd's answer"); break;
    }
  }
  std::vector<std::string> what{kinds.begin(), kinds.end()};
  return Finding{.code = Code::coder_api_unavailable,
                 .severity = Severity::warning,
                 .summary = fmt::format("the Coder API at {} could not be fully read ({}): agents' state is {}",
                                        facts.base_url, util::join(what, "; "), facts.agents ? "partial" : "unknown"),
                 .evidence = std::move(evidence),
                 .remediation = remediation(Code::coder_api_unavailable, {.wrong = what}),
                 .hosts = {}};
}

// The findings of this check that say what a failing health section says, from the agents' side.
std::vector<Code> agreeing_codes(const coderapi::HealthSection& section, const std::vector<Finding>& findings) {
  std::vector<Code> related;
  if (section.name == "access_url")
    related = {Code::external_dns_mismatch,
               Code::healthz_fails_via_dns,
               Code::healthz_down,
               Code::ingress_unreachable_in_cluster,
               Code::not_coderd,
               Code::hosts_file_override};
  else if (section.name == "websocket")
    related = {Code::agent_transport_blocked, Code::transport_cut_by_proxy};
  else if (section.name == "derp")
    related = {Code::derp_upgrade_blocked, Code::agent_transport_blocked};
  std::vector<Code> found;
  for (Code code : related)
    if (has_code(findings, code))
      found.push_back(code);
  return found;
}

std::optional<Finding> reports_unhealthy(const coderapi::CoderFacts& facts, const std::vector<Finding>& findings) {
  if (!facts.health)
    return std::nullopt;
  std::vector<std::string> evidence;
  std::vector<std::string> sections;
  for (const auto& section : facts.health->failing) {
    if (section.dismissed)
      continue;
    sections.push_back(section.name);
    std::string codes = section.codes.empty() ? std::string() : " " + util::join(section.codes, ", ");
    for (const auto& line : section.lines)
      evidence.push_back(fmt::format("{} ({}{}, seen from coderd): {}", section.name, section.severity, codes, line));
    if (section.lines.empty())
      evidence.push_back(fmt::format("{} ({}{}, seen from coderd)", section.name, section.severity, codes));
    if (auto agree = agreeing_codes(section, findings); !agree.empty())
      evidence.push_back(
          fmt::format("{}: coderd's own check agrees with {} of this report", section.name, code_list(agree)));
  }
  if (sections.empty())
    return std::nullopt;
  return Finding{.code = Code::coderd_reports_unhealthy,
                 .severity = Severity::warning,
                 .summary = fmt::format("coderd's health report is {}: {} failing (seen from coderd)",
                                        facts.health->severity, util::join(sections, ", ")),
                 .evidence = std::move(evidence),
                 .remediation = remediation(Code::coderd_reports_unhealthy, {.wrong = sections}),
                 .hosts = {}};
}

} // namespace

std::string_view to_string(PathVerdict verdict) {
  switch (verdict) {
  case PathVerdict::fails: return "fails";
  case PathVerdict::works: return "works";
  case PathVerdict::unchecked: return "unchecked";
  }
  return "unchecked";
}

bool AgentEntry::lost() const {
  return build_status == "running" && (status == AgentStatus::disconnected || status == AgentStatus::timeout);
}

AgentJoin join_agents(const probe::Plan& plan, const probe::Observations& observations,
                      const std::vector<Annotation>& annotations, const truth::Truth& truth,
                      const std::vector<Finding>& findings, const std::optional<std::vector<WorkspaceAgent>>& pods,
                      const CoderInput& coder) {
  Context c{plan, observations, annotations, truth, findings, pods, coder};
  AgentJoin join;
  if (coder.facts.agents)
    for (const auto& agent : *coder.facts.agents)
      if (agent.build_transition == "start")
        join.agents.push_back(entry_of(c, agent));
  for (auto finding : {agent_disconnected(c, join.agents), rebuild_needed(c, join.agents), api_unavailable(coder.facts),
                       reports_unhealthy(coder.facts, findings)})
    if (finding)
      join.findings.push_back(std::move(*finding));
  return join;
}

} // namespace coder_dns_doctor::analysis
