#include <coder_dns_doctor/k8s/discovery.hpp>

#include <coder_dns_doctor/util/strings.hpp>

#include <fmt/core.h>

#include <stdexcept>

namespace coder_dns_doctor::k8s {
namespace {

using nlohmann::json;

constexpr int k_pod_page_size = 500;

const std::vector<Permission> k_permissions{
    {Feature::coder_service, "coder-service", "get", "", "services", "--coder-service", "coder",
     "always: the internal host's truth (ClusterIPs), and its load balancer when of type LoadBalancer"},
    {Feature::coder_endpoints, "coder-endpoints", "list", "discovery.k8s.io", "endpointslices", "--coder-service",
     "coder", "when the Coder Service is headless (clusterIP: None)"},
    {Feature::access_url, "access-url", "get", "apps", "deployments", "--coder-deployment", "coder",
     "when --external-url is not given: CODER_ACCESS_URL of the Coder Deployment"},
    {Feature::access_url_config_map, "access-url-configmap", "get", "", "configmaps", "--coder-deployment", "coder",
     "when CODER_ACCESS_URL comes from a configMapKeyRef"},
    {Feature::ingresses, "ingresses", "list", "networking.k8s.io", "ingresses", "", "",
     "unless --ingress-service is given: the external host's truth from matching Ingresses"},
    {Feature::ingress_service, "ingress-service", "get", "", "services", "--ingress-service", "",
     "with --ingress-service: the external host's truth from that LoadBalancer Service"},
    {Feature::dns_pods, "kube-dns-pods", "list", "", "pods", "--kube-dns-namespace", "kube-system",
     "with --resolver LABEL=kube-dns-pods"},
    {Feature::cluster_dns_service, "cluster-dns-service", "get", "", "services", "--kube-dns-service", "kube-system",
     "when a --resolver is given by address: its ClusterIP makes that resolver cluster-scoped"},
    {Feature::workspace_pods, "workspace-audit", "list", "", "pods", "--workspace-namespace", "coder-workspace",
     "unless --workspace-namespace '': the workspace-pod audit (AGENT_URL_EXTERNAL)"},
};

KubeProblem shape_problem(const Access& access, const std::string& detail, KubeScope scope) {
  return {scope, KubeFailure::malformed,
          fmt::format("{}: the answer is not the object expected ({})", access.describe(), detail)};
}

class Reader {
public:
  Reader(Client& client, const Targets& targets, const Wants& wants, Discovery& out)
      : m_client(client), m_targets(targets), m_wants(wants), m_out(out) {}

  void run() {
    ObjectRef service = coder_service();
    std::string external_host = m_wants.external_host;
    if (m_wants.external_url == Wants::Need::yes)
      if (auto url = read_access_url(service))
        external_host = url->host;
    read_coder_service(service, external_host);
    if (!external_host.empty()) {
      if (m_targets.ingress_services.empty())
        read_ingresses(external_host);
      else
        for (const ObjectRef& ref : m_targets.ingress_services)
          read_ingress_service(ref, external_host);
    }
    if (m_wants.dns_pods == Wants::Need::yes)
      read_dns_pods();
    if (m_wants.dns_service == Wants::Need::yes)
      read_dns_service();
    if (m_wants.workspace_audit == Wants::Need::yes)
      read_workspace_pods();
  }

private:
  ObjectRef coder_service() const {
    if (m_targets.coder_service)
      return *m_targets.coder_service;
    if (auto derived = service_of_host(m_wants.internal_host))
      return *derived;
    return {"coder", "coder"};
  }

  std::optional<json> get(const std::string& path, const Access& access, KubeScope scope) {
    auto answer = m_client.get(path, access);
    if (!answer) {
      m_out.problems.push_back(problem_of(answer.error(), scope));
      return std::nullopt;
    }
    return std::move(*answer);
  }

