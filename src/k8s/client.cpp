#include <coder_dns_doctor/k8s/client.hpp>

#include <coder_dns_doctor/http/ca_store.hpp>
#include <coder_dns_doctor/util/secret.hpp>
#include <coder_dns_doctor/util/strings.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cctype>

namespace coder_dns_doctor::k8s {
namespace {

// Check that the API server's CA bundle can be read for this request (like the token, so a
// broken file is a credentials problem, not a TLS failure). The shared CA store reads the file, and
// rebuilds itself when it changes, so a replaced bundle is used at once and is read only once.
std::expected<void, std::string> check_ca_file(const std::string& path) {
  if (auto readable = http::ca_file_readable(path); !readable)
    return std::unexpected(fmt::format("cannot read the CA file: {}", readable.error().message));
  return {};
}

} // namespace

std::string Access::describe() const {
  std::string what =
      name.empty() ? fmt::format("{} {}", verb, resource) : fmt::format("{} {} \"{}\"", verb, resource, name);
  if (!group.empty())
    what += fmt::format(" (API group {})", group);
  return namespace_.empty() ? what + " (cluster-wide)" : fmt::format("{} in namespace {}", what, namespace_);
}

std::string Access::rule() const {
  return fmt::format("apiGroups: [\"{}\"], resources: [\"{}\"], verbs: [\"{}\"]", group, resource, verb);
}

std::string ApiError::describe() const {
  std::string what = access.describe();
  std::string server = detail.empty() ? std::string() : fmt::format(" (server: {})", detail);
  switch (kind) {
  case ErrorKind::credentials: return fmt::format("{}: {}", what, detail);
  case ErrorKind::unauthorized:
    return fmt::format("{}: HTTP 401 Unauthorized: the API server rejects the bearer token (missing, expired or not "
                       "trusted){}",
                       what, server);
  case ErrorKind::forbidden:
    return fmt::format("{}: HTTP 403 Forbidden: the service account may not {} {}; its Role/ClusterRole needs the "
                       "rule {{{}}}{}{}",
                       what, access.verb, access.resource, access.rule(),
                       access.namespace_.empty() ? " in a ClusterRole" : " in namespace " + access.namespace_, server);
  case ErrorKind::not_found: return fmt::format("{}: HTTP 404 Not Found{}", what, server);
  case ErrorKind::conflict:
    return fmt::format("{}: HTTP 409 Conflict: another writer changed it first{}", what, server);
  case ErrorKind::server_error:
  case ErrorKind::http_error: return fmt::format("{}: HTTP {}{}", what, status_code.value_or(0), server);
  case ErrorKind::malformed: return fmt::format("{}: the answer is not a Kubernetes JSON object ({})", what, detail);
  case ErrorKind::too_large: return fmt::format("{}: {}", what, detail);
  case ErrorKind::timeout: return fmt::format("{}: no answer in time ({})", what, detail);
  case ErrorKind::transport: return fmt::format("{}: cannot reach the API server ({})", what, detail);
  case ErrorKind::skipped: return fmt::format("{}: not asked ({})", what, detail);
  }
  return what;
}

struct Client::State {
  http::Client http;                   // one per client: its connection is reused across requests
  std::optional<ApiError> unreachable; // the first timeout/transport failure
};

Client::Client(Connection connection, const std::atomic<bool>* cancel)
    : m_connection(std::move(connection)), m_cancel(cancel), m_state(std::make_unique<State>()) {
  while (!m_connection.base_url.empty() && m_connection.base_url.back() == '/')
    m_connection.base_url.pop_back();
}

Client::~Client() = default;

std::expected<nlohmann::json, ApiError> Client::get(const std::string& path, const Access& access) {
  http::Request request{.url = path};
  return send(std::move(request), access);
}

std::expected<nlohmann::json, ApiError> Client::patch(const std::string& path, std::string_view content_type,
                                                      const std::string& body, const Access& access) {
  http::Request request{.url = path, .headers = {fmt::format("Content-Type: {}", content_type)}};
  request.method = http::Method::patch;
  request.body = body;
  return send(std::move(request), access);
}

// Send `wanted` (its url: the path; its method, body and extra headers) with the connection's
// settings and credentials, and read the answer.
std::expected<nlohmann::json, ApiError> Client::send(http::Request wanted, const Access& access) {
  ApiError error{.kind = ErrorKind::transport, .access = access, .status_code = std::nullopt, .detail = {}};
  auto fail = [&error](ErrorKind kind, std::string detail) {
    error.kind = kind;
    error.detail = std::move(detail);
    return std::unexpected(error);
  };
  if (m_state->unreachable)
    return fail(ErrorKind::skipped,
                fmt::format("the API server at {} did not answer an earlier request", m_connection.base_url));
  if (m_cancel != nullptr && m_cancel->load())
    return fail(ErrorKind::skipped, "the check was cancelled");
  auto request = build_request(wanted.url);
  if (!request)
    return fail(ErrorKind::credentials, request.error());
  request->method = wanted.method;
  request->body = std::move(wanted.body);
  for (auto& header : wanted.headers)
    request->headers.push_back(std::move(header));
  auto response = m_state->http.fetch(*request, m_cancel);
  for (auto& header : request->headers)
    util::wipe(header); // curl holds its own copy of the credential until the transfer ends
  if (!response)
    return fail(ErrorKind::skipped, "the check was cancelled");
  return interpret(*response, error);
}

// The request for `path`: JSON, the bearer token (re-read every time), the connection's CA and
// verification. Fails when the token or CA file cannot be used.
std::expected<http::Request, std::string> Client::build_request(const std::string& path) const {
  http::Request request{.url = m_connection.base_url + path,
                        .connect_to = std::nullopt,
                        .connection = http::Connection::reuse,
                        .timeout = m_connection.timeout,
                        .ca_file = m_connection.ca_file,
                        .verify = m_connection.verify == Connection::Verify::yes ? http::Verify::yes : http::Verify::no,
                        .max_body = m_connection.max_body,
                        .headers = {"Accept: application/json"}};
  // The CA bundle matters only when curl verifies an https server.
  if (!m_connection.ca_file.empty() && request.verify == http::Verify::yes &&
      m_connection.base_url.starts_with("https://"))
    if (auto usable = check_ca_file(m_connection.ca_file); !usable)
      return std::unexpected(usable.error());
  if (!m_connection.token_file.empty()) {
    auto token = util::read_token_file(m_connection.token_file);
    if (!token)
      return std::unexpected(token.error());
    request.headers.push_back("Authorization: Bearer " + *token);
    util::wipe(*token);
  }
  return request;
}

// The JSON object of a finished request, or the API error it stands for. A timeout or a transport
// failure makes the server unreachable for the rest of this client's life.
std::expected<nlohmann::json, ApiError> Client::interpret(const http::Response& response, ApiError error) {
  auto object = http::read_json_object(response, m_connection.max_body, m_connection.base_url);
  if (object)
    return std::move(*object);
  error.kind = object.error().kind;
  error.status_code = object.error().status_code;
  error.detail = std::move(object.error().detail);
  if (error.kind == ErrorKind::timeout || error.kind == ErrorKind::transport)
    m_state->unreachable = error;
  return std::unexpected(error);
}

std::string url_encode(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~')
      out += c;
    else
      out += fmt::format("%{:02X}", u);
  }
  return out;
}

} // namespace coder_dns_doctor::k8s
