// What one probe cycle checks: hosts, resolution paths, URLs. Built once from configuration.
#pragma once

#include <coder_dns_doctor/dns/hosts_file.hpp>
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

// Whether a resolver can answer cluster names (`*.svc.<cluster domain>`, the internal host).
// `cluster`: the pod's resolv.conf, CoreDNS pods, an address that is a resolv.conf nameserver or
// the cluster DNS Service's ClusterIP, or declared with `LABEL=cluster:SERVERS`. `external`: a LAN
// or public resolver, which cannot know them (its NXDOMAIN for them is no failure).
enum class ResolverScope { cluster, external };
[[nodiscard]] std::string_view to_string(ResolverScope scope);

// What a `system` resolver reads before DNS, as libc and the agent's Go resolver do.
struct HostsLookup {
  dns::HostsFile file;
  std::string order; // the nsswitch `hosts:` order that puts files first, for evidence
};

struct ResolverPlan {
  std::string label;
  std::string spec;                      // as configured: "system", "kube-dns-pods" or the server list
  std::vector<util::Endpoint> servers;   // who is asked
  std::optional<dns::ResolvConf> system; // set for `system`: also run the search-list lookup
  std::optional<HostsLookup> hosts;      // set for `system` when nsswitch reads files before DNS
  ResolverScope scope = ResolverScope::external;
  std::string scope_reason;    // why: "system resolver", "declared", "nameserver of /etc/resolv.conf", ...
  bool scope_declared = false; // given by the user: inference leaves it alone

  [[nodiscard]] bool cluster_scoped() const { return scope == ResolverScope::cluster; }
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
  bool transport = true; // WebSocket/DERP/agent routes on every path /healthz answers (needs http)
};

struct Plan {
  std::vector<ResolverPlan> resolvers;
  std::vector<HostPlan> hosts;
  std::vector<UrlPlan> urls;
  std::vector<Family> families{Family::a, Family::aaaa};
  // The cluster's DNS domain: from the resolv.conf search list (`svc.<domain>`), else cluster.local.
  std::string cluster_domain = "cluster.local";
  std::chrono::milliseconds timeout{2000};
  std::string ca_file;
  CheckSet checks;
  std::string agent_arch = "amd64"; // the agent binary the agent-binary check asks for
  // diagnose --hold: keep each DERP WebSocket this long after its first frame (0: do not hold).
  std::chrono::milliseconds hold{0};

  [[nodiscard]] const UrlPlan* url_for(HostRole role) const;
  [[nodiscard]] HostRole role_of(std::string_view host) const;
  [[nodiscard]] const ResolverPlan* resolver(std::string_view label) const;
  // Return whether only cluster-scoped resolvers can know `host`: the internal URL's host and any
  // name under the cluster domain.
  [[nodiscard]] bool is_cluster_only(std::string_view host) const;
  // The same for one of `hosts` (its role is its own: no search of the list, which made a cycle
  // of N hosts cost N^2 string comparisons).
  [[nodiscard]] bool is_cluster_only(const HostPlan& entry) const;
  [[nodiscard]] bool has_cluster_resolver() const;
  // Return whether resolver `label` (an observation's resolver) was asked `host` although it cannot
  // know it: a cluster-only name on an external resolver (asked only when no resolver is cluster-scoped).
  [[nodiscard]] bool outside_scope(std::string_view label, std::string_view host) const;
};

// Make every server-list resolver of `plan` that has no declared scope cluster-scoped when one of
// its servers (address and port) is in `known`: it then asks what pods ask. `what` names the list
// for the reason ("a nameserver of /etc/resolv.conf", "the ClusterIP of Service kube-system/kube-dns").
void scope_by_servers(Plan& plan, const std::vector<util::Endpoint>& known, std::string_view what);

} // namespace coder_dns_doctor::probe
