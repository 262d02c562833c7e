#include <coder_dns_doctor/cli/probe_options.hpp>
#include <coder_dns_doctor/core/usage_error.hpp>
#include <coder_dns_doctor/k8s/connection.hpp>
#include <coder_dns_doctor/k8s/objects.hpp>
#include <coder_dns_doctor/util/bounded_read.hpp>
#include <coder_dns_doctor/util/duration.hpp>
#include <coder_dns_doctor/util/strings.hpp>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <set>

namespace coder_dns_doctor::cli {
namespace {

bool is_label(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' ||
           c == '_' || c == '.';
  });
}

bool is_host_name(std::string_view text) {
  return !text.empty() && text.size() <= 253 && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == ':';
  });
}

std::string normalise_host(std::string_view text) {
  std::string host = util::to_lower(util::trim(text));
  if (!host.empty() && host.back() == '.')
    host.pop_back();
  return host;
}

util::Url parse_url_option(const std::string& option, const std::string& value) {
  auto url = util::parse_url(value);
  if (!url)
    throw core::UsageError(fmt::format("{}: {}", option, url.error()));
  return *url;
}

// The pod's resolv.conf for scope inference and the cluster domain, when no `system` resolver has
// read it already. A missing file is no error here (a laptop has one, a scratch image may not);
// anything else wrong with it is, since the user named it or the system's is broken.
std::optional<dns::ResolvConf> pod_resolv_conf(const probe::Plan& plan, const std::string& path) {
  for (const auto& resolver : plan.resolvers)
    if (resolver.system)
      return resolver.system;
  bool needed = std::any_of(plan.resolvers.begin(), plan.resolvers.end(),
                            [](const probe::ResolverPlan& r) { return !r.scope_declared && !r.cluster_scoped(); });
  if (!needed)
    return std::nullopt;
  auto text = util::read_bounded(path, util::k_small_file_limit);
  if (!text) {
    if (text.error().problem == util::FileProblem::missing)
      return std::nullopt;
    throw core::UsageError(fmt::format("--resolv-conf: {}", text.error().message));
  }
  auto conf = dns::parse_resolv_conf(*text, path);
  if (!conf)
    throw core::UsageError(fmt::format("--resolv-conf: {}", conf.error()));
  return *conf;
}

// What the agent's own lookup reads before DNS: the hosts file, when nsswitch puts files first.
std::optional<probe::HostsLookup> hosts_lookup(const ProbeOptions& options) {
  std::vector<dns::HostsSource> order{dns::HostsSource::files, dns::HostsSource::dns};
  std::string order_text = "files dns (no nsswitch.conf)";
  if (!options.nsswitch_conf.empty()) {
    auto text = util::read_bounded(options.nsswitch_conf, util::k_small_file_limit);
    if (text) {
      order = dns::parse_nsswitch_hosts(*text);
      order_text = fmt::format("the hosts: line of {}", options.nsswitch_conf);
    } else if (text.error().problem != util::FileProblem::missing) {
      throw core::UsageError(fmt::format("--nsswitch-conf: {}", text.error().message));
    }
  }
  if (!dns::files_before_dns(order) || options.hosts_file.empty())
    return std::nullopt;
  auto file = dns::read_hosts_file(options.hosts_file);
  if (!file) {
    if (file.error().problem == util::FileProblem::missing)
      return std::nullopt;
    throw core::UsageError(fmt::format("--hosts-file: {}", file.error().message));
  }
  return probe::HostsLookup{.file = std::move(*file), .order = std::move(order_text)};
}

// Give the plan the pod's view: hosts file for `system` resolvers, scopes, cluster domain.
void apply_pod_view(probe::Plan& plan, const ProbeOptions& options) {
  bool has_system = std::any_of(plan.resolvers.begin(), plan.resolvers.end(),
                                [](const probe::ResolverPlan& r) { return r.system.has_value(); });
  if (has_system) {
    auto hosts = hosts_lookup(options);
    for (auto& resolver : plan.resolvers)
      if (resolver.system)
        resolver.hosts = hosts;
  }
  if (auto conf = pod_resolv_conf(plan, options.resolv_conf)) {
    infer_scopes(plan, *conf, options.resolv_conf);
    plan.cluster_domain = cluster_domain_of(*conf);
  }
}

} // namespace

