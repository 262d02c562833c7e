#include <coder_dns_doctor/analysis/agent_audit.hpp>
#include <coder_dns_doctor/analysis/remedies.hpp>

#include <coder_dns_doctor/util/strings.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <set>

namespace coder_dns_doctor::analysis {
namespace {

// The resolvers whose view matters to a pod: the cluster-aware ones when the plan has any.
std::set<std::string> pod_resolvers(const probe::Plan& plan) {
  std::set<std::string> labels;
  for (const auto& resolver : plan.resolvers)
    if (resolver.cluster_scoped())
      labels.insert(resolver.label);
  if (labels.empty())
    for (const auto& resolver : plan.resolvers)
      labels.insert(resolver.label);
  return labels;
}

} // namespace

std::string describe(const WorkspaceAgent& agent) {
  if (agent.host.empty())
    return fmt::format("{}: no agent URL found", agent.pod);
  return fmt::format("{}: agent URL host {} ({}, from {})", agent.pod, agent.host, to_string(agent.target),
                     agent.origin);
}

std::optional<Finding> audit_agents(const probe::Plan& plan, const probe::Observations& observations,
                                    const std::vector<Annotation>& annotations,
                                    const std::vector<WorkspaceAgent>& agents) {
  const probe::UrlPlan* external = plan.url_for(probe::HostRole::external);
  const probe::UrlPlan* internal = plan.url_for(probe::HostRole::internal);
  if (external == nullptr || internal == nullptr)
    return std::nullopt;
  std::vector<const WorkspaceAgent*> on_external;
  for (const auto& agent : agents)
    if (agent.target == AgentTarget::external)
      on_external.push_back(&agent);
  if (on_external.empty())
    return std::nullopt;

  std::set<std::string> resolvers = pod_resolvers(plan);
  std::vector<std::string> broken;
  for (std::size_t i = 0; i < observations.dns.size(); ++i) {
    const probe::DnsObservation& o = observations.dns[i];
    const Annotation& note = annotations.at(i);
    if (o.host == external->url.host && o.mode == probe::QueryMode::absolute && note.match == false &&
        resolvers.count(o.resolver) != 0)
      broken.push_back(fmt::format("resolver {} answers {} {} with {}; expected {}", o.resolver, o.host,
                                   probe::to_string(o.family), addresses_text(o.addresses),
                                   addresses_text(note.expected)));
  }
  std::string external_base = external->url.to_string();
  for (const auto& o : observations.http) {
    if (o.base_url != external_base || o.endpoint != probe::Endpoint::healthz || o.via != probe::Via::dns || o.ok)
      continue;
    bool from_pod_view = std::any_of(o.resolvers.begin(), o.resolvers.end(),
                                     [&](const std::string& label) { return resolvers.count(label) != 0; });
    if (from_pod_view)
      broken.push_back(fmt::format("{} through {} fails: {}", o.url, o.address, o.error.value_or("not OK")));
  }
  if (broken.empty())
    return std::nullopt;

  std::string internal_base = internal->url.to_string();
  auto healthy = std::find_if(observations.http.begin(), observations.http.end(), [&](const probe::HttpObservation& o) {
    return o.base_url == internal_base && o.endpoint == probe::Endpoint::healthz && o.ok;
  });
  if (healthy == observations.http.end())
    return std::nullopt;

  Finding finding;
  finding.code = Code::agent_url_external;
  finding.severity = Severity::error;
  finding.summary = fmt::format("{} of {} workspace agent(s) start against the external URL {}, which is broken "
                                "inside the cluster, while {} works",
                                on_external.size(), agents.size(), external_base, internal_base);
  for (const auto& agent : agents)
    finding.evidence.push_back(describe(agent));
  for (auto& line : broken)
    finding.evidence.push_back(std::move(line));
  finding.evidence.push_back(
      fmt::format("{} /healthz OK via {} at {}", internal_base, probe::to_string(healthy->via), healthy->address));
  finding.remediation = remediation(Code::agent_url_external, {.url = internal_base});
  return finding;
}

void audit_host_aliases(const probe::Plan& plan, const truth::Truth& truth, const std::vector<WorkspaceAgent>& agents,
                        std::vector<Finding>& findings) {
  std::vector<std::string> evidence;
  std::vector<std::string> places;
  std::set<std::string> hosts;
  for (const auto& agent : agents)
    for (const auto& alias : agent.host_aliases)
      for (const auto& name : alias.hostnames) {
        bool coder_host =
            std::any_of(plan.hosts.begin(), plan.hosts.end(), [&](const probe::HostPlan& h) { return h.host == name; });
        std::vector<util::IpAddress> right = truth.addresses_for(name);
        bool pinned_right = std::any_of(right.begin(), right.end(),
                                        [&](const util::IpAddress& address) { return address.text == alias.address; });
        if (!coder_host || right.empty() || pinned_right)
          continue;
        hosts.insert(name);
        places.push_back(fmt::format("pod {} spec.hostAliases", agent.pod));
        evidence.push_back(fmt::format("pod {}: spec.hostAliases pins {} to {} (its /etc/hosts, read before DNS); "
                                       "expected {}",
                                       agent.pod, name, alias.address, addresses_text(right)));
      }
  if (evidence.empty())
    return;
  auto existing = std::find_if(findings.begin(), findings.end(),
                               [](const Finding& f) { return f.code == Code::hosts_file_override; });
  std::string host_list = util::join({hosts.begin(), hosts.end()}, ", ");
  if (existing == findings.end()) {
    Finding finding{
        .code = Code::hosts_file_override,
        .severity = Severity::error,
        .summary = fmt::format("workspace pods' hostAliases pin {} to an address outside the truth (read "
                               "before DNS)",
                               host_list),
        .evidence = std::move(evidence),
        .remediation = remediation(
            Code::hosts_file_override,
            {.host = host_list, .wrong = places, .right = util::texts(truth.addresses_for(*hosts.begin()))})};
    findings.push_back(std::move(finding));
    return;
  }
  existing->summary += fmt::format("; workspace pods' hostAliases pin {} too", host_list);
  existing->evidence.insert(existing->evidence.end(), evidence.begin(), evidence.end());
}

} // namespace coder_dns_doctor::analysis

