#include <coder_dns_doctor/transport/check.hpp>

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include <array>

namespace coder_dns_doctor::transport {
namespace {

// A random UUIDv4 (RFC 9562 4.4), the form of an agent token: coderd must look it up in its
// database to refuse it, which proves the database answers on this path.
std::string random_token() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    bytes.fill(0x5a); // any value works: coderd refuses it all the same
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);
  std::string hex;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      hex += '-';
    hex += fmt::format("{:02x}", bytes[i]);
  }
  return hex;
}

// The JSON error coderd writes: an object with a string `message`.
bool is_coderd_error(const std::string& body) {
  auto document = nlohmann::json::parse(body, nullptr, false);
  return document.is_object() && document.contains("message") && document["message"].is_string();
}

Result judge_agent_binary(const http::Response& response, Result result) {
  long code = *response.status_code;
  if (code == 404) {
    result.status = Status::not_bundled;
    result.detail = "HTTP 404: this coderd bundles no agent binaries (a slim build); agents download them elsewhere";
  } else if (code != 200) {
    result.status = Status::http_error;
    result.detail = fmt::format("HTTP {}", code);
  } else if (!result.coderd_version) {
    result.status = Status::not_coderd;
    result.detail = fmt::format("HTTP 200 without {}", k_build_version_header);
  } else if (!response.header("Content-Length")) {
    result.status = Status::http_error;
    result.detail = "HTTP 200 without a Content-Length";
  } else {
    result.status = Status::ok;
  }
  return result;
}

Result judge_agent_api(const http::Response& response, Result result) {
  long code = *response.status_code;
  if (code != 401) {
    result.status = Status::http_error;
    result.detail = code == 500 ? "HTTP 500: coderd could not check the token (its database?)"
                                : fmt::format("HTTP {} (coderd refuses an unknown agent token with 401)", code);
  } else if (!result.coderd_version || !is_coderd_error(response.body)) {
    result.status = Status::not_coderd;
    result.detail = fmt::format("HTTP 401 without {} or coderd's JSON error body", k_build_version_header);
  } else {
    result.status = Status::ok;
  }
  return result;
}

} // namespace

std::string_view to_string(Check check) {
  switch (check) {
  case Check::derp_map_websocket: return "derp-map-websocket";
  case Check::derp_websocket: return "derp-websocket";
  case Check::derp_upgrade: return "derp-upgrade";
  case Check::agent_binary: return "agent-binary";
  case Check::agent_api: return "agent-api";
  }
  return "unknown";
}

std::string_view to_string(Status status) {
  switch (status) {
  case Status::ok: return "ok";
  case Status::refused: return "refused";
  case Status::unreachable: return "unreachable";
  case Status::timeout: return "timeout";
  case Status::tls: return "tls";
  case Status::http_error: return "http_error";
  case Status::not_upgraded: return "not_upgraded";
  case Status::bad_handshake: return "bad_handshake";
  case Status::bad_frame: return "bad_frame";
  case Status::not_coderd: return "not_coderd";
  case Status::closed_early: return "closed_early";
  case Status::not_bundled: return "not_bundled";
  case Status::error: return "error";
  }
  return "error";
}

const std::vector<Check>& all_checks() {
  static const std::vector<Check> checks{Check::derp_map_websocket, Check::derp_websocket, Check::derp_upgrade,
                                         Check::agent_binary, Check::agent_api};
  return checks;
}

bool is_upgrade(Check check) {
  return check == Check::derp_map_websocket || check == Check::derp_websocket || check == Check::derp_upgrade;
}

std::string path_of(Check check, std::string_view agent_arch) {
  switch (check) {
  case Check::derp_map_websocket: return "/api/v2/derp-map";
  case Check::derp_websocket:
  case Check::derp_upgrade: return "/derp";
  case Check::agent_binary: return fmt::format("/bin/coder-linux-{}", agent_arch);
  case Check::agent_api: return "/api/v2/workspaceagents/me/rpc";
  }
  return "/";
}

bool passes(Status status) {
  return status == Status::ok || status == Status::not_bundled;
}

Status from_http(http::Status status) {
  switch (status) {
  case http::Status::ok: return Status::ok;
  case http::Status::refused: return Status::refused;
  case http::Status::unreachable: return Status::unreachable;
  case http::Status::timeout: return Status::timeout;
  case http::Status::tls: return Status::tls;
  case http::Status::http_error:
  case http::Status::body_mismatch:
  case http::Status::too_large: return Status::http_error;
  case http::Status::not_sent:
  case http::Status::error: return Status::error;
  }
  return Status::error;
}

http::Request http_request(Check check, std::string url) {
  http::Request request;
  request.url = std::move(url);
  request.capture_headers = {std::string(k_build_version_header), "Content-Length"};
  if (check == Check::agent_binary) {
    request.method = http::Method::head;
    request.headers.emplace_back("Accept-Encoding: identity"); // the exact length, not a compressed one
  } else {
    request.headers.push_back("Coder-Session-Token: " + random_token());
  }
  return request;
}

Result judge_http(Check check, const http::Response& response) {
  Result result;
  result.status_code = response.status_code;
  result.coderd_version = response.header(k_build_version_header);
  if (!response.status_code) {
    http::Outcome outcome{.curl_code = response.curl_code,
                          .os_errno = response.os_errno,
                          .http_code = std::nullopt,
                          .too_large = response.too_large};
    result.status = from_http(http::classify(outcome));
    result.detail = response.error.value_or("no HTTP answer");
    return result;
  }
  if (response.too_large) {
    result.status = Status::http_error;
    result.detail = response.error.value_or("response too large");
    return result;
  }
  return check == Check::agent_binary ? judge_agent_binary(response, std::move(result))
                                      : judge_agent_api(response, std::move(result));
}

} // namespace coder_dns_doctor::transport
