// The client's half of the upgrade: key, accept value, request text, and the checks on a parsed
// response (response.cpp parses it).
#include <coder_dns_doctor/ws/handshake.hpp>

#include "http_text.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

namespace coder_dns_doctor::ws {

namespace {

constexpr std::string_view k_accept_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string base64(ByteView bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

// A value may hold anything but the bytes that end a line (or a C string).
bool is_safe_value(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// The request line and Host, checked, then `fields` and `extra`, each checked the same way.
std::expected<std::string, std::string> build_get(std::string_view host, std::string_view path,
                                                  const std::vector<Header>& fields, const std::vector<Header>& extra) {
  if (host.empty() || !is_safe_value(host) || host.find_first_of(" \t") != std::string_view::npos)
    return std::unexpected(fmt::format("websocket request: bad host '{}'", host));
  if (!path.starts_with('/') || !is_safe_value(path) || path.find_first_of(" \t") != std::string_view::npos)
    return std::unexpected(fmt::format("websocket request: bad path '{}' (expected /...)", path));
  std::string text = fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\n", path, host);
  for (const auto* list : {&fields, &extra}) {
    for (const Header& field : *list) {
      if (!detail::is_token(field.name) || !is_safe_value(field.value))
        return std::unexpected(fmt::format("websocket request: bad header '{}'", field.name));
      text += fmt::format("{}: {}\r\n", field.name, field.value);
    }
  }
  return text + "\r\n";
}

UpgradeCheck failed(UpgradeStatus status, const Response& response, std::string detail) {
  return {status, response.status, std::move(detail)};
}

// The part both forms share (RFC 6455 4.1 points 1-3): a 101 naming `protocol` in Upgrade, and
// `Connection: Upgrade`.
std::optional<UpgradeCheck> check_switch(const Response& response, std::string_view protocol) {
  if (response.status != 101)
    return failed(UpgradeStatus::not_upgraded, response, fmt::format("HTTP {} instead of 101", response.status));
  if (!response.has_token("upgrade", protocol))
    return failed(
        UpgradeStatus::wrong_upgrade, response,
        fmt::format("101 with Upgrade '{}', expected '{}'", response.header("upgrade").value_or(""), protocol));
  if (!response.has_token("connection", "upgrade"))
    return failed(UpgradeStatus::missing_connection, response, "101 without 'Connection: Upgrade'");
  return std::nullopt;
}

} // namespace

std::string make_client_key(const std::array<std::uint8_t, 16>& nonce) {
  return base64(nonce);
}

std::string expected_accept(std::string_view key) {
  std::string input = std::string(key) + std::string(k_accept_guid);
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  // EVP_Digest cannot fail for SHA-1 on a memory buffer short of an allocation failure; then the
  // digest stays short and the accept value matches nothing, which fails the check, not the program.
  if (EVP_Digest(input.data(), input.size(), digest.data(), &size, EVP_sha1(), nullptr) != 1)
    return {};
  return base64(ByteView(digest.data(), size));
}

std::expected<std::string, std::string> build_upgrade_request(std::string_view host, std::string_view path,
                                                              std::string_view key,
                                                              std::optional<std::string_view> subprotocol,
                                                              const std::vector<Header>& extra) {
  std::vector<Header> fields{{"Upgrade", "websocket"},
                             {"Connection", "Upgrade"},
                             {"Sec-WebSocket-Key", std::string(key)},
                             {"Sec-WebSocket-Version", "13"}};
  if (subprotocol)
    fields.push_back({"Sec-WebSocket-Protocol", std::string(*subprotocol)});
  return build_get(host, path, fields, extra);
}

std::expected<std::string, std::string> build_derp_upgrade_request(std::string_view host, std::string_view path,
                                                                   const std::vector<Header>& extra) {
  return build_get(host, path, {{"Upgrade", "DERP"}, {"Connection", "Upgrade"}}, extra);
}

std::string_view to_string(UpgradeStatus status) {
  switch (status) {
  case UpgradeStatus::ok: return "ok";
  case UpgradeStatus::not_upgraded: return "not_upgraded";
  case UpgradeStatus::wrong_upgrade: return "wrong_upgrade";
  case UpgradeStatus::missing_connection: return "missing_connection";
  case UpgradeStatus::missing_accept: return "missing_accept";
  case UpgradeStatus::wrong_accept: return "wrong_accept";
  case UpgradeStatus::wrong_protocol: return "wrong_protocol";
  case UpgradeStatus::unexpected_extension: return "unexpected_extension";
  }
  return "unknown";
}

UpgradeCheck check_upgrade(const Response& response, std::string_view key,
                           std::optional<std::string_view> subprotocol) {
  if (auto failure = check_switch(response, "websocket"))
    return *failure;
  auto accept = response.header("sec-websocket-accept");
  if (!accept)
    return failed(UpgradeStatus::missing_accept, response, "101 without Sec-WebSocket-Accept");
  if (*accept != expected_accept(key))
    return failed(UpgradeStatus::wrong_accept, response,
                  fmt::format("Sec-WebSocket-Accept '{}', expected '{}'", *accept, expected_accept(key)));
  auto chosen = response.header("sec-websocket-protocol");
  if (chosen != subprotocol)
    return failed(UpgradeStatus::wrong_protocol, response,
                  fmt::format("subprotocol '{}', asked for '{}'", chosen.value_or(""), subprotocol.value_or("")));
  if (auto extensions = response.header("sec-websocket-extensions"))
    return failed(UpgradeStatus::unexpected_extension, response,
                  fmt::format("extensions '{}' although none were offered", *extensions));
  return {UpgradeStatus::ok, response.status, {}};
}

UpgradeCheck check_derp_upgrade(const Response& response) {
  if (auto failure = check_switch(response, "DERP"))
    return *failure;
  return {UpgradeStatus::ok, response.status, {}};
}

} // namespace coder_dns_doctor::ws
