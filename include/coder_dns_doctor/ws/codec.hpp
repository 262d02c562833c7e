// Layer 2 (ws: a pure RFC 6455 client codec and the DERP framing behind it; uses util and core
// only, OpenSSL's libcrypto for SHA-1 and base64; see README "Layers").
//
// Contract: no sockets, no clocks, no I/O, no exceptions. Byte buffers go in, values come out.
// The caller (the probe engine) moves bytes with curl_easy_send/recv and hands whatever arrived
// to these parsers; a parser never needs the whole stream, only a prefix of it, and says which of
// three things that prefix is:
//   - incomplete: a valid prefix, send more bytes (the value is std::nullopt);
//   - a value, with the number of bytes it used, so the caller drops exactly those;
//   - an error kind, decided as early as the bytes allow (a too-long length fails from the
//     header, before the payload arrives), so a hostile peer cannot make the caller buffer much.
// Every size a peer announces is checked against a caller's limit before anything is allocated.
//
// The parts: handshake.hpp (the HTTP/1.1 upgrade, WebSocket and raw `Upgrade: DERP`),
// frame.hpp (client frames out, server frames in, MessageReader for whole messages),
// derp.hpp (DERP frames inside either transport, the server-key frame).
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::ws {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// The result of parsing a prefix of a stream: an error E, or a T, or std::nullopt (incomplete:
// nothing is wrong yet, more bytes are needed).
template <class T, class E> using Partial = std::expected<std::optional<T>, E>;

// The bytes of `text`, for callers (and tests) that hold a stream in a std::string.
[[nodiscard]] inline ByteView as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

} // namespace coder_dns_doctor::ws
