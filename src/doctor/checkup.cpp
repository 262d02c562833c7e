#include <coder_dns_doctor/analysis/evaluate.hpp>
#include <coder_dns_doctor/coderapi/read.hpp>
#include <coder_dns_doctor/core/usage_error.hpp>
#include <coder_dns_doctor/doctor/checkup.hpp>
#include <coder_dns_doctor/doctor/load_balancers.hpp>
#include <coder_dns_doctor/k8s/client.hpp>
#include <coder_dns_doctor/k8s/connection.hpp>
#include <coder_dns_doctor/k8s/discovery.hpp>
#include <coder_dns_doctor/probe/engine.hpp>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace coder_dns_doctor::doctor {
namespace {

using analysis::KubeFailure;
using analysis::KubeProblem;
using analysis::KubeScope;

bool is_kube_dns_pods(const probe::ResolverPlan& resolver) {
  return resolver.spec == probe::k_kube_dns_pods_spec;
}

// What Kubernetes contributed to one check.
struct KubeResult {
  bool connected = false; // an API server was chosen (whatever it answered)
  k8s::Discovery discovery;
};

KubeResult read_kubernetes(const Settings& settings, const std::atomic<bool>* cancel) {
  KubeResult result;
  const probe::Plan& plan = settings.plan;
  bool needs_dns_pods = std::any_of(plan.resolvers.begin(), plan.resolvers.end(), is_kube_dns_pods);
  k8s::Choice choice;
  if (plan.checks.kube) {
    choice = k8s::choose_connection(kube_connection_settings(settings));
  } else {
    choice.reason = "--checks leaves out kube";
  }
  if (choice.problem)
    result.discovery.problems.push_back({KubeScope::truth, KubeFailure::config, *choice.problem});
  if (!choice.connection) {
    if (needs_dns_pods && !choice.problem)
      result.discovery.problems.push_back(
          {KubeScope::resolvers, KubeFailure::config,
           fmt::format("a kube-dns-pods resolver needs the Kubernetes API, which is off ({})", choice.reason)});
    return result;
  }
  result.connected = true;
  const probe::UrlPlan* external = plan.url_for(probe::HostRole::external);
  const probe::UrlPlan* internal = plan.url_for(probe::HostRole::internal);
  k8s::Wants wants;
  wants.external_host = external != nullptr ? external->url.host : std::string();
  wants.internal_host = internal != nullptr ? internal->url.host : std::string();
  wants.external_url = external == nullptr ? k8s::Wants::Need::yes : k8s::Wants::Need::no;
  wants.dns_pods = needs_dns_pods ? k8s::Wants::Need::yes : k8s::Wants::Need::no;
  wants.workspace_audit =
      settings.kube.targets.workspace_namespaces.empty() ? k8s::Wants::Need::no : k8s::Wants::Need::yes;
  bool unscoped = std::any_of(plan.resolvers.begin(), plan.resolvers.end(), [](const probe::ResolverPlan& r) {
    return !r.scope_declared && !r.cluster_scoped() && !r.servers.empty();
  });
  wants.dns_service = unscoped ? k8s::Wants::Need::yes : k8s::Wants::Need::no;
  k8s::Client client(*choice.connection, cancel);
  result.discovery = k8s::discover(client, settings.kube.targets, wants);
  result.discovery.notes.insert(result.discovery.notes.begin(), fmt::format("Kubernetes: {}", choice.reason));
  if (choice.connection->verify == k8s::Connection::Verify::no)
    result.discovery.notes.insert(result.discovery.notes.begin() + 1,
                                  "Kubernetes: TLS verification of the API server is off (--kube-insecure)");
  return result;
}

void add_external_url(probe::Plan& plan, const util::Url& url) {
  plan.urls.insert(plan.urls.begin(), {url, probe::HostRole::external});
  auto same = std::find_if(plan.hosts.begin(), plan.hosts.end(), [&](const auto& h) { return h.host == url.host; });
  if (same != plan.hosts.end())
    same->role = probe::HostRole::external;
  else
    plan.hosts.insert(plan.hosts.begin(), {url.host, probe::HostRole::external});
}

// A resolver given the cluster DNS Service's ClusterIP asks what pods ask: make it cluster-scoped.
void scope_by_dns_service(probe::Plan& plan, const k8s::Targets& targets, const std::vector<std::string>& ips) {
  std::vector<util::Endpoint> endpoints;
  for (const auto& ip : ips)
    if (auto address = util::parse_ip(ip))
      endpoints.push_back({*address, 53});
  probe::scope_by_servers(plan, endpoints, fmt::format("the ClusterIP of Service {}", targets.dns_service.to_string()));
}

// Replace every kube-dns-pods resolver by one resolver per ready CoreDNS pod.
void expand_dns_pods(probe::Plan& plan, const k8s::Targets& targets, KubeResult& kube) {
  std::vector<probe::ResolverPlan> expanded;
  for (auto& resolver : plan.resolvers) {
    if (!is_kube_dns_pods(resolver)) {
      expanded.push_back(std::move(resolver));
      continue;
    }
    if (!kube.discovery.dns_pods)
      continue; // the reason is already a problem
    if (kube.discovery.dns_pods->empty())
      kube.discovery.problems.push_back({KubeScope::resolvers, KubeFailure::missing,
                                         fmt::format("resolver {}: no ready pod matches {} in namespace {}",
                                                     resolver.label, targets.dns_selector, targets.dns_namespace)});
    for (const k8s::DnsPod& pod : *kube.discovery.dns_pods) {
      probe::ResolverPlan one;
      one.label = resolver.label + "/" + pod.name;
      one.spec = std::string(probe::k_kube_dns_pods_spec);
      one.servers = {pod.endpoint};
      one.scope = probe::ResolverScope::cluster;
      one.scope_reason = fmt::format("CoreDNS pod {}", pod.name);
      expanded.push_back(std::move(one));
    }
  }
  plan.resolvers = std::move(expanded);
}

std::vector<analysis::WorkspaceAgent> classify_agents(const probe::Plan& plan, const truth::Truth& truth,
                                                      const std::vector<k8s::AgentPodHost>& pods) {
  const probe::UrlPlan* external = plan.url_for(probe::HostRole::external);
  const probe::UrlPlan* internal = plan.url_for(probe::HostRole::internal);
  std::string external_host = external != nullptr ? external->url.host : std::string();
  std::string internal_host = internal != nullptr ? internal->url.host : std::string();
  std::vector<analysis::WorkspaceAgent> agents;
  for (const auto& pod : pods)
    agents.push_back(
        {pod.pod, pod.host, pod.origin,
         k8s::classify_agent_host(pod.host, external_host, internal_host, truth.addresses_for(internal_host)),
         pod.host_aliases, pod.labels});
  return agents;
}

// This check's plan: the configured one (left as configuration built it) plus what the cluster
// added: the external URL when only the Deployment names it, one resolver per CoreDNS pod, and the
// scope of resolvers given the cluster DNS Service's address.
probe::Plan plan_for_check(const Settings& settings, KubeResult& kube) {
  probe::Plan plan = settings.plan;
  if (plan.url_for(probe::HostRole::external) == nullptr) {
    if (kube.discovery.external_url)
      add_external_url(plan, *kube.discovery.external_url);
    else if (!kube.connected)
      throw core::UsageError(
          "--external-url is required (expected the Coder access URL, e.g. https://coder.example.com)"
          " when Kubernetes cannot supply it");
    // else: Kubernetes was asked and could not say; check the rest and report why
  }
  expand_dns_pods(plan, settings.kube.targets, kube);
  scope_by_dns_service(plan, settings.kube.targets, kube.discovery.dns_service_ips);
  return plan;
}

// Truth: what Kubernetes discovered (load-balancer hostnames looked up through `plan`'s
// resolvers), with --expect over it.
truth::Truth gather_truth(const probe::Plan& plan, const Settings& settings, KubeResult& kube,
                          const std::atomic<bool>* cancel) {
  truth::Truth discovered{.entries = std::move(kube.discovery.entries), .notes = std::move(kube.discovery.notes)};
  if (!kube.discovery.hostnames.empty()) {
    ResolvedClaims claims = truth_from_hostnames(
        kube.discovery.hostnames, probe::look_up_names(plan, hostnames_of(kube.discovery.hostnames), cancel));
    discovered.entries.insert(discovered.entries.end(), claims.entries.begin(), claims.entries.end());
    discovered.notes.insert(discovered.notes.end(), claims.notes.begin(), claims.notes.end());
  }
  return truth::merge(std::move(discovered), settings.expectations);
}

// The address to send the token to: where this cycle's /healthz of the same URL answered (through
// DNS first, as agents dial), else the first address any check of it used; nullopt when the plan
// does not probe that URL (curl then resolves it).
std::optional<util::IpAddress> address_for(const std::string& base, const probe::Observations& observations) {
  const probe::HttpObservation* fallback = nullptr;
  for (const auto& o : observations.http) {
    if (o.base_url != base || o.endpoint != probe::Endpoint::healthz)
      continue;
    if (o.ok && o.via != probe::Via::pinned) // dns, or the internal URL's own DNS path
      return o.address;
    if (fallback == nullptr || (o.ok && !fallback->ok))
      fallback = &o;
  }
  if (fallback != nullptr)
    return fallback->address;
  return std::nullopt;
}

// coderd's view of its agents and itself, read after the cycle so the token goes only to an
// address this cycle saw answer as the URL's /healthz.
std::optional<analysis::CoderInput> read_coder_api(const Settings& settings, const probe::Plan& plan,
                                                   const probe::Observations& observations,
                                                   const std::atomic<bool>* cancel) {
  if (settings.coder.token_file.empty())
    return std::nullopt;
  analysis::CoderInput input{.facts = {}, .workspace_namespaces = settings.kube.targets.workspace_namespaces};
  const probe::UrlPlan* internal = plan.url_for(probe::HostRole::internal);
  std::optional<util::Url> url = settings.coder.url;
  if (!url && internal != nullptr)
    url = internal->url;
  if (!url) {
    input.facts.problems.push_back(
        {coderapi::CoderFailure::config, "no Coder URL: give --coder-url or --internal-url for the Coder API"});
    return input;
  }
  std::string base = url->to_string();
  coderapi::Client client({.base_url = base,
                           .connect_to = address_for(base, observations),
                           .token_file = settings.coder.token_file,
                           .ca_file = plan.ca_file,
                           .verify = http::Verify::yes,
                           .timeout = plan.timeout,
                           .max_body = 16 * 1024 * 1024},
                          cancel);
  input.facts = coderapi::read_coder(client);
  return input;
}

} // namespace

