// Layer 2 (http): reading the answer of a JSON API (the Kubernetes API server, coderd's REST API)
// into a JSON object or a typed failure. One place for both, so a 401, a body cap or a timeout
// means the same everywhere.
#pragma once

#include <coder_dns_doctor/http/client.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace coder_dns_doctor::http {

enum class ApiErrorKind {
  credentials,  // the token or CA file cannot be read
  unauthorized, // 401: the token is missing, expired or not trusted
  forbidden,    // 403: the token's subject may not do this
  not_found,    // 404
  conflict,     // 409: a write lost a race with another writer (retry it)
  server_error, // 5xx
  http_error,   // another non-2xx status
  malformed,    // 2xx but not the JSON object expected
  too_large,    // the body exceeded the size cap
  timeout,      // no complete answer within the timeout
  transport,    // connection refused, TLS failure, ...
  skipped,      // not sent: an earlier request found the server unreachable, or the check was cancelled
};

[[nodiscard]] std::string_view to_string(ApiErrorKind kind);

struct ApiFailure {
  ApiErrorKind kind = ApiErrorKind::transport;
  std::optional<long> status_code;
  std::string detail; // the server's message or the transport error, one line; never a credential
};

// Return the JSON object a finished request to the API at `base_url` answered, or why there is
// none: the body cap, a transport failure (timeout or not), a non-2xx status (with the `message`
// of the error body), a body that is not a JSON object.
// What a 2xx answer must parse as: one object (almost every call), or an array (coderd's logs).
enum class JsonShape { object, array };

// As read_json_object, for an answer of the given shape.
[[nodiscard]] std::expected<nlohmann::json, ApiFailure> read_json(const Response& response, std::size_t max_body,
                                                                  std::string_view base_url, JsonShape shape);

[[nodiscard]] std::expected<nlohmann::json, ApiFailure> read_json_object(const Response& response, std::size_t max_body,
                                                                         std::string_view base_url);

} // namespace coder_dns_doctor::http