namespace coder_dns_doctor::analysis {

std::optional<Finding> kubernetes_unavailable(const std::vector<KubeProblem>& problems) {
  if (problems.empty())
    return std::nullopt;
  auto has = [&](KubeFailure failure) {
    return std::any_of(problems.begin(), problems.end(), [&](const KubeProblem& p) { return p.failure == failure; });
  };
  bool audit_only =
      std::all_of(problems.begin(), problems.end(), [](const KubeProblem& p) { return p.scope == KubeScope::audit; });
  Finding finding;
  finding.code = Code::kubernetes_unavailable;
  finding.severity = audit_only ? Severity::warning : Severity::error;
  std::string why;
  if (has(KubeFailure::config))
    why = "Kubernetes access is not configured for this environment";
  else if (has(KubeFailure::credentials))
    why = "the API credentials cannot be read";
  else if (has(KubeFailure::unauthorized))
    why = "the API server rejects the token (HTTP 401)";
  else if (has(KubeFailure::unreachable))
    why = "the API server did not answer";
  else if (has(KubeFailure::server))
    why = "the API server failed (HTTP 5xx)";
  else if (has(KubeFailure::malformed))
    why = "the API server's answer is not Kubernetes JSON";
  else if (has(KubeFailure::forbidden))
    why = fmt::format("RBAC forbids {} request(s)",
                      std::count_if(problems.begin(), problems.end(),
                                    [](const KubeProblem& p) { return p.failure == KubeFailure::forbidden; }));
  else
    why = "an object it needs does not exist";
  finding.summary = audit_only ? fmt::format("the workspace-pod audit could not run: {}", why)
                               : fmt::format("truth could not be read from Kubernetes: {}; the report covers only "
                                             "what could be checked without it",
                                             why);
  for (const auto& problem : problems)
    finding.evidence.push_back(problem.text);
  std::vector<std::string> steps;
  if (has(KubeFailure::config))
    steps.emplace_back("Run inside a pod, or use --kube <API URL> (e.g. kubectl proxy's http://127.0.0.1:8001), or "
                       "--kube off with --expect and --external-url.");
  if (has(KubeFailure::credentials))
    steps.emplace_back("Make the token and CA files readable (--kube-token-file, --kube-ca-file, or the pod's "
                       "service-account mount).");
  if (has(KubeFailure::unauthorized))
    steps.emplace_back("Give coder-dns-doctor a valid bearer token: check --kube-token-file (or that the pod's "
                       "ServiceAccount token is mounted and not expired).");
  if (has(KubeFailure::forbidden))
    steps.emplace_back("Grant the missing RBAC rule(s) named in the evidence to coder-dns-doctor's ServiceAccount "
                       "(the full minimal table is in docs/kubernetes.md, rules in docs/rbac.yaml).");
  if (has(KubeFailure::unreachable))
    steps.emplace_back("Make the API server reachable from here (the --kube URL, egress NetworkPolicy to the API "
                       "server, the CA in --kube-ca-file).");
  if (has(KubeFailure::server))
    steps.emplace_back("The API server answered with a server error: check its health (kubectl get --raw /readyz) "
                       "and retry.");
  if (has(KubeFailure::malformed))
    steps.emplace_back("Check that --kube points at the Kubernetes API server itself, not at a proxy or web page.");
  if (has(KubeFailure::missing))
    steps.emplace_back("Create the object, or name the right one (--coder-service, --coder-deployment, "
                       "--ingress-service, --external-url).");
  finding.remediation = remediation(Code::kubernetes_unavailable, {.wrong = steps});
  return finding;
}

} // namespace coder_dns_doctor::analysis