void add_probe_options(CLI::App& command, ProbeOptions& options) {
  command.add_option("--external-url", options.external_url,
                     "The Coder access URL as users see it (default: discovered from Kubernetes)");
  command.add_option("--internal-url", options.internal_url, "The in-cluster Service URL")->capture_default_str();
  command
      .add_option("--resolver", options.resolvers,
                  "LABEL=SPEC, repeatable: SPEC is 'system' (hosts file, then resolv.conf with search list and "
                  "ndots), IP[:PORT][,IP[:PORT]...], or 'kube-dns-pods' (every ready CoreDNS pod, asked directly; "
                  "resolvers LABEL/<pod>). Scope: 'system' and 'kube-dns-pods' can answer cluster names; a server "
                  "list can when one of its servers is a nameserver of --resolv-conf or the ClusterIP of "
                  "--kube-dns-service, or when declared 'cluster:IP...' ('external:IP...' declares it cannot) "
                  "(default: cluster=system)")
      ->take_all();
  command
      .add_option("--resolv-conf", options.resolv_conf,
                  "The resolv.conf used by 'system' resolvers (its nameservers also make a server list cluster-scoped)")
      ->capture_default_str();
  command
      .add_option("--hosts-file", options.hosts_file,
                  "The hosts file 'system' resolvers read before DNS, as libc and the agent do")
      ->capture_default_str();
  command
      .add_option("--nsswitch-conf", options.nsswitch_conf,
                  "nsswitch.conf whose 'hosts:' line orders files and dns (absent: files, then dns)")
      ->capture_default_str();
  command.add_option("--expect", options.expect, "HOST=ADDR[,ADDR...], repeatable: static truth for a host")
      ->take_all();
  command.add_option("--kube", options.kube, "auto | off | in-cluster | API base URL")->capture_default_str();
  command.add_option("--kube-token-file", options.kube_token_file,
                     "Bearer token file, re-read for every request (default in-cluster: the service-account token)");
  command.add_option(
      "--kube-ca-file", options.kube_ca_file,
      "CA bundle of the API server (default in-cluster: the service-account ca.crt; URL mode: system store)");
  command.add_flag("--kube-insecure", options.kube_insecure,
                   "Do not verify the API server's TLS certificate (prints a warning; for tests only)");
  command.add_option("--coder-service", options.coder_service,
                     "NS/NAME of the Coder Service: its ClusterIP is the internal host's truth "
                     "(default: from the internal URL's <svc>.<ns>.svc name, else coder/coder)");
  command.add_option("--coder-deployment", options.coder_deployment,
                     "NS/NAME of the Coder Deployment whose CODER_ACCESS_URL is the external URL "
                     "(default: the Coder Service's NS/NAME)");
  command
      .add_option("--ingress-service", options.ingress_services,
                  "NS/NAME of a LoadBalancer Service in front of Coder, repeatable: its address is the external "
                  "host's truth instead of the matching Ingresses'")
      ->take_all();
  command
      .add_option("--workspace-namespace", options.workspace_namespaces,
                  "Namespace whose pods the workspace audit reads, repeatable ('' turns the audit off)")
      ->take_all()
      ->capture_default_str();
  command.add_option("--kube-dns-namespace", options.kube_dns_namespace, "Namespace of the CoreDNS pods")
      ->capture_default_str();
  command.add_option("--kube-dns-selector", options.kube_dns_selector, "Label selector of the CoreDNS pods")
      ->capture_default_str();
  command
      .add_option("--kube-dns-service", options.kube_dns_service,
                  "NS/NAME of the cluster DNS Service: a --resolver given its ClusterIP is cluster-scoped")
      ->capture_default_str();
  command.add_option("--coder-token-file", options.coder_token_file,
                     "Coder session token file (an Owner's), re-read every check and never printed: adds coderd's "
                     "view of its agents (AGENT_DISCONNECTED with causes) and of its own health");
  command.add_option("--coder-url", options.coder_url,
                     "coderd URL for those API calls (default: the internal URL, so the token stays in the cluster)");
  command.add_option("--ca-file", options.ca_file, "Extra CA bundle for HTTPS health checks (default: system store)");
  command.add_option("--timeout", options.timeout, "Per lookup and per request: 500ms, 2s, 1m")->capture_default_str();
  command.add_option("--family", options.family, "Address families to query: 4 | 6 | both")->capture_default_str();
  command.add_option("--host", options.hosts, "Extra host to resolve and compare with its truth, repeatable")
      ->take_all();
  command.add_option("--checks", options.checks,
                     "Kinds of check to run: dns,http,transport,kube (default: all; transport needs http)");
  command
      .add_option("--agent-arch", options.agent_arch,
                  "Architecture of the agent binary the agent-binary check asks for (/bin/coder-linux-ARCH)")
      ->capture_default_str();
}

