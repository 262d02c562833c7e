#include <coder_dns_doctor/http/json_api.hpp>
#include <coder_dns_doctor/util/secret.hpp>

#include <curl/curl.h> // CURLE_OPERATION_TIMEDOUT: the one CURLcode a JSON API reader tells apart

#include <fmt/core.h>

namespace coder_dns_doctor::http {
namespace {

// The `message` of an error body: a Kubernetes Status and coderd's httpapi.Response both carry one.
std::string error_message(const std::string& body) {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("message") && parsed["message"].is_string())
    return util::one_line(parsed["message"].get<std::string>());
  return {};
}

ApiErrorKind kind_of_status(long status) {
  if (status == 401)
    return ApiErrorKind::unauthorized;
  if (status == 403)
    return ApiErrorKind::forbidden;
  if (status == 404)
    return ApiErrorKind::not_found;
  if (status == 409)
    return ApiErrorKind::conflict;
  if (status >= 500)
    return ApiErrorKind::server_error;
  return ApiErrorKind::http_error;
}

} // namespace

std::string_view to_string(ApiErrorKind kind) {
  switch (kind) {
  case ApiErrorKind::credentials: return "credentials";
  case ApiErrorKind::unauthorized: return "unauthorized";
  case ApiErrorKind::forbidden: return "forbidden";
  case ApiErrorKind::not_found: return "not_found";
  case ApiErrorKind::conflict: return "conflict";
  case ApiErrorKind::server_error: return "server_error";
  case ApiErrorKind::http_error: return "http_error";
  case ApiErrorKind::malformed: return "malformed";
  case ApiErrorKind::too_large: return "too_large";
  case ApiErrorKind::timeout: return "timeout";
  case ApiErrorKind::transport: return "transport";
  case ApiErrorKind::skipped: return "skipped";
  }
  return "transport";
}

std::expected<nlohmann::json, ApiFailure> read_json(const Response& response, std::size_t max_body,
                                                    std::string_view base_url, JsonShape shape) {
  if (response.too_large)
    return std::unexpected(ApiFailure{ApiErrorKind::too_large, response.status_code,
                                      fmt::format("the answer is larger than {} bytes", max_body)});
  if (response.error)
    return std::unexpected(
        ApiFailure{response.curl_code == CURLE_OPERATION_TIMEDOUT ? ApiErrorKind::timeout : ApiErrorKind::transport,
                   std::nullopt, util::one_line(fmt::format("{}: {}", base_url, *response.error))});
  long status = response.status_code.value_or(0);
  if (status < 200 || status > 299)
    return std::unexpected(ApiFailure{kind_of_status(status), status, error_message(response.body)});
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  bool shaped = shape == JsonShape::object ? parsed.is_object() : parsed.is_array();
  if (parsed.is_discarded() || !shaped)
    return std::unexpected(
        ApiFailure{ApiErrorKind::malformed, status,
                   parsed.is_discarded()
                       ? fmt::format("{} bytes that do not parse as JSON", response.body.size())
                       : fmt::format("JSON that is not an {}", shape == JsonShape::object ? "object" : "array")});
  return parsed;
}

std::expected<nlohmann::json, ApiFailure> read_json_object(const Response& response, std::size_t max_body,
                                                           std::string_view base_url) {
  return read_json(response, max_body, base_url, JsonShape::object);
}

} // namespace coder_dns_doctor::http
