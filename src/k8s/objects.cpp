#include <coder_dns_doctor/k8s/json_access.hpp>
#include <coder_dns_doctor/k8s/objects.hpp>

#include <coder_dns_doctor/util/strings.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace coder_dns_doctor::k8s {
namespace {

using nlohmann::json;

std::expected<const json*, std::string> items_of(const json& list) {
  const json* items = member(list, "items");
  if (items == nullptr || !items->is_array())
    return std::unexpected(std::string("not a list object (no \"items\" array)"));
  return items;
}

bool is_dns_label(std::string_view text) {
  return !text.empty() && text.size() <= 63 && std::isalnum(static_cast<unsigned char>(text.front())) != 0 &&
         std::isalnum(static_cast<unsigned char>(text.back())) != 0 &&
         std::all_of(text.begin(), text.end(), [](char c) {
           return (std::islower(static_cast<unsigned char>(c)) != 0) ||
                  (std::isdigit(static_cast<unsigned char>(c)) != 0) || c == '-';
         });
}

void sort_unique(std::vector<std::string>& values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

std::string normalise_host(std::string_view text) {
  std::string host = util::to_lower(util::trim(text));
  if (!host.empty() && host.back() == '.')
    host.pop_back();
  return host;
}

LoadBalancer read_load_balancer(const json& object) {
  LoadBalancer lb;
  const json* entries = path(object, {"status", "loadBalancer", "ingress"});
  if (entries == nullptr || !entries->is_array())
    return lb;
  for (const json& entry : *entries) {
    if (auto ip = util::parse_ip(text_at(entry, "ip")))
      lb.ips.push_back(ip->text);
    else if (std::string hostname = normalise_host(text_at(entry, "hostname")); !hostname.empty())
      lb.hostnames.push_back(hostname);
  }
  sort_unique(lb.ips);
  sort_unique(lb.hostnames);
  return lb;
}

ObjectRef ref_of(const json& object) {
  return {text_at(child(object, "metadata"), "namespace"), text_at(child(object, "metadata"), "name")};
}

} // namespace

std::expected<ObjectRef, std::string> parse_object_ref(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos || text.find('/', slash + 1) != std::string_view::npos)
    return std::unexpected(fmt::format("'{}': expected NAMESPACE/NAME", text));
  ObjectRef ref{std::string(text.substr(0, slash)), std::string(text.substr(slash + 1))};
  if (!is_dns_label(ref.namespace_))
    return std::unexpected(
        fmt::format("'{}': '{}' is not a namespace name (lower-case DNS label)", text, ref.namespace_));
  bool name_ok =
      !ref.name.empty() && ref.name.size() <= 253 && std::all_of(ref.name.begin(), ref.name.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) != 0 || std::isdigit(static_cast<unsigned char>(c)) != 0 ||
               c == '-' || c == '.';
      });
  if (!name_ok)
    return std::unexpected(fmt::format("'{}': '{}' is not an object name", text, ref.name));
  return ref;
}

std::optional<ObjectRef> service_of_host(std::string_view host) {
  std::vector<std::string> labels = util::split(normalise_host(host), '.');
  if (labels.size() < 3 || labels[2] != "svc" || !is_dns_label(labels[0]) || !is_dns_label(labels[1]))
    return std::nullopt;
  return ObjectRef{labels[1], labels[0]};
}

std::expected<ServiceFacts, std::string> read_service(const json& service) {
  const json* spec = member(service, "spec");
  if (spec == nullptr || !spec->is_object())
    return std::unexpected(std::string("not a Service object (no \"spec\")"));
  ServiceFacts facts;
  if (std::string type = text_at(*spec, "type"); !type.empty())
    facts.type = type;
  std::vector<std::string> raw;
  if (const json* ips = member(*spec, "clusterIPs"); ips != nullptr && ips->is_array()) {
    for (const json& ip : *ips)
      if (ip.is_string())
        raw.push_back(ip.get<std::string>());
  }
  if (raw.empty())
    if (std::string ip = text_at(*spec, "clusterIP"); !ip.empty())
      raw.push_back(ip);
  for (const std::string& text : raw) {
    if (text == "None") {
      facts.headless = true;
      continue;
    }
    if (auto ip = util::parse_ip(text))
      facts.cluster_ips.push_back(ip->text);
  }
  if (facts.headless)
    facts.cluster_ips.clear();
  sort_unique(facts.cluster_ips);
  if (facts.type == "LoadBalancer")
    facts.load_balancer = read_load_balancer(service);
  if (const json* ports = member(*spec, "ports"); ports != nullptr && ports->is_array())
    for (const json& port : *ports)
      if (const json* number = member(port, "port"); number != nullptr && number->is_number_integer())
        facts.ports.push_back(number->get<int>());
  return facts;
}

std::expected<std::vector<std::string>, std::string> ready_endpoint_addresses(const json& list) {
  auto items = items_of(list);
  if (!items)
    return std::unexpected(items.error());
  std::vector<std::string> addresses;
  for (const json& slice : **items) {
    const json* endpoints = member(slice, "endpoints");
    if (endpoints == nullptr || !endpoints->is_array())
      continue;
    for (const json& endpoint : *endpoints) {
      const json* ready = path(endpoint, {"conditions", "ready"});
      if (ready != nullptr && ready->is_boolean() && !ready->get<bool>())
        continue;
      const json* list_of = member(endpoint, "addresses");
      if (list_of == nullptr || !list_of->is_array())
        continue;
      for (const json& address : *list_of)
        if (address.is_string())
          if (auto ip = util::parse_ip(address.get<std::string>()))
            addresses.push_back(ip->text);
    }
  }
  sort_unique(addresses);
  return addresses;
}