std::vector<truth::TruthEntry> parse_expectations(const std::vector<std::string>& expect) {
  std::vector<truth::TruthEntry> entries;
  for (const std::string& text : expect) {
    auto equals = text.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == text.size())
      throw core::UsageError(fmt::format("--expect '{}': expected HOST=ADDR[,ADDR...]", text));
    truth::TruthEntry entry{normalise_host(text.substr(0, equals)), {}, "static"};
    if (!is_host_name(entry.host))
      throw core::UsageError(fmt::format("--expect '{}': '{}' is not a host name", text, entry.host));
    for (const std::string& piece : util::split(text.substr(equals + 1), ',')) {
      auto address = util::parse_ip(util::trim(piece));
      if (!address)
        throw core::UsageError(fmt::format("--expect '{}': '{}' is not an IP address", text, piece));
      entry.addresses.push_back(*address);
    }
    util::sort_unique(entry.addresses);
    auto same_host = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.host == entry.host; });
    if (same_host != entries.end())
      throw core::UsageError(
          fmt::format("--expect '{}': {} is given twice (list all its addresses in one --expect)", text, entry.host));
    entries.push_back(std::move(entry));
  }
  return entries;
}

probe::ResolverPlan parse_resolver(const std::string& text, const std::string& resolv_conf) {
  auto equals = text.find('=');
  if (equals == std::string::npos)
    throw core::UsageError(
        fmt::format("--resolver '{}': expected LABEL=system or LABEL=IP[:PORT][,IP[:PORT]...]", text));
  probe::ResolverPlan resolver;
  resolver.label = text.substr(0, equals);
  resolver.spec = text.substr(equals + 1);
  if (!is_label(resolver.label))
    throw core::UsageError(fmt::format(
        "--resolver '{}': label '{}' must be lower-case letters, digits, '-', '_' or '.'", text, resolver.label));
  if (resolver.spec == probe::k_kube_dns_pods_spec) {
    resolver.scope = probe::ResolverScope::cluster; // servers come from the API server at checkup time
    resolver.scope_reason = "CoreDNS pods";
    return resolver;
  }
  if (resolver.spec == "system") {
    auto conf = dns::read_resolv_conf(resolv_conf);
    if (!conf)
      throw core::UsageError(fmt::format("--resolv-conf: {}", conf.error()));
    resolver.servers = conf->nameservers;
    resolver.system = *conf;
    resolver.scope = probe::ResolverScope::cluster;
    resolver.scope_reason = "the pod's resolv.conf";
    return resolver;
  }
  std::string_view servers = resolver.spec;
  for (auto [prefix, scope] : {std::pair{std::string_view("cluster:"), probe::ResolverScope::cluster},
                               std::pair{std::string_view("external:"), probe::ResolverScope::external}})
    if (servers.starts_with(prefix)) {
      servers.remove_prefix(prefix.size());
      resolver.scope = scope;
      resolver.scope_declared = true;
      resolver.scope_reason = "declared";
    }
  if (!resolver.scope_declared)
    resolver.scope_reason = "a server list that is not the pod's nameserver";
  if (util::trim(servers).empty())
    throw core::UsageError(fmt::format("--resolver '{}': expected IP[:PORT][,IP[:PORT]...] after the scope", text));
  for (const std::string& piece : util::split(servers, ',')) {
    auto endpoint = util::parse_endpoint(util::trim(piece), 53);
    if (!endpoint)
      throw core::UsageError(fmt::format("--resolver '{}': {}", text, endpoint.error()));
    resolver.servers.push_back(*endpoint);
  }
  return resolver;
}

std::string cluster_domain_of(const dns::ResolvConf& conf) {
  for (const std::string& suffix : conf.search)
    if (suffix.starts_with("svc.") && suffix.size() > 4)
      return suffix.substr(4);
  return "cluster.local";
}

void infer_scopes(probe::Plan& plan, const dns::ResolvConf& pod_resolv_conf, std::string_view origin) {
  probe::scope_by_servers(plan, pod_resolv_conf.nameservers, fmt::format("a nameserver of {}", origin));
}

