// A small Kubernetes API client: authenticated GETs of JSON objects, bounded in time and size.
#pragma once

#include <coder_dns_doctor/http/client.hpp>
#include <coder_dns_doctor/http/json_api.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace coder_dns_doctor::k8s {

// What a request needs the service account to be allowed: one RBAC rule. 403 explanations and
// docs/rbac.yaml speak in these terms.
struct Access {
  std::string verb;       // get | list | patch
  std::string group;      // API group: "" for the core group, "apps", "networking.k8s.io", ...
  std::string resource;   // plural: services, ingresses, endpointslices, deployments, configmaps, pods
  std::string namespace_; // empty: cluster-wide
  std::string name;       // the object a `get` reads

  // Return e.g. `get services "coder" in namespace coder` or `list ingresses (cluster-wide)`.
  [[nodiscard]] std::string describe() const;
  // Return the rule as a Role would grant it: `apiGroups: [""], resources: ["services"], verbs: ["get"]`.
  [[nodiscard]] std::string rule() const;
};

// Why a request failed: the JSON API vocabulary of the http module.
using ErrorKind = http::ApiErrorKind;
using http::to_string;

struct ApiError {
  ErrorKind kind = ErrorKind::transport;
  Access access;
  std::optional<long> status_code;
  std::string detail; // the server's Status message or the transport error; never a credential

  // Return one line a person can act on, naming the rule a 403 lacks.
  [[nodiscard]] std::string describe() const;
};

// Where the API server is and how to authenticate to it.
struct Connection {
  std::string base_url;   // scheme://host:port, no trailing slash
  std::string token_file; // re-read before every request, so rotated tokens keep working; empty: none
  std::string ca_file;    // empty: the system store
  enum class Verify { yes, no } verify = Verify::yes;
  std::chrono::milliseconds timeout{2000}; // per request
  std::size_t max_body = 32 * 1024 * 1024; // larger answers fail the request
  std::string origin;                      // how it was chosen, for messages: "in-cluster", "--kube URL"
};

class Client {
public:
  explicit Client(Connection connection, const std::atomic<bool>* cancel = nullptr);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // GET `path` (absolute, with any query) and return its JSON object. After a timeout or a
  // transport failure the server counts as unreachable: later calls fail at once as `skipped`,
  // so one check never waits for more than one timeout.
  [[nodiscard]] std::expected<nlohmann::json, ApiError> get(const std::string& path, const Access& access);

  // PATCH `path` (with any query: `dryRun=All`, `fieldManager=...`) with `body` as `content_type`
  // (application/merge-patch+json, application/json-patch+json) and return the object the server
  // answered: the patched object, or what it would be under dryRun. A 409 is ErrorKind::conflict.
  [[nodiscard]] std::expected<nlohmann::json, ApiError> patch(const std::string& path, std::string_view content_type,
                                                              const std::string& body, const Access& access);

  [[nodiscard]] const Connection& connection() const { return m_connection; }

private:
  [[nodiscard]] std::expected<nlohmann::json, ApiError> send(http::Request request, const Access& access);
  [[nodiscard]] std::expected<http::Request, std::string> build_request(const std::string& path) const;
  [[nodiscard]] std::expected<nlohmann::json, ApiError> interpret(const http::Response& response, ApiError error);

  struct State;
  Connection m_connection;
  const std::atomic<bool>* m_cancel;
  std::unique_ptr<State> m_state;
};

// Return `text` percent-encoded for a query value (label selectors carry '=' and ',').
[[nodiscard]] std::string url_encode(std::string_view text);

} // namespace coder_dns_doctor::k8s