  std::optional<util::Url> read_access_url(const ObjectRef& service) {
    ObjectRef ref = m_targets.coder_deployment.value_or(service);
    Access access = access_for(Feature::access_url, ref.namespace_, ref.name);
    auto deployment = get(fmt::format("/apis/apps/v1/namespaces/{}/deployments/{}", ref.namespace_, ref.name), access,
                          KubeScope::truth);
    if (!deployment)
      return std::nullopt;
    auto source = access_url_source(*deployment);
    if (!source) {
      m_out.problems.push_back(shape_problem(access, source.error(), KubeScope::truth));
      return std::nullopt;
    }
    std::string origin = fmt::format("deployment {} env CODER_ACCESS_URL", ref.to_string());
    auto missing = [&](const std::string& why) {
      m_out.problems.push_back({KubeScope::truth, KubeFailure::missing,
                                fmt::format("the external URL cannot be discovered: {}; pass --external-url", why)});
      return std::nullopt;
    };
    if (!*source)
      return missing(fmt::format("no container of deployment {} sets CODER_ACCESS_URL", ref.to_string()));
    std::string value;
    if ((*source)->unsupported)
      return missing(
          fmt::format("{} comes from {}, which coder-dns-doctor does not read", origin, *(*source)->unsupported));
    if ((*source)->config_map) {
      const ObjectRef& map = *(*source)->config_map;
      origin = fmt::format("configmap {} key {} (via deployment {} env CODER_ACCESS_URL)", map.to_string(),
                           (*source)->key, ref.to_string());
      Access map_access = access_for(Feature::access_url_config_map, map.namespace_, map.name);
      auto config_map = get(fmt::format("/api/v1/namespaces/{}/configmaps/{}", map.namespace_, map.name), map_access,
                            KubeScope::truth);
      if (!config_map)
        return std::nullopt;
      auto found = config_map_value(*config_map, (*source)->key);
      if (!found) {
        m_out.problems.push_back(shape_problem(map_access, found.error(), KubeScope::truth));
        return std::nullopt;
      }
      if (!*found)
        return missing(fmt::format("configmap {} has no key {}", map.to_string(), (*source)->key));
      value = **found;
    } else {
      value = (*source)->literal.value_or("");
    }
    value = std::string(util::trim(value));
    if (value.empty())
      return missing(fmt::format("{} is empty", origin));
    auto url = util::parse_url(value);
    if (!url)
      return missing(fmt::format("{} is not a usable URL ({})", origin, url.error()));
    m_out.external_url = *url;
    m_out.notes.push_back(fmt::format("external URL {} from {}", url->to_string(), origin));
    return *url;
  }

  // GET the Service `ref` as `feature` allows; a failure is recorded as a problem and yields nullopt.
  std::optional<ServiceFacts> fetch_service(Feature feature, const ObjectRef& ref) {
    Access access = access_for(feature, ref.namespace_, ref.name);
    auto service =
        get(fmt::format("/api/v1/namespaces/{}/services/{}", ref.namespace_, ref.name), access, KubeScope::truth);
    if (!service)
      return std::nullopt;
    auto facts = read_service(*service);
    if (!facts) {
      m_out.problems.push_back(shape_problem(access, facts.error(), KubeScope::truth));
      return std::nullopt;
    }
    return *facts;
  }

  void read_coder_service(const ObjectRef& ref, const std::string& external_host) {
    auto facts = fetch_service(Feature::coder_service, ref);
    if (!facts)
      return;
    std::string source = "kubernetes:service/" + ref.to_string();
    if (facts->type == "ExternalName") {
      m_out.notes.push_back(
          fmt::format("{} is an ExternalName Service: no address truth for {}", source, m_wants.internal_host));
    } else if (facts->headless) {
      Access slices = access_for(Feature::coder_endpoints, ref.namespace_);
      std::string selector = url_encode("kubernetes.io/service-name=" + ref.name);
      auto list = get(fmt::format("/apis/discovery.k8s.io/v1/namespaces/{}/endpointslices?labelSelector={}",
                                  ref.namespace_, selector),
                      slices, KubeScope::truth);
      if (list) {
        auto addresses = ready_endpoint_addresses(*list);
        if (!addresses)
          m_out.problems.push_back(shape_problem(slices, addresses.error(), KubeScope::truth));
        else if (addresses->empty())
          m_out.notes.push_back(
              fmt::format("{} is headless and has no ready endpoints: no truth for {}", source, m_wants.internal_host));
        else {
          m_out.entries.push_back(
              {m_wants.internal_host, util::parse_ips(*addresses), "kubernetes:endpointslices/" + ref.to_string()});
          m_out.notes.push_back(
              fmt::format("{} is headless: {} resolves to its ready endpoints", source, m_wants.internal_host));
        }
      }
    } else if (!facts->cluster_ips.empty()) {
      m_out.entries.push_back({m_wants.internal_host, util::parse_ips(facts->cluster_ips), source});
    }
    if (facts->type == "LoadBalancer" && !external_host.empty())
      add_load_balancer(external_host, facts->load_balancer, source);
  }