namespace {

std::vector<probe::Family> parse_family_option(const std::string& family) {
  if (family == "4")
    return {probe::Family::a};
  if (family == "6")
    return {probe::Family::aaaa};
  if (family == "both")
    return {probe::Family::a, probe::Family::aaaa};
  throw core::UsageError(fmt::format("--family '{}': expected 4, 6 or both", family));
}

// --agent-arch: what Coder names its agent binaries by (amd64, arm64, armv7): lower-case letters and digits.
std::string parse_agent_arch(const std::string& arch) {
  bool valid = !arch.empty() && arch.size() <= 16 && std::all_of(arch.begin(), arch.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
  if (!valid)
    throw core::UsageError(
        fmt::format("--agent-arch '{}': expected an architecture name like amd64 or arm64 (a-z, 0-9)", arch));
  return arch;
}

// --checks: empty keeps every check on; otherwise exactly the ones listed.
probe::CheckSet parse_checks_option(const std::string& checks) {
  if (checks.empty())
    return {};
  probe::CheckSet set{.dns = false, .http = false, .kube = false, .transport = false};
  for (const std::string& raw : util::split(checks, ',')) {
    std::string check = util::to_lower(util::trim(raw));
    if (check == "dns")
      set.dns = true;
    else if (check == "http")
      set.http = true;
    else if (check == "kube")
      set.kube = true;
    else if (check == "transport")
      set.transport = true;
    else
      throw core::UsageError(
          fmt::format("--checks '{}': '{}' is not a check (expected dns, http, transport, kube)", checks, raw));
  }
  if (set.transport && !set.http)
    throw core::UsageError(
        fmt::format("--checks '{}': transport runs on the paths /healthz answers, add http", checks));
  return set;
}

std::vector<probe::ResolverPlan> parse_resolver_options(const ProbeOptions& options) {
  std::vector<std::string> resolver_texts = options.resolvers;
  if (resolver_texts.empty())
    resolver_texts.push_back("cluster=system");
  std::vector<probe::ResolverPlan> resolvers;
  std::set<std::string> labels;
  for (const std::string& text : resolver_texts) {
    probe::ResolverPlan resolver = parse_resolver(text, options.resolv_conf);
    if (!labels.insert(resolver.label).second)
      throw core::UsageError(fmt::format("--resolver '{}': label '{}' is used twice", text, resolver.label));
    resolvers.push_back(std::move(resolver));
  }
  return resolvers;
}

// The URLs and hosts to check: the external and internal URLs' hosts first, then every --host.
void add_urls_and_hosts(probe::Plan& plan, const ProbeOptions& options) {
  auto add_host = [&](const std::string& host, probe::HostRole role) {
    auto same = std::find_if(plan.hosts.begin(), plan.hosts.end(), [&](const auto& h) { return h.host == host; });
    if (same == plan.hosts.end())
      plan.hosts.push_back({host, role});
  };
  if (!options.external_url.empty()) {
    util::Url url = parse_url_option("--external-url", options.external_url);
    plan.urls.push_back({url, probe::HostRole::external});
    add_host(url.host, probe::HostRole::external);
  }
  if (!options.internal_url.empty()) {
    util::Url url = parse_url_option("--internal-url", options.internal_url);
    plan.urls.push_back({url, probe::HostRole::internal});
    add_host(url.host, probe::HostRole::internal);
  }
  for (const std::string& raw : options.hosts) {
    std::string host = normalise_host(raw);
    if (!is_host_name(host))
      throw core::UsageError(fmt::format("--host '{}': expected a host name", raw));
    add_host(host, probe::HostRole::extra);
  }
}

} // namespace

probe::Plan make_plan(const ProbeOptions& options) {
  probe::Plan plan;
  auto timeout = util::parse_duration(options.timeout);
  if (!timeout)
    throw core::UsageError(fmt::format("--timeout: {}", timeout.error()));
  plan.timeout = *timeout;
  plan.ca_file = options.ca_file;
  plan.families = parse_family_option(options.family);
  plan.checks = parse_checks_option(options.checks);
  plan.agent_arch = parse_agent_arch(options.agent_arch);
  if (!options.hold.empty()) {
    auto hold = util::parse_duration(options.hold);
    if (!hold)
      throw core::UsageError(fmt::format("--hold: {}", hold.error()));
    plan.hold = *hold;
  }
  plan.resolvers = parse_resolver_options(options);
  apply_pod_view(plan, options);
  add_urls_and_hosts(plan, options);
  return plan;
}

} // namespace coder_dns_doctor::cli