k8s::ConnectionSettings kube_connection_settings(const Settings& settings) {
  return {.mode = settings.kube.mode,
          .token_file = settings.kube.token_file,
          .ca_file = settings.kube.ca_file,
          .verify = settings.kube.verify,
          .timeout = settings.plan.timeout};
}

report::Report run_checkup(const Settings& settings, const std::atomic<bool>* cancel,
                           const std::vector<analysis::HeldConnection>& held, probe::ChannelCache* channels) {
  KubeResult kube = read_kubernetes(settings, cancel);
  probe::Plan plan = plan_for_check(settings, kube);
  truth::Truth truth = gather_truth(plan, settings, kube, cancel);
  probe::Observations observations = probe::run_cycle(plan, truth, cancel, channels);

  analysis::KubeFacts facts{.problems = std::move(kube.discovery.problems), .agents = std::nullopt};
  if (kube.discovery.agents) {
    facts.agents = classify_agents(plan, truth, *kube.discovery.agents);
    if (facts.agents->empty())
      truth.notes.push_back(fmt::format("workspace audit: no pod in namespace(s) {} carries CODER_AGENT_TOKEN",
                                        fmt::join(settings.kube.targets.workspace_namespaces, ", ")));
  }
  std::optional<analysis::CoderInput> coder = read_coder_api(settings, plan, observations, cancel);
  analysis::Evaluation evaluation =
      analysis::evaluate(plan, observations, truth, facts, held, coder ? &*coder : nullptr);
  return report::build(plan, std::move(observations), std::move(truth), std::move(evaluation),
                       std::move(facts.agents).value_or(std::vector<analysis::WorkspaceAgent>{}));
}

} // namespace coder_dns_doctor::doctor
