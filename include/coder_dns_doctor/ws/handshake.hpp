// Layer 2 (ws): the HTTP/1.1 upgrade of RFC 6455 section 4 (client side), and the raw
// `Upgrade: DERP` variant that coderd's /derp also answers. Builds the request text, parses the
// server's response head from a byte prefix, and checks it against what was asked.
#pragma once

#include <coder_dns_doctor/ws/codec.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::ws {

struct Header {
  std::string name;
  std::string value;
};

// base64 of 16 random bytes: the Sec-WebSocket-Key. The caller supplies the randomness (RFC 6455
// 4.1: a fresh nonce per connection), so this stays pure and testable.
[[nodiscard]] std::string make_client_key(const std::array<std::uint8_t, 16>& nonce);

// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")): the Sec-WebSocket-Accept value a
// server that understood the handshake must send back.
[[nodiscard]] std::string expected_accept(std::string_view key);

// The GET request that asks for a WebSocket on `path` (origin-form, starts with '/'). `host` is
// the Host header as is (host[:port], IPv6 in brackets). `subprotocol`, when set, is offered as
// Sec-WebSocket-Protocol. `extra` headers follow (a token, say); they must not repeat the ones
// set here. Error (one line) when a field holds CR, LF or NUL or a name is not an HTTP token:
// the text could otherwise smuggle headers.
[[nodiscard]] std::expected<std::string, std::string>
build_upgrade_request(std::string_view host, std::string_view path, std::string_view key,
                      std::optional<std::string_view> subprotocol = std::nullopt,
                      const std::vector<Header>& extra = {});

// The same GET with `Upgrade: DERP` and `Connection: Upgrade`: what Coder's DERP client sends
// first (it falls back to the WebSocket form on a 4xx). No key: the 101 carries no accept value.
[[nodiscard]] std::expected<std::string, std::string>
build_derp_upgrade_request(std::string_view host, std::string_view path, const std::vector<Header>& extra = {});

// The response head: status line and header fields, up to and including the blank line.
struct Response {
  int status = 0;
  std::string reason;
  std::vector<Header> headers; // in arrival order, names as sent
  std::size_t consumed = 0;    // bytes of the head; whatever follows is already the new protocol

  // The first field named `name` (ASCII case-insensitive), trimmed; nullopt when absent.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
  // Whether any field named `name` lists `token` (comma-separated, case-insensitive), as
  // `Connection: keep-alive, Upgrade` lists `upgrade`.
  [[nodiscard]] bool has_token(std::string_view name, std::string_view token) const;
};

struct ResponseError {
  enum class Kind {
    too_large,       // no end of the head within the limit
    bad_status_line, // not `HTTP/1.x NNN reason`
    bad_header,      // a field line without a token name and ':', or an obsolete folded line
  };
  Kind kind;
  std::string detail; // one line for a report
};

constexpr std::size_t k_default_max_head = 16 * 1024;

// Parse the response head from the first bytes the server sent. Strict CRLF line ends (what
// coderd and Go's net/http write). A head longer than `max_head` bytes is too_large as soon as
// that many bytes arrived without its end; a prefix that cannot start a status line fails at once.
[[nodiscard]] Partial<Response, ResponseError> parse_upgrade_response(ByteView bytes,
                                                                      std::size_t max_head = k_default_max_head);

enum class UpgradeStatus {
  ok,
  not_upgraded,         // the status is not 101 (coderd's 426, a proxy's 400/502, a 401); see http_status
  wrong_upgrade,        // 101, but the Upgrade header is missing or names another protocol
  missing_connection,   // 101 without `Connection: Upgrade`
  missing_accept,       // no Sec-WebSocket-Accept
  wrong_accept,         // an accept value that is not the one for our key: not a WebSocket server
  wrong_protocol,       // the subprotocol is not the one asked for (or one was chosen unasked)
  unexpected_extension, // Sec-WebSocket-Extensions although none was offered (RFC 6455 4.1)
};

[[nodiscard]] std::string_view to_string(UpgradeStatus status);

struct UpgradeCheck {
  UpgradeStatus status = UpgradeStatus::ok;
  int http_status = 0; // the response's status code, kept for every outcome
  std::string detail;  // what was wrong, one line; empty when ok
};

// Whether `response` completes a WebSocket handshake for `key`, offering `subprotocol` (nullopt:
// none offered, so the server must not choose one). Checks in the order of RFC 6455 4.1.
[[nodiscard]] UpgradeCheck check_upgrade(const Response& response, std::string_view key,
                                         std::optional<std::string_view> subprotocol);

// Whether `response` accepts a raw `Upgrade: DERP`: 101 with `Upgrade: DERP` and
// `Connection: Upgrade`. No accept header exists in this form (coderd also sends Derp-Version and
// Derp-Public-Key, read them with Response::header).
[[nodiscard]] UpgradeCheck check_derp_upgrade(const Response& response);

} // namespace coder_dns_doctor::ws