  void add_load_balancer(const std::string& host, const LoadBalancer& lb, const std::string& source) {
    if (!lb.ips.empty())
      m_out.entries.push_back({host, util::parse_ips(lb.ips), source});
    for (const std::string& hostname : lb.hostnames)
      m_out.hostnames.push_back({host, hostname, source});
    if (lb.empty())
      m_out.notes.push_back(fmt::format("{} has no load-balancer address yet", source));
  }

  void read_ingresses(const std::string& host) {
    Access access = access_for(Feature::ingresses);
    auto list = get("/apis/networking.k8s.io/v1/ingresses", access, KubeScope::truth);
    if (!list)
      return;
    auto matches = ingresses_for_host(*list, host);
    if (!matches) {
      m_out.problems.push_back(shape_problem(access, matches.error(), KubeScope::truth));
      return;
    }
    if (matches->empty())
      m_out.notes.push_back(fmt::format("no Ingress has a rule for {} (pass --ingress-service NS/NAME when a "
                                        "LoadBalancer Service fronts Coder)",
                                        host));
    for (const IngressMatch& match : *matches) {
      std::string source = "kubernetes:ingress/" + match.ingress.to_string();
      if (match.rule_host != host)
        m_out.notes.push_back(fmt::format("{} serves {} through its rule host {}", source, host, match.rule_host));
      add_load_balancer(host, match.load_balancer, source);
    }
  }

  void read_ingress_service(const ObjectRef& ref, const std::string& host) {
    auto facts = fetch_service(Feature::ingress_service, ref);
    if (!facts)
      return;
    std::string source = "kubernetes:service/" + ref.to_string();
    if (facts->type != "LoadBalancer") {
      m_out.problems.push_back({KubeScope::truth, KubeFailure::missing,
                                fmt::format("--ingress-service {} is of type {}, not LoadBalancer: no external address",
                                            ref.to_string(), facts->type)});
      return;
    }
    add_load_balancer(host, facts->load_balancer, source);
  }

  void read_dns_pods() {
    Access access = access_for(Feature::dns_pods, m_targets.dns_namespace);
    auto list = get(fmt::format("/api/v1/namespaces/{}/pods?labelSelector={}", m_targets.dns_namespace,
                                url_encode(m_targets.dns_selector)),
                    access, KubeScope::resolvers);
    if (!list)
      return;
    auto pods = ready_dns_pods(*list);
    if (!pods) {
      m_out.problems.push_back(shape_problem(access, pods.error(), KubeScope::resolvers));
      return;
    }
    m_out.dns_pods = std::move(*pods);
  }

  // Only scope inference depends on this read, so a failure is a note, never a problem: resolvers
  // given by address then stay external unless declared.
  void read_dns_service() {
    const ObjectRef& ref = m_targets.dns_service;
    Access access = access_for(Feature::cluster_dns_service, ref.namespace_, ref.name);
    auto fallback = fmt::format("resolvers given by address count as external unless declared (LABEL=cluster:IP)");
    auto service = m_client.get(fmt::format("/api/v1/namespaces/{}/services/{}", ref.namespace_, ref.name), access);
    if (!service) {
      m_out.notes.push_back(fmt::format("resolver scope: {}; {}", service.error().describe(), fallback));
      return;
    }
    auto facts = read_service(*service);
    if (!facts || facts->cluster_ips.empty()) {
      m_out.notes.push_back(fmt::format("resolver scope: Service {} has no ClusterIP; {}", ref.to_string(), fallback));
      return;
    }
    m_out.dns_service_ips = facts->cluster_ips;
  }

