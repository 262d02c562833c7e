// What one probe cycle checks: hosts, resolution paths, URLs. Built once from configuration.
#pragma once

#include <coder_dns_doctor/dns/resolv_conf.hpp>
#include <coder_dns_doctor/probe/observations.hpp>
#include <coder_dns_doctor/util/address.hpp>
#include <coder_dns_doctor/util/url.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::probe {

// The resolver SPEC that stands for every ready CoreDNS pod, asked directly; the checkup expands
// it into one resolver per pod (label `<LABEL>/<pod name>`) from the Kubernetes API.
inline constexpr std::string_view k_kube_dns_pods_spec = "kube-dns-pods";

// Why a host is checked: analysis names its findings after the role.
enum class HostRole { external, internal, extra };

struct ResolverPlan {
  std::string label;
  std::string spec;                     // as configured: "system" or the server list
  std::vector<util::Endpoint> servers;  // who is asked
  std::optional<dns::ResolvConf> system; // set for `system`: also run the search-list lookup
  // Whether this path can answer cluster names (the pod's resolv.conf, CoreDNS pods). A LAN or
  // public resolver cannot, so the internal host is asked only of cluster-aware resolvers when
  // there is at least one.
  bool knows_cluster_names = false;
};

struct HostPlan {
  std::string host; // lower case, no trailing dot
  HostRole role = HostRole::extra;
};

struct UrlPlan {
  util::Url url;
  HostRole role = HostRole::external; // external or internal
};

struct CheckSet {
  bool dns = true;
  bool http = true;
  bool kube = true;
};

struct Plan {
  std::vector<ResolverPlan> resolvers;
  std::vector<HostPlan> hosts;
  std::vector<UrlPlan> urls;
  std::vector<Family> families{Family::a, Family::aaaa};
  std::chrono::milliseconds timeout{2000};
  std::string ca_file;
  CheckSet checks;

  [[nodiscard]] const UrlPlan* url_for(HostRole role) const;
  [[nodiscard]] HostRole role_of(std::string_view host) const;
};

} // namespace coder_dns_doctor::probe