bool rule_host_matches(std::string_view rule_text, std::string_view host_text) {
  std::string rule = normalise_host(rule_text);
  std::string host = normalise_host(host_text);
  if (rule.empty() || host.empty())
    return false;
  if (!rule.starts_with("*."))
    return rule == host;
  // "*.example.com" matches exactly one more label: "a.example.com", not "example.com" or "a.b.example.com"
  std::string suffix = rule.substr(1);
  if (host.size() <= suffix.size() || !host.ends_with(suffix))
    return false;
  std::string_view first = std::string_view(host).substr(0, host.size() - suffix.size());
  return !first.empty() && first.find('.') == std::string_view::npos;
}

std::expected<std::vector<IngressMatch>, std::string> ingresses_for_host(const json& list, std::string_view host) {
  auto items = items_of(list);
  if (!items)
    return std::unexpected(items.error());
  std::vector<IngressMatch> matches;
  for (const json& ingress : **items) {
    std::optional<std::string> matched;
    if (const json* rules = path(ingress, {"spec", "rules"}); rules != nullptr && rules->is_array())
      for (const json& rule : *rules)
        if (std::string rule_host = text_at(rule, "host"); !matched && rule_host_matches(rule_host, host))
          matched = rule_host;
    if (!matched)
      continue;
    matches.push_back({ref_of(ingress), *matched, read_load_balancer(ingress)});
  }
  std::sort(matches.begin(), matches.end(),
            [](const IngressMatch& a, const IngressMatch& b) { return a.ingress.to_string() < b.ingress.to_string(); });
  return matches;
}

std::expected<std::optional<AccessUrlSource>, std::string> access_url_source(const json& deployment) {
  const json* containers = path(deployment, {"spec", "template", "spec", "containers"});
  if (containers == nullptr || !containers->is_array())
    return std::unexpected(std::string("not a Deployment object (no spec.template.spec.containers)"));
  std::optional<AccessUrlSource> found;
  for (const json& container : *containers) {
    const json* env = member(container, "env");
    if (env == nullptr || !env->is_array())
      continue;
    for (const json& variable : *env) {
      if (text_at(variable, "name") != "CODER_ACCESS_URL")
        continue;
      AccessUrlSource source;
      source.container = text_at(container, "name");
      if (const json* value = member(variable, "value"); value != nullptr && value->is_string()) {
        source.literal = value->get<std::string>();
      } else if (const json* ref = path(variable, {"valueFrom", "configMapKeyRef"}); ref != nullptr) {
        source.config_map = ObjectRef{text_at(child(deployment, "metadata"), "namespace"), text_at(*ref, "name")};
        source.key = text_at(*ref, "key");
      } else if (const json* from = member(variable, "valueFrom");
                 from != nullptr && from->is_object() && !from->empty()) {
        source.unsupported = from->begin().key();
      } else {
        source.literal = std::string(); // declared empty
      }
      // the container named "coder" (the Helm chart's) wins over sidecars
      if (!found || source.container == "coder")
        found = source;
    }
  }
  return found;
}

std::expected<std::optional<std::string>, std::string> config_map_value(const json& config_map, std::string_view key) {
  if (!config_map.is_object() || !config_map.contains("metadata"))
    return std::unexpected(std::string("not a ConfigMap object (no metadata)"));
  const json* data = member(config_map, "data");
  if (data == nullptr)
    return std::optional<std::string>{};
  const json* value = member(*data, key);
  if (value == nullptr || !value->is_string())
    return std::optional<std::string>{};
  return std::optional<std::string>{value->get<std::string>()};
}

std::expected<std::vector<DnsPod>, std::string> ready_dns_pods(const json& list) {
  auto items = items_of(list);
  if (!items)
    return std::unexpected(items.error());
  std::vector<DnsPod> pods;
  for (const json& pod : **items) {
    if (path(pod, {"metadata", "deletionTimestamp"}) != nullptr)
      continue;
    if (text_at(child(pod, "status"), "phase") != "Running")
      continue;
    bool ready = false;
    if (const json* conditions = path(pod, {"status", "conditions"}); conditions != nullptr && conditions->is_array())
      for (const json& condition : *conditions)
        if (text_at(condition, "type") == "Ready" && text_at(condition, "status") == "True")
          ready = true;
    if (!ready)
      continue;
    auto ip = util::parse_ip(text_at(child(pod, "status"), "podIP"));
    if (!ip)
      continue;
    std::uint16_t port = 53;
    if (const json* containers = path(pod, {"spec", "containers"}); containers != nullptr && containers->is_array())
      for (const json& container : *containers)
        if (const json* ports = member(container, "ports"); ports != nullptr && ports->is_array())
          for (const json& declared : *ports) {
            std::string protocol = text_at(declared, "protocol");
            const json* number = member(declared, "containerPort");
            if (text_at(declared, "name") == "dns" && (protocol.empty() || protocol == "UDP") && number != nullptr &&
                number->is_number_integer() && number->get<int>() > 0 && number->get<int>() < 65536)
              port = static_cast<std::uint16_t>(number->get<int>());
          }
    pods.push_back({text_at(child(pod, "metadata"), "name"), {*ip, port}});
  }
  std::sort(pods.begin(), pods.end(), [](const DnsPod& a, const DnsPod& b) { return a.name < b.name; });
  return pods;
}

} // namespace coder_dns_doctor::k8s
