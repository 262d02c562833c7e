// The probe options shared by diagnose, serve and sidecar, and the Plan they turn into.
#pragma once

#include <coder_dns_doctor/doctor/checkup.hpp>
#include <coder_dns_doctor/probe/plan.hpp>
#include <coder_dns_doctor/truth/truth.hpp>

#include <coder_dns_doctor/k8s/objects.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace coder_dns_doctor::cli {

// Raw option values as typed; make_plan() validates them.
struct ProbeOptions {
  std::string external_url;
  std::string internal_url = "http://coder.coder.svc.cluster.local:80";
  std::vector<std::string> resolvers;
  std::string resolv_conf = "/etc/resolv.conf";
  std::string hosts_file = "/etc/hosts";
  std::string nsswitch_conf = "/etc/nsswitch.conf";
  std::vector<std::string> expect;
  std::string kube = "auto";
  std::string kube_token_file;
  std::string kube_ca_file;
  bool kube_insecure = false;
  std::string coder_service;                 // NS/NAME; default from the internal URL, else coder/coder
  std::string coder_deployment;              // NS/NAME; default: the Coder Service's
  std::vector<std::string> ingress_services; // NS/NAME of LoadBalancer Services in front of Coder
  std::vector<std::string> workspace_namespaces{"coder-workspace"}; // '' turns the audit off
  std::string kube_dns_namespace = "kube-system";
  std::string kube_dns_selector = "k8s-app=kube-dns";
  std::string kube_dns_service = "kube-system/kube-dns"; // its ClusterIP makes a resolver cluster-scoped
  std::string coder_token_file;                          // a Coder session token: turns on coderd's view of its agents
  std::string coder_url;                                 // default: the internal URL
  std::string ca_file;
  std::string timeout = "2s";
  std::string family = "both";
  std::vector<std::string> hosts;
  std::string checks;
  std::string agent_arch = "amd64";
  std::string hold; // diagnose --hold: empty or a duration
};

// Register every shared probe option on `command`, writing into `options`.
void add_probe_options(CLI::App& command, ProbeOptions& options);

// Return the Plan for `options`; throw core::UsageError naming the bad option otherwise.
[[nodiscard]] probe::Plan make_plan(const ProbeOptions& options);

// Return everything a checkup needs from `options` (plan, static truth, Kubernetes settings);
// throw core::UsageError naming the bad option otherwise.
[[nodiscard]] doctor::Settings make_settings(const ProbeOptions& options);

// Parse `NS/NAME` given to `option`: nullopt when empty; throw core::UsageError naming the option
// when malformed.
[[nodiscard]] std::optional<k8s::ObjectRef> parse_ref_option(const std::string& option, const std::string& value);

// Parse a duration given to `option` (`1500ms`, `2s`, `5m`); throw core::UsageError naming the
// option and the value otherwise.
[[nodiscard]] std::chrono::milliseconds parse_duration_option(const std::string& option, const std::string& value);

// Parse every `--expect HOST=ADDR[,ADDR...]`; throw core::UsageError on a malformed one.
[[nodiscard]] std::vector<truth::TruthEntry> parse_expectations(const std::vector<std::string>& expect);

// Parse one `--resolver LABEL=SPEC`, reading `resolv_conf` for `system`; `kube-dns-pods` gives a
// resolver without servers that the checkup expands from the API server. A server list may be
// declared `cluster:IP...` or `external:IP...`; undeclared lists stay external until
// infer_scopes() looks at them. Throw core::UsageError.
[[nodiscard]] probe::ResolverPlan parse_resolver(const std::string& text, const std::string& resolv_conf);

// Make every undeclared server-list resolver of `plan` cluster-scoped when one of its servers is a
// nameserver of `pod_resolv_conf` (read from `origin`): the pod's own DNS given by address.
void infer_scopes(probe::Plan& plan, const dns::ResolvConf& pod_resolv_conf, std::string_view origin);

// Return the cluster domain named by a resolv.conf search list (`svc.<domain>`), else cluster.local.
[[nodiscard]] std::string cluster_domain_of(const dns::ResolvConf& conf);

} // namespace coder_dns_doctor::cli
