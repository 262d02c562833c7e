// Reading Kubernetes objects (as JSON) into the facts truth discovery needs. Pure: no I/O, so
// table tests cover every mapping. A shape error is a message, never an exception.
#pragma once

#include <coder_dns_doctor/util/address.hpp>

#include <nlohmann/json.hpp>

#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::k8s {

struct ObjectRef {
  std::string namespace_;
  std::string name;
  [[nodiscard]] std::string to_string() const { return namespace_ + "/" + name; }
  friend bool operator==(const ObjectRef&, const ObjectRef&) = default;
};

// Parse `NS/NAME` (DNS-1123 labels); the error says what was expected.
[[nodiscard]] std::expected<ObjectRef, std::string> parse_object_ref(std::string_view text);

// Return the Service a cluster DNS name denotes: `<svc>.<ns>.svc` or `<svc>.<ns>.svc.<domain>`.
[[nodiscard]] std::optional<ObjectRef> service_of_host(std::string_view host);

// `status.loadBalancer.ingress[]` of a Service or an Ingress: IPs and hostnames (lower case).
struct LoadBalancer {
  std::vector<std::string> ips; // canonical text, sorted, unique
  std::vector<std::string> hostnames;
  [[nodiscard]] bool empty() const { return ips.empty() && hostnames.empty(); }
};

struct ServiceFacts {
  std::string type = "ClusterIP";
  bool headless = false;
  std::vector<std::string> cluster_ips; // canonical, sorted; empty when headless
  LoadBalancer load_balancer;           // only for type LoadBalancer
  std::vector<int> ports;
};

[[nodiscard]] std::expected<ServiceFacts, std::string> read_service(const nlohmann::json& service);

// Return the addresses of the ready endpoints in an EndpointSliceList (`ready` absent counts as ready).
[[nodiscard]] std::expected<std::vector<std::string>, std::string> ready_endpoint_addresses(const nlohmann::json& list);

// Whether an Ingress rule host matches `host`: exactly, or `*.suffix` matching one more label.
[[nodiscard]] bool rule_host_matches(std::string_view rule, std::string_view host);

struct IngressMatch {
  ObjectRef ingress;
  std::string rule_host; // as written in the rule, e.g. "*.example.test"
  LoadBalancer load_balancer;
};

// Return the Ingresses of an IngressList with a rule (or TLS entry) for `host`.
[[nodiscard]] std::expected<std::vector<IngressMatch>, std::string> ingresses_for_host(const nlohmann::json& list,
                                                                                       std::string_view host);

// Where a Deployment's container takes CODER_ACCESS_URL from.
struct AccessUrlSource {
  std::string container;
  std::optional<std::string> literal;     // env value
  std::optional<ObjectRef> config_map;    // env valueFrom.configMapKeyRef (namespace = the Deployment's)
  std::string key;                        // its key
  std::optional<std::string> unsupported; // e.g. "secretKeyRef": not read, by design
};

// Return the CODER_ACCESS_URL source of `deployment` (nullopt when no container sets it).
[[nodiscard]] std::expected<std::optional<AccessUrlSource>, std::string>
access_url_source(const nlohmann::json& deployment);

// Return `data[key]` of a ConfigMap.
[[nodiscard]] std::expected<std::optional<std::string>, std::string> config_map_value(const nlohmann::json& config_map,
                                                                                      std::string_view key);

struct DnsPod {
  std::string name;
  util::Endpoint endpoint; // pod IP and its UDP "dns" port (53 when none is declared)
};

// Return the ready, non-terminating pods of a PodList with their DNS endpoints, sorted by name.
[[nodiscard]] std::expected<std::vector<DnsPod>, std::string> ready_dns_pods(const nlohmann::json& list);

} // namespace coder_dns_doctor::k8s
