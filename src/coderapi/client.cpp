#include <coder_dns_doctor/coderapi/client.hpp>

#include <coder_dns_doctor/http/ca_store.hpp>
#include <coder_dns_doctor/util/secret.hpp>

#include <fmt/core.h>

namespace coder_dns_doctor::coderapi {
namespace {

using http::ApiErrorKind;

// The path without its query, for messages (a query never holds the token: it goes in a header).
std::string path_only(const std::string& path) {
  return path.substr(0, path.find('?'));
}

std::string_view method_name(http::Method method) {
  switch (method) {
  case http::Method::get: return "GET";
  case http::Method::head: return "HEAD";
  case http::Method::patch: return "PATCH";
  case http::Method::post: return "POST";
  }
  return "GET";
}

} // namespace

std::string ApiError::describe() const {
  const std::string& detail = failure.detail;
  std::string server = detail.empty() ? std::string() : fmt::format(" (coderd: {})", detail);
  switch (failure.kind) {
  case ApiErrorKind::credentials: return fmt::format("{}: {}", request, detail);
  case ApiErrorKind::unauthorized:
    return fmt::format("{}: HTTP 401: coderd does not accept the session token (wrong, expired or deleted){}", request,
                       server);
  case ApiErrorKind::forbidden:
  case ApiErrorKind::not_found:
    return fmt::format("{}: HTTP {}: the token's user may not read this (it needs the Owner role){}", request,
                       failure.status_code.value_or(0), server);
  case ApiErrorKind::server_error:
  case ApiErrorKind::conflict:
  case ApiErrorKind::http_error: return fmt::format("{}: HTTP {}{}", request, failure.status_code.value_or(0), server);
  case ApiErrorKind::malformed: return fmt::format("{}: the answer is not the JSON coderd sends ({})", request, detail);
  case ApiErrorKind::too_large: return fmt::format("{}: {}", request, detail);
  case ApiErrorKind::timeout: return fmt::format("{}: no answer in time ({})", request, detail);
  case ApiErrorKind::transport: return fmt::format("{}: cannot reach coderd ({})", request, detail);
  case ApiErrorKind::skipped: return fmt::format("{}: not asked ({})", request, detail);
  }
  return request;
}

struct Client::State {
  http::Client http;                           // one per client: its connection is reused
  std::optional<http::ApiFailure> unreachable; // the first timeout/transport failure
};

Client::Client(Connection connection, const std::atomic<bool>* cancel)
    : m_connection(std::move(connection)), m_cancel(cancel), m_state(std::make_unique<State>()) {
  while (!m_connection.base_url.empty() && m_connection.base_url.back() == '/')
    m_connection.base_url.pop_back();
}

Client::~Client() = default;

std::expected<nlohmann::json, ApiError> Client::get(const std::string& path) {
  return send({.method = http::Method::get, .path = path, .content_type = {}, .body = {}}, http::JsonShape::object);
}

std::expected<nlohmann::json, ApiError> Client::get_array(const std::string& path) {
  return send({.method = http::Method::get, .path = path, .content_type = {}, .body = {}}, http::JsonShape::array);
}

std::expected<nlohmann::json, ApiError> Client::write(const Write& write) {
  return send(write, http::JsonShape::object);
}

std::expected<nlohmann::json, ApiError> Client::send(const Write& call, http::JsonShape shape) {
  ApiError error{.failure = {}, .request = fmt::format("{} {}", method_name(call.method), path_only(call.path))};
  auto fail = [&error](ApiErrorKind kind, std::string detail) {
    error.failure = {kind, std::nullopt, std::move(detail)};
    return std::unexpected(error);
  };
  if (m_state->unreachable)
    return fail(ApiErrorKind::skipped,
                fmt::format("coderd at {} did not answer an earlier request", m_connection.base_url));
  if (m_cancel != nullptr && m_cancel->load())
    return fail(ApiErrorKind::skipped, "the check was cancelled");
  bool verify = m_connection.verify == http::Verify::yes;
  if (!m_connection.ca_file.empty() && verify && m_connection.base_url.starts_with("https://"))
    if (auto readable = http::ca_file_readable(m_connection.ca_file); !readable)
      return fail(ApiErrorKind::credentials, fmt::format("cannot read the CA file: {}", readable.error().message));
  auto token = util::read_token_file(m_connection.token_file, "Coder token file");
  if (!token)
    return fail(ApiErrorKind::credentials, token.error());
  http::Request request{.url = m_connection.base_url + call.path,
                        .connect_to = m_connection.connect_to,
                        .connection = http::Connection::reuse,
                        .timeout = m_connection.timeout,
                        .ca_file = m_connection.ca_file,
                        .verify = m_connection.verify,
                        .max_body = m_connection.max_body,
                        .headers = {"Accept: application/json", fmt::format("{}: {}", k_session_token_header, *token)},
                        .method = call.method,
                        .body = call.body,
                        .capture_headers = {}};
  if (!call.content_type.empty())
    request.headers.push_back(fmt::format("Content-Type: {}", call.content_type));
  util::wipe(*token);
  auto response = m_state->http.fetch(request, m_cancel);
  for (auto& header : request.headers)
    util::wipe(header); // curl holds its own copy until the transfer ends
  if (!response)
    return fail(ApiErrorKind::skipped, "the check was cancelled");
  auto value = http::read_json(*response, m_connection.max_body, m_connection.base_url, shape);
  if (value)
    return std::move(*value);
  error.failure = std::move(value.error());
  if (error.failure.kind == ApiErrorKind::timeout || error.failure.kind == ApiErrorKind::transport)
    m_state->unreachable = error.failure;
  return std::unexpected(error);
}

} // namespace coder_dns_doctor::coderapi