namespace coder_dns_doctor::cli {

std::optional<k8s::ObjectRef> parse_ref_option(const std::string& option, const std::string& value) {
  if (value.empty())
    return std::nullopt;
  auto ref = k8s::parse_object_ref(value);
  if (!ref)
    throw core::UsageError(fmt::format("{} {}", option, ref.error()));
  return *ref;
}

std::chrono::milliseconds parse_duration_option(const std::string& option, const std::string& value) {
  auto duration = util::parse_duration(value);
  if (!duration)
    throw core::UsageError(fmt::format("{} '{}': {}", option, value, duration.error()));
  return *duration;
}

namespace {

// Refuse, before anything runs, a file option that names no readable regular file of sane size.
void check_readable(const std::string& option, const std::string& path, std::size_t limit) {
  if (path.empty())
    return;
  if (auto text = util::read_bounded(path, limit); !text)
    throw core::UsageError(fmt::format("{}: {}", option, text.error().message));
}

bool is_namespace(std::string_view text) {
  return !text.empty() && text.size() <= 63 && std::all_of(text.begin(), text.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-';
  });
}

doctor::KubeSettings make_kube_settings(const ProbeOptions& options, const probe::Plan& plan) {
  if (auto valid = k8s::check_mode(options.kube); !valid)
    throw core::UsageError(valid.error());
  bool uses_dns_pods = std::any_of(plan.resolvers.begin(), plan.resolvers.end(),
                                   [](const probe::ResolverPlan& r) { return r.spec == probe::k_kube_dns_pods_spec; });
  if (uses_dns_pods && (options.kube == "off" || !plan.checks.kube))
    throw core::UsageError(
        "--resolver ...=kube-dns-pods needs the Kubernetes API (not --kube off, and kube in --checks)");
  check_readable("--kube-token-file", options.kube_token_file, util::k_small_file_limit);
  check_readable("--kube-ca-file", options.kube_ca_file, util::k_config_file_limit);
  check_readable("--ca-file", options.ca_file, util::k_config_file_limit);
  doctor::KubeSettings kube{.mode = options.kube,
                            .token_file = options.kube_token_file,
                            .ca_file = options.kube_ca_file,
                            .verify = options.kube_insecure ? k8s::TlsVerify::no : k8s::TlsVerify::yes,
                            .targets = {}};
  kube.targets.coder_service = parse_ref_option("--coder-service", options.coder_service);
  kube.targets.coder_deployment = parse_ref_option("--coder-deployment", options.coder_deployment);
  for (const std::string& text : options.ingress_services)
    kube.targets.ingress_services.push_back(*parse_ref_option("--ingress-service", text.empty() ? "-" : text));
  kube.targets.workspace_namespaces.clear();
  for (const std::string& ns : options.workspace_namespaces) {
    if (ns.empty())
      continue;
    if (!is_namespace(ns))
      throw core::UsageError(fmt::format("--workspace-namespace '{}': expected a namespace name", ns));
    if (std::find(kube.targets.workspace_namespaces.begin(), kube.targets.workspace_namespaces.end(), ns) ==
        kube.targets.workspace_namespaces.end())
      kube.targets.workspace_namespaces.push_back(ns);
  }
  if (!is_namespace(options.kube_dns_namespace))
    throw core::UsageError(
        fmt::format("--kube-dns-namespace '{}': expected a namespace name", options.kube_dns_namespace));
  if (options.kube_dns_selector.empty() || options.kube_dns_selector.find_first_of(" \t\n&?#") != std::string::npos)
    throw core::UsageError(fmt::format("--kube-dns-selector '{}': expected a label selector such as k8s-app=kube-dns",
                                       options.kube_dns_selector));
  kube.targets.dns_namespace = options.kube_dns_namespace;
  kube.targets.dns_selector = options.kube_dns_selector;
  kube.targets.dns_service =
      *parse_ref_option("--kube-dns-service", options.kube_dns_service.empty() ? "-" : options.kube_dns_service);
  if (options.kube_insecure && options.kube != "off")
    fmt::print(stderr, "coder-dns-doctor: warning: --kube-insecure: the API server's TLS certificate is not "
                       "verified; anyone on the path can impersonate it\n");
  return kube;
}

doctor::CoderSettings make_coder_settings(const ProbeOptions& options) {
  doctor::CoderSettings coder{.token_file = options.coder_token_file, .url = std::nullopt};
  if (options.coder_token_file.empty()) {
    if (!options.coder_url.empty())
      throw core::UsageError("--coder-url needs --coder-token-file (expected the file of a Coder session token)");
    return coder;
  }
  check_readable("--coder-token-file", options.coder_token_file, util::k_small_file_limit);
  if (!options.coder_url.empty()) {
    auto url = util::parse_url(options.coder_url);
    if (!url)
      throw core::UsageError(fmt::format("--coder-url '{}': {}", options.coder_url, url.error()));
    coder.url = std::move(*url);
  }
  return coder;
}

} // namespace

doctor::Settings make_settings(const ProbeOptions& options) {
  probe::Plan plan = make_plan(options);
  doctor::KubeSettings kube = make_kube_settings(options, plan);
  return doctor::Settings{.plan = std::move(plan),
                          .expectations = parse_expectations(options.expect),
                          .kube = std::move(kube),
                          .coder = make_coder_settings(options)};
}

} // namespace coder_dns_doctor::cli
