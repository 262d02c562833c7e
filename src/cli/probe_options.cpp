#include <coder_dns_doctor/cli/probe_options.hpp>
#include <coder_dns_doctor/cli/usage_error.hpp>
#include <coder_dns_doctor/k8s/connection.hpp>
#include <coder_dns_doctor/k8s/objects.hpp>
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
    throw UsageError(fmt::format("{}: {}", option, url.error()));
  return *url;
}

} // namespace

void add_probe_options(CLI::App& command, ProbeOptions& options) {
  command.add_option("--external-url", options.external_url,
                     "The Coder access URL as users see it (default: discovered from Kubernetes)");
  command.add_option("--internal-url", options.internal_url, "The in-cluster Service URL")
      ->capture_default_str();
  command.add_option("--resolver", options.resolvers,
                     "LABEL=SPEC, repeatable: SPEC is 'system' (resolv.conf with search list and ndots), "
                     "IP[:PORT][,IP[:PORT]...], or 'kube-dns-pods' (every ready CoreDNS pod, asked directly; "
                     "resolvers LABEL/<pod>) (default: cluster=system)")
      ->take_all();
  command.add_option("--resolv-conf", options.resolv_conf, "The resolv.conf used by 'system' resolvers")
      ->capture_default_str();
  command.add_option("--expect", options.expect, "HOST=ADDR[,ADDR...], repeatable: static truth for a host")
      ->take_all();
  command.add_option("--kube", options.kube, "auto | off | in-cluster | API base URL")->capture_default_str();
  command.add_option("--kube-token-file", options.kube_token_file,
                     "Bearer token file, re-read for every request (default in-cluster: the service-account token)");
  command.add_option("--kube-ca-file", options.kube_ca_file,
                     "CA bundle of the API server (default in-cluster: the service-account ca.crt; URL mode: system store)");
  command.add_flag("--kube-insecure", options.kube_insecure,
                   "Do not verify the API server's TLS certificate (prints a warning; for tests only)");
  command.add_option("--coder-service", options.coder_service,
                     "NS/NAME of the Coder Service: its ClusterIP is the internal host's truth "
                     "(default: from the internal URL's <svc>.<ns>.svc name, else coder/coder)");
  command.add_option("--coder-deployment", options.coder_deployment,
                     "NS/NAME of the Coder Deployment whose CODER_ACCESS_URL is the external URL "
                     "(default: the Coder Service's NS/NAME)");
  command.add_option("--ingress-service", options.ingress_services,
                     "NS/NAME of a LoadBalancer Service in front of Coder, repeatable: its address is the external "
                     "host's truth instead of the matching Ingresses'")
      ->take_all();
  command.add_option("--workspace-namespace", options.workspace_namespaces,
                     "Namespace whose pods the workspace audit reads, repeatable ('' turns the audit off)")
      ->take_all()
      ->capture_default_str();
  command.add_option("--kube-dns-namespace", options.kube_dns_namespace, "Namespace of the CoreDNS pods")
      ->capture_default_str();
  command.add_option("--kube-dns-selector", options.kube_dns_selector, "Label selector of the CoreDNS pods")
      ->capture_default_str();
  command.add_option("--ca-file", options.ca_file, "Extra CA bundle for HTTPS health checks (default: system store)");
  command.add_option("--timeout", options.timeout, "Per lookup and per request: 500ms, 2s, 1m")->capture_default_str();
  command.add_option("--family", options.family, "Address families to query: 4 | 6 | both")->capture_default_str();
  command.add_option("--host", options.hosts, "Extra host to resolve and compare with its truth, repeatable")
      ->take_all();
  command.add_option("--checks", options.checks, "Kinds of check to run: dns,http,kube (default: all)");
}

std::vector<truth::TruthEntry> parse_expectations(const std::vector<std::string>& expect) {
  std::vector<truth::TruthEntry> entries;
  for (const std::string& text : expect) {
    auto equals = text.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == text.size())
      throw UsageError(fmt::format("--expect '{}': expected HOST=ADDR[,ADDR...]", text));
    truth::TruthEntry entry{normalise_host(text.substr(0, equals)), {}, "static"};
    if (!is_host_name(entry.host))
      throw UsageError(fmt::format("--expect '{}': '{}' is not a host name", text, entry.host));
    for (const std::string& piece : util::split(text.substr(equals + 1), ',')) {
      auto address = util::parse_ip(util::trim(piece));
      if (!address)
        throw UsageError(fmt::format("--expect '{}': '{}' is not an IP address", text, piece));
      entry.addresses.push_back(address->text);
    }
    std::sort(entry.addresses.begin(), entry.addresses.end());
    entry.addresses.erase(std::unique(entry.addresses.begin(), entry.addresses.end()), entry.addresses.end());
    auto same_host = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.host == entry.host; });
    if (same_host != entries.end())
      throw UsageError(fmt::format("--expect '{}': {} is given twice (list all its addresses in one --expect)", text,
                                   entry.host));
    entries.push_back(std::move(entry));
  }
  return entries;
}

