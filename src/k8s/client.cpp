#include <coder_dns_doctor/k8s/client.hpp>

#include <coder_dns_doctor/http/ca_store.hpp>
#include <coder_dns_doctor/util/bounded_read.hpp>
#include <coder_dns_doctor/util/strings.hpp>

#include <curl/curl.h> // CURLE_OPERATION_TIMEDOUT only: http::Client runs the transfer
#include <fmt/core.h>

#include <algorithm>
#include <cctype>

namespace coder_dns_doctor::k8s {
namespace {

constexpr std::size_t k_max_token_bytes = 64 * 1024;
constexpr std::size_t k_max_detail = 300;

// Keep messages one line and short: a Status message or a curl error, never a body dump.
std::string clip(std::string_view text) {
  std::string out;
  for (char c : text)
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (out.size() > k_max_detail)
    out = out.substr(0, k_max_detail) + "...";
  return out;
}

// Wipe a copy of a credential before its memory is released.
void wipe(std::string& secret) {
  std::fill(secret.begin(), secret.end(), '\0');
  secret.clear();
}

// Read the bearer token; the caller never prints it, and no message holds any of its bytes.
std::expected<std::string, std::string> read_token(const std::string& path) {
  auto read = util::read_bounded(path, k_max_token_bytes);
  if (!read) {
    if (read.error().problem == util::FileProblem::too_large)
      return std::unexpected(fmt::format("the token file {} is larger than {} bytes", path, k_max_token_bytes));
    return std::unexpected(fmt::format("cannot read the token file: {}", read.error().message));
  }
  std::string token = std::move(*read);
  std::string_view trimmed = util::trim(token);
  std::string problem;
  if (trimmed.empty())
    problem = fmt::format("the token file {} is empty", path);
  else if (std::any_of(trimmed.begin(), trimmed.end(),
                       [](char c) { return std::iscntrl(static_cast<unsigned char>(c)) != 0; }))
    problem = fmt::format("the token file {} holds control characters", path);
  std::string result = problem.empty() ? std::string(trimmed) : std::string();
  wipe(token);
  if (!problem.empty())
    return std::unexpected(problem);
  return result;
}

// Check that the API server's CA bundle can be read for this request (like the token, so a
// broken file is a credentials problem, not a TLS failure). The shared CA store reads the file, and
// rebuilds itself when it changes, so a replaced bundle is used at once and is read only once.
std::expected<void, std::string> check_ca_file(const std::string& path) {
  if (auto readable = http::ca_file_readable(path); !readable)
    return std::unexpected(fmt::format("cannot read the CA file: {}", readable.error().message));
  return {};
}

// The message of a Kubernetes Status object, when the body is one.
std::string status_message(const std::string& body) {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("message") && parsed["message"].is_string())
    return clip(parsed["message"].get<std::string>());
  return {};
}

ErrorKind kind_of_status(long status) {
  if (status == 401)
    return ErrorKind::unauthorized;
  if (status == 403)
    return ErrorKind::forbidden;
  if (status == 404)
    return ErrorKind::not_found;
  if (status >= 500)
    return ErrorKind::server_error;
  return ErrorKind::http_error;
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

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
  case ErrorKind::credentials: return "credentials";
  case ErrorKind::unauthorized: return "unauthorized";
  case ErrorKind::forbidden: return "forbidden";
  case ErrorKind::not_found: return "not_found";
  case ErrorKind::server_error: return "server_error";
  case ErrorKind::http_error: return "http_error";
  case ErrorKind::malformed: return "malformed";
  case ErrorKind::too_large: return "too_large";
  case ErrorKind::timeout: return "timeout";
  case ErrorKind::transport: return "transport";
  case ErrorKind::skipped: return "skipped";
  }
  return "transport";
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
  auto request = build_request(path);
  if (!request)
    return fail(ErrorKind::credentials, request.error());
  auto response = m_state->http.fetch(*request, m_cancel);
  for (auto& header : request->headers)
    wipe(header); // curl holds its own copy of the credential until the transfer ends
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
    auto token = read_token(m_connection.token_file);
    if (!token)
      return std::unexpected(token.error());
    request.headers.push_back("Authorization: Bearer " + *token);
    wipe(*token);
  }
  return request;
}

// The JSON object of a finished request, or the API error it stands for. A timeout or a transport
// failure makes the server unreachable for the rest of this client's life.
std::expected<nlohmann::json, ApiError> Client::interpret(const http::Response& response, ApiError error) {
  if (response.too_large) {
    error.kind = ErrorKind::too_large;
    error.detail = fmt::format("the answer is larger than {} bytes", m_connection.max_body);
    return std::unexpected(error);
  }
  if (response.error) {
    error.kind = response.curl_code == CURLE_OPERATION_TIMEDOUT ? ErrorKind::timeout : ErrorKind::transport;
    error.detail = clip(fmt::format("{}: {}", m_connection.base_url, *response.error));
    m_state->unreachable = error;
    return std::unexpected(error);
  }
  long status = response.status_code.value_or(0);
  if (status < 200 || status > 299) {
    error.kind = kind_of_status(status);
    error.status_code = status;
    error.detail = status_message(response.body);
    return std::unexpected(error);
  }
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    error.kind = ErrorKind::malformed;
    error.status_code = status;
    error.detail = parsed.is_discarded() ? fmt::format("{} bytes that do not parse as JSON", response.body.size())
                                         : "JSON that is not an object";
    return std::unexpected(error);
  }
  return parsed;
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
