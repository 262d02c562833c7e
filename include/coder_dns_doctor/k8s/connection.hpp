// Choosing the API server: --kube auto | off | in-cluster | URL, and the credentials each uses.
#pragma once

#include <coder_dns_doctor/k8s/client.hpp>

#include <chrono>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace coder_dns_doctor::k8s {

// The service-account files a pod gets; in-cluster mode reads them unless flags name others.
inline constexpr std::string_view k_service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";

enum class TlsVerify { yes, no };

struct ConnectionSettings {
  std::string mode = "auto"; // auto | off | in-cluster | http(s)://host[:port]
  std::string token_file;    // --kube-token-file
  std::string ca_file;       // --kube-ca-file
  TlsVerify verify = TlsVerify::yes;
  std::chrono::milliseconds timeout{2000};
};

// Return an error naming what is wrong with `mode` (a usage error), or nothing when it is valid.
[[nodiscard]] std::expected<void, std::string> check_mode(std::string_view mode);

// How the API server was chosen for one check.
struct Choice {
  std::optional<Connection> connection; // empty: Kubernetes is off
  std::string reason;                   // why off, or how chosen ("in-cluster (KUBERNETES_SERVICE_HOST)")
  std::optional<std::string> problem;   // asked for but impossible here (in-cluster without its env)
};

using Environment = std::function<std::optional<std::string>(const char* name)>;

// Return the connection `settings` describe in `environment` (the process environment by default).
[[nodiscard]] Choice choose_connection(const ConnectionSettings& settings, const Environment& environment = {});

} // namespace coder_dns_doctor::k8s