probe::ResolverPlan parse_resolver(const std::string& text, const std::string& resolv_conf) {
  auto equals = text.find('=');
  if (equals == std::string::npos)
    throw UsageError(fmt::format("--resolver '{}': expected LABEL=system or LABEL=IP[:PORT][,IP[:PORT]...]", text));
  probe::ResolverPlan resolver;
  resolver.label = text.substr(0, equals);
  resolver.spec = text.substr(equals + 1);
  if (!is_label(resolver.label))
    throw UsageError(fmt::format("--resolver '{}': label '{}' must be lower-case letters, digits, '-', '_' or '.'",
                                 text, resolver.label));
  if (resolver.spec == probe::k_kube_dns_pods_spec) {
    resolver.knows_cluster_names = true; // servers come from the API server at checkup time
    return resolver;
  }
  if (resolver.spec == "system") {
    auto conf = dns::read_resolv_conf(resolv_conf);
    if (!conf)
      throw UsageError(fmt::format("--resolv-conf: {}", conf.error()));
    resolver.servers = conf->nameservers;
    resolver.system = *conf;
    resolver.knows_cluster_names = true;
    return resolver;
  }
  for (const std::string& piece : util::split(resolver.spec, ',')) {
    auto endpoint = util::parse_endpoint(util::trim(piece), 53);
    if (!endpoint)
      throw UsageError(fmt::format("--resolver '{}': {}", text, endpoint.error()));
    resolver.servers.push_back(*endpoint);
  }
  return resolver;
}

probe::Plan make_plan(const ProbeOptions& options) {
  probe::Plan plan;
  auto timeout = util::parse_duration(options.timeout);
  if (!timeout)
    throw UsageError(fmt::format("--timeout: {}", timeout.error()));
  plan.timeout = *timeout;
  plan.ca_file = options.ca_file;

  if (options.family == "4")
    plan.families = {probe::Family::a};
  else if (options.family == "6")
    plan.families = {probe::Family::aaaa};
  else if (options.family == "both")
    plan.families = {probe::Family::a, probe::Family::aaaa};
  else
    throw UsageError(fmt::format("--family '{}': expected 4, 6 or both", options.family));

  if (!options.checks.empty()) {
    plan.checks = {.dns = false, .http = false, .kube = false};
    for (const std::string& raw : util::split(options.checks, ',')) {
      std::string check = util::to_lower(util::trim(raw));
      if (check == "dns")
        plan.checks.dns = true;
      else if (check == "http")
        plan.checks.http = true;
      else if (check == "kube")
        plan.checks.kube = true;
      else
        throw UsageError(fmt::format("--checks '{}': '{}' is not a check (expected dns, http, kube)", options.checks, raw));
    }
  }

  std::vector<std::string> resolver_texts = options.resolvers;
  if (resolver_texts.empty())
    resolver_texts.push_back("cluster=system");
  std::set<std::string> labels;
  for (const std::string& text : resolver_texts) {
    probe::ResolverPlan resolver = parse_resolver(text, options.resolv_conf);
    if (!labels.insert(resolver.label).second)
      throw UsageError(fmt::format("--resolver '{}': label '{}' is used twice", text, resolver.label));
    plan.resolvers.push_back(std::move(resolver));
  }

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
      throw UsageError(fmt::format("--host '{}': expected a host name", raw));
    add_host(host, probe::HostRole::extra);
  }
  return plan;
}

} // namespace coder_dns_doctor::cli

namespace coder_dns_doctor::cli {

namespace {

std::optional<k8s::ObjectRef> parse_ref_option(const std::string& option, const std::string& value) {
  if (value.empty())
    return std::nullopt;
  auto ref = k8s::parse_object_ref(value);
  if (!ref)
    throw UsageError(fmt::format("{} {}", option, ref.error()));
  return *ref;
}

void check_readable(const std::string& option, const std::string& path) {
  if (path.empty())
    return;
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr)
    throw UsageError(fmt::format("{} '{}': cannot read the file", option, path));
  std::fclose(file);
}

bool is_namespace(std::string_view text) {
  return !text.empty() && text.size() <= 63 && std::all_of(text.begin(), text.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-';
  });
}

doctor::KubeSettings make_kube_settings(const ProbeOptions& options, const probe::Plan& plan) {
  if (auto valid = k8s::check_mode(options.kube); !valid)
    throw UsageError(valid.error());
  bool uses_dns_pods = std::any_of(plan.resolvers.begin(), plan.resolvers.end(), [](const probe::ResolverPlan& r) {
    return r.spec == probe::k_kube_dns_pods_spec;
  });
  if (uses_dns_pods && (options.kube == "off" || !plan.checks.kube))
    throw UsageError("--resolver ...=kube-dns-pods needs the Kubernetes API (not --kube off, and kube in --checks)");
  check_readable("--kube-token-file", options.kube_token_file);
  check_readable("--kube-ca-file", options.kube_ca_file);
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
      throw UsageError(fmt::format("--workspace-namespace '{}': expected a namespace name", ns));
    if (std::find(kube.targets.workspace_namespaces.begin(), kube.targets.workspace_namespaces.end(), ns) ==
        kube.targets.workspace_namespaces.end())
      kube.targets.workspace_namespaces.push_back(ns);
  }
  if (!is_namespace(options.kube_dns_namespace))
    throw UsageError(fmt::format("--kube-dns-namespace '{}': expected a namespace name", options.kube_dns_namespace));
  if (options.kube_dns_selector.empty() ||
      options.kube_dns_selector.find_first_of(" \t\n&?#") != std::string::npos)
    throw UsageError(fmt::format("--kube-dns-selector '{}': expected a label selector such as k8s-app=kube-dns",
                                 options.kube_dns_selector));
  kube.targets.dns_namespace = options.kube_dns_namespace;
  kube.targets.dns_selector = options.kube_dns_selector;
  if (options.kube_insecure && options.kube != "off")
    fmt::print(stderr, "coder-dns-doctor: warning: --kube-insecure: the API server's TLS certificate is not "
                       "verified; anyone on the path can impersonate it\n");
  return kube;
}

} // namespace

doctor::Settings make_settings(const ProbeOptions& options) {
  probe::Plan plan = make_plan(options);
  doctor::KubeSettings kube = make_kube_settings(options, plan);
  return doctor::Settings{.plan = std::move(plan),
                          .expectations = parse_expectations(options.expect),
                          .kube = std::move(kube)};
}

} // namespace coder_dns_doctor::cli
