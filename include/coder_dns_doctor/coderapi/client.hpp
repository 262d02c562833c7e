// Layer 4 (coderapi: coderd's REST API read with a session token; uses http, util; not k8s, probe
// or analysis). See README "Layers".
// A small coderd API client: authenticated requests answered with JSON, bounded in time and
// size, the token re-read from its file for every request and never kept, printed or logged.
#pragma once

#include <coder_dns_doctor/http/client.hpp>
#include <coder_dns_doctor/http/json_api.hpp>
#include <coder_dns_doctor/util/address.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <expected>
#include <memory>
#include <optional>
#include <string>

namespace coder_dns_doctor::coderapi {

// The header coderd reads a session token from (httpmw.ExtractAPIKey).
inline constexpr std::string_view k_session_token_header = "Coder-Session-Token";

// Where coderd is and how to authenticate to it.
struct Connection {
  std::string base_url;                      // scheme://host[:port], no trailing slash
  std::optional<util::IpAddress> connect_to; // the address to dial instead of resolving the host
  std::string token_file;                    // re-read before every request, so a rotated token works
  std::string ca_file;                       // empty: the system store
  http::Verify verify = http::Verify::yes;
  std::chrono::milliseconds timeout{2000}; // per request
  std::size_t max_body = 16 * 1024 * 1024; // larger answers fail the request
};

struct ApiError {
  http::ApiFailure failure;
  std::string request; // "GET /api/v2/workspaces"

  // Return one line a person can act on: the request, the status, what the token lacks.
  [[nodiscard]] std::string describe() const;
};

class Client {
public:
  explicit Client(Connection connection, const std::atomic<bool>* cancel = nullptr);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // GET `path` (absolute, with any query) and return its JSON object. After a timeout or a
  // transport failure coderd counts as unreachable: later calls fail at once as `skipped`.
  [[nodiscard]] std::expected<nlohmann::json, ApiError> get(const std::string& path);
  // GET `path` whose answer is a JSON array (a provisioner job's logs).
  [[nodiscard]] std::expected<nlohmann::json, ApiError> get_array(const std::string& path);

  // A request with a body (POST /api/v2/files, PATCH /api/v2/templates/{id}/versions, ...).
  struct Write {
    http::Method method = http::Method::post;
    std::string path;
    std::string content_type; // application/json, application/x-tar
    std::string body;
  };
  // Send `write` and return the JSON object coderd answered (a 201 is a success too).
  [[nodiscard]] std::expected<nlohmann::json, ApiError> write(const Write& write);

  [[nodiscard]] const Connection& connection() const { return m_connection; }

private:
  [[nodiscard]] std::expected<nlohmann::json, ApiError> send(const Write& call, http::JsonShape shape);

  struct State;
  Connection m_connection;
  const std::atomic<bool>* m_cancel;
  std::unique_ptr<State> m_state;
};

} // namespace coder_dns_doctor::coderapi
