// Layer 4 (k8s: the Kubernetes API reader; uses http, dns, truth, util; not probe or analysis).
// See README "Layers".
// Truth discovery: read the Coder Service, Ingresses, Deployment, CoreDNS pods and workspace pods
// from the API server and turn them into truth entries, the access URL, resolvers and agents.
#pragma once

#include <coder_dns_doctor/k8s/client.hpp>
#include <coder_dns_doctor/k8s/facts.hpp>
#include <coder_dns_doctor/k8s/objects.hpp>
#include <coder_dns_doctor/k8s/workspace.hpp>
#include <coder_dns_doctor/truth/truth.hpp>
#include <coder_dns_doctor/util/url.hpp>

#include <optional>
#include <string>
#include <vector>

namespace coder_dns_doctor::k8s {

// Every API request discovery makes, once: the RBAC table of docs/kubernetes.md and docs/rbac.yaml
// (a unit test keeps them equal) and the Access each 403 explains.
enum class Feature {
  coder_service,         // the internal host's truth
  coder_endpoints,       // ... when that Service is headless
  access_url,            // the external URL from the Coder Deployment
  access_url_config_map, // ... when CODER_ACCESS_URL comes from a ConfigMap
  ingresses,             // the external host's truth from Ingresses
  ingress_service,       // ... or from --ingress-service
  dns_pods,              // --resolver LABEL=kube-dns-pods
  cluster_dns_service,   // the cluster DNS Service's ClusterIP: scope of resolvers given by address
  workspace_pods,        // the workspace-pod audit
};

struct Permission {
  Feature feature;
  std::string_view name; // as in docs/rbac.yaml
  std::string_view verb;
  std::string_view group; // "" = core
  std::string_view resource;
  std::string_view namespace_option; // the option naming the namespace; "" = cluster-wide (ClusterRole)
  std::string_view default_namespace;
  std::string_view when; // when the request is made
};

[[nodiscard]] const std::vector<Permission>& permissions();
// Return the Access of `feature` on `namespace_` (and object `name` for a get).
[[nodiscard]] Access access_for(Feature feature, std::string namespace_ = {}, std::string name = {});

// Which objects to read (the --coder-service, --ingress-service, ... options).
struct Targets {
  std::optional<ObjectRef> coder_service;    // default: from the internal host, else coder/coder
  std::optional<ObjectRef> coder_deployment; // default: the Coder Service's namespace/name
  std::vector<ObjectRef> ingress_services;   // when set, used instead of listing Ingresses
  std::vector<std::string> workspace_namespaces{"coder-workspace"};
  std::string dns_namespace = "kube-system";
  std::string dns_selector = "k8s-app=kube-dns";
  ObjectRef dns_service{"kube-system", "kube-dns"}; // --kube-dns-service
  std::size_t max_pod_pages = 10;                   // x 500 pods per workspace namespace
};

// What this check needs from the API server.
struct Wants {
  std::string external_host; // empty: not known yet (the Deployment's CODER_ACCESS_URL decides it)
  std::string internal_host;
  enum class Need { yes, no };
  Need external_url = Need::no;
  Need dns_pods = Need::no;
  Need workspace_audit = Need::no;
  Need dns_service = Need::no; // some resolver given by address has no scope yet
};

// A load-balancer hostname whose addresses are truth for a host once resolved.
struct HostnameClaim {
  std::string host;     // the Coder host it stands for
  std::string hostname; // what the load balancer status says
  std::string source;   // kubernetes:ingress/<ns>/<name> or kubernetes:service/<ns>/<name>
};

struct Discovery {
  std::vector<truth::TruthEntry> entries;
  std::vector<std::string> notes;
  std::vector<HostnameClaim> hostnames;
  std::optional<util::Url> external_url; // from the Deployment, when asked
  std::optional<std::vector<DnsPod>> dns_pods;
  std::vector<std::string> dns_service_ips; // ClusterIPs of the cluster DNS Service, when read
  std::optional<std::vector<AgentPodHost>> agents;
  std::vector<KubeProblem> problems;
};

// Read what `wants` asks for, within `targets`, through `client`. Never throws for failures of
// the world: each becomes a problem naming the request, and discovery goes on with the rest.
[[nodiscard]] Discovery discover(Client& client, const Targets& targets, const Wants& wants);

// Return the problem an API error stands for, in `scope`.
[[nodiscard]] KubeProblem problem_of(const ApiError& error, KubeScope scope);

} // namespace coder_dns_doctor::k8s