  void read_workspace_pods() {
    std::vector<AgentPodHost> agents;
    bool complete = true;
    for (const std::string& ns : m_targets.workspace_namespaces) {
      Access access = access_for(Feature::workspace_pods, ns);
      std::string next;
      for (std::size_t page = 0; page < m_targets.max_pod_pages; ++page) {
        std::string path = fmt::format("/api/v1/namespaces/{}/pods?limit={}", ns, k_pod_page_size);
        if (!next.empty())
          path += "&continue=" + url_encode(next);
        auto list = get(path, access, KubeScope::audit);
        if (!list) {
          complete = false;
          break;
        }
        auto found = agent_pods(*list);
        if (!found) {
          m_out.problems.push_back(shape_problem(access, found.error(), KubeScope::audit));
          complete = false;
          break;
        }
        agents.insert(agents.end(), found->begin(), found->end());
        const json* meta = list->contains("metadata") ? &(*list)["metadata"] : nullptr;
        next = meta != nullptr && meta->is_object() && meta->contains("continue") && (*meta)["continue"].is_string()
                   ? (*meta)["continue"].get<std::string>()
                   : std::string();
        if (next.empty())
          break;
        if (page + 1 == m_targets.max_pod_pages)
          m_out.notes.push_back(fmt::format("workspace audit: namespace {} has more than {} pods; audited the first {}",
                                            ns, m_targets.max_pod_pages * k_pod_page_size,
                                            m_targets.max_pod_pages * k_pod_page_size));
      }
    }
    if (complete || !agents.empty())
      m_out.agents = std::move(agents);
  }

  Client& m_client;
  const Targets& m_targets;
  const Wants& m_wants;
  Discovery& m_out;
};

} // namespace

const std::vector<Permission>& permissions() {
  return k_permissions;
}

Access access_for(Feature feature, std::string namespace_, std::string name) {
  for (const Permission& permission : k_permissions)
    if (permission.feature == feature)
      return {std::string(permission.verb), std::string(permission.group), std::string(permission.resource),
              permission.namespace_option.empty() ? std::string() : std::move(namespace_),
              permission.verb == "get" ? std::move(name) : std::string()};
  throw std::logic_error("access_for: a feature without a permission");
}

KubeProblem problem_of(const ApiError& error, KubeScope scope) {
  KubeFailure failure = KubeFailure::unreachable;
  switch (error.kind) {
  case ErrorKind::credentials: failure = KubeFailure::credentials; break;
  case ErrorKind::unauthorized: failure = KubeFailure::unauthorized; break;
  case ErrorKind::forbidden: failure = KubeFailure::forbidden; break;
  case ErrorKind::not_found: failure = KubeFailure::missing; break;
  case ErrorKind::server_error:
  case ErrorKind::conflict:
  case ErrorKind::http_error: failure = KubeFailure::server; break;
  case ErrorKind::malformed:
  case ErrorKind::too_large: failure = KubeFailure::malformed; break;
  case ErrorKind::timeout:
  case ErrorKind::transport:
  case ErrorKind::skipped: failure = KubeFailure::unreachable; break;
  }
  return {scope, failure, error.describe()};
}

Discovery discover(Client& client, const Targets& targets, const Wants& wants) {
  Discovery out;
  try {
    Reader(client, targets, wants, out).run();
  } catch (const nlohmann::json::exception& error) {
    // a shape no check above expected: report it, never crash the check
    out.problems.push_back({KubeScope::truth, KubeFailure::malformed,
                            fmt::format("an API answer has an unexpected shape ({})", error.what())});
  }
  return out;
}

} // namespace coder_dns_doctor::k8s
