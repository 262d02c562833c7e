// Layer 2 (ws): DERP framing (tailscale's derp/derp.go, as in Coder's fork): one byte of frame
// type, a 4-byte big-endian payload length, the payload. The same bytes travel on a raw
// `Upgrade: DERP` connection and, over a WebSocket, inside binary messages as one byte stream
// (a frame may span messages), so the caller joins message payloads before parsing.
#pragma once

#include <coder_dns_doctor/ws/codec.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace coder_dns_doctor::ws {

enum class DerpFrameType : std::uint8_t {
  server_key = 0x01,  // the server's first frame: magic + 32-byte public key
  client_info = 0x02, // the client's first frame
  keep_alive = 0x06,  // empty, every 60 s + jitter on an established connection
};

struct DerpFrame {
  std::uint8_t type = 0; // any value: unknown types are skipped by DERP peers, not errors
  Bytes payload;
  std::size_t consumed = 0; // 5 + payload size
};

enum class DerpError {
  too_large, // the announced length is over the caller's limit (decided from the 5-byte header)
};

// DERP's own cap on a frame (derp.go's MaxPacketSize, 64 KiB) plus its header: a sane default.
constexpr std::size_t k_default_max_derp_payload = 64 * 1024 + 64;

[[nodiscard]] std::string_view to_string(DerpError error);

// Parse the DERP frame at the start of `bytes`.
[[nodiscard]] Partial<DerpFrame, DerpError> parse_derp_frame(ByteView bytes,
                                                             std::size_t max_payload = k_default_max_derp_payload);

// "DERP🔑": the 8 bytes that open the server-key payload.
constexpr std::array<std::uint8_t, 8> k_derp_magic{0x44, 0x45, 0x52, 0x50, 0xF0, 0x9F, 0x94, 0x91};
constexpr std::size_t k_derp_key_size = 32;

enum class ServerKeyError {
  wrong_type,   // not frame type 0x01
  wrong_length, // a payload other than 40 bytes (8 magic + 32 key)
  bad_magic,    // the payload does not open with "DERP🔑"
};

[[nodiscard]] std::string_view to_string(ServerKeyError error);

// Whether `frame` is the server-key frame coderd's /derp sends first; its key as 64 lowercase
// hex digits (the form of the Derp-Public-Key header) when it is.
[[nodiscard]] std::expected<std::string, ServerKeyError> is_server_key_frame(const DerpFrame& frame);

} // namespace coder_dns_doctor::ws
