#include <coder_dns_doctor/k8s/connection.hpp>

#include <coder_dns_doctor/util/address.hpp>
#include <coder_dns_doctor/util/url.hpp>

#include <fmt/core.h>

#include <cstdlib>

#include <unistd.h>

namespace coder_dns_doctor::k8s {
namespace {

std::optional<std::string> process_environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0')
    return std::nullopt;
  return std::string(value);
}

bool settings_file_exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

bool is_url(std::string_view mode) {
  return mode.starts_with("http://") || mode.starts_with("https://");
}

} // namespace

std::expected<void, std::string> check_mode(std::string_view mode) {
  if (mode == "auto" || mode == "off" || mode == "in-cluster")
    return {};
  if (!is_url(mode))
    return std::unexpected(fmt::format("--kube '{}': expected auto, off, in-cluster or an API base URL "
                                       "(e.g. http://127.0.0.1:8001 from kubectl proxy)",
                                       mode));
  auto url = util::parse_url(mode);
  if (!url)
    return std::unexpected(fmt::format("--kube '{}': {}", mode, url.error()));
  if (!url->path.empty())
    return std::unexpected(fmt::format("--kube '{}': expected the API server's base URL without a path", mode));
  return {};
}

Choice choose_connection(const ConnectionSettings& settings, const Environment& environment) {
  const Environment& env = environment ? environment : Environment(process_environment);
  Choice choice;
  std::string mode = settings.mode;
  if (mode == "off") {
    choice.reason = "--kube off";
    return choice;
  }
  auto host = env("KUBERNETES_SERVICE_HOST");
  if (mode == "auto") {
    if (!host) {
      choice.reason = "--kube auto: KUBERNETES_SERVICE_HOST is not set (not running in a pod)";
      return choice;
    }
    // a pod without a service-account token (automountServiceAccountToken: false, e.g. a
    // workspace pod running the sidecar) has no API access to use: auto means off there
    std::string token =
        settings.token_file.empty() ? std::string(k_service_account_dir) + "/token" : settings.token_file;
    if (!settings_file_exists(token)) {
      choice.reason = fmt::format("--kube auto: no service-account token at {}", token);
      return choice;
    }
    mode = "in-cluster";
  }
  Connection connection;
  connection.timeout = settings.timeout;
  connection.verify = settings.verify == TlsVerify::yes ? Connection::Verify::yes : Connection::Verify::no;
  connection.token_file = settings.token_file;
  connection.ca_file = settings.ca_file;
  if (mode == "in-cluster") {
    if (!host) {
      choice.problem = "--kube in-cluster: KUBERNETES_SERVICE_HOST is not set (is this running in a pod?)";
      return choice;
    }
    std::string port = env("KUBERNETES_SERVICE_PORT").value_or("443");
    auto ip = util::parse_ip(*host);
    std::string shown = ip && ip->family == util::AddressFamily::ipv6 ? "[" + ip->text + "]" : *host;
    connection.base_url = fmt::format("https://{}:{}", shown, port);
    if (connection.token_file.empty())
      connection.token_file = std::string(k_service_account_dir) + "/token";
    if (connection.ca_file.empty())
      connection.ca_file = std::string(k_service_account_dir) + "/ca.crt";
    connection.origin = "in-cluster";
    choice.reason = fmt::format("in-cluster service account, API server {}", connection.base_url);
  } else {
    connection.base_url = mode;
    connection.origin = "--kube " + mode;
    choice.reason = fmt::format("API server {}", mode);
  }
  while (!connection.base_url.empty() && connection.base_url.back() == '/')
    connection.base_url.pop_back();
  choice.connection = std::move(connection);
  return choice;
}

} // namespace coder_dns_doctor::k8s
