// DERP frames (tailscale derp/derp.go: frameHeaderLen 5, big-endian uint32 length).
#include <coder_dns_doctor/ws/derp.hpp>

#include <algorithm>

namespace coder_dns_doctor::ws {

namespace {
constexpr std::size_t k_header = 5;
} // namespace

std::string_view to_string(DerpError error) {
  switch (error) {
  case DerpError::too_large: return "too_large";
  }
  return "unknown";
}

std::string_view to_string(ServerKeyError error) {
  switch (error) {
  case ServerKeyError::wrong_type: return "wrong_type";
  case ServerKeyError::wrong_length: return "wrong_length";
  case ServerKeyError::bad_magic: return "bad_magic";
  }
  return "unknown";
}

Partial<DerpFrame, DerpError> parse_derp_frame(ByteView bytes, std::size_t max_payload) {
  if (bytes.size() < k_header)
    return std::optional<DerpFrame>();
  std::uint32_t length = (std::uint32_t{bytes[1]} << 24) | (std::uint32_t{bytes[2]} << 16) |
                         (std::uint32_t{bytes[3]} << 8) | std::uint32_t{bytes[4]};
  if (length > max_payload)
    return std::unexpected(DerpError::too_large);
  if (bytes.size() - k_header < length)
    return std::optional<DerpFrame>();
  DerpFrame frame;
  frame.type = bytes[0];
  frame.payload.assign(bytes.begin() + k_header, bytes.begin() + static_cast<std::ptrdiff_t>(k_header + length));
  frame.consumed = k_header + length;
  return frame;
}

std::expected<std::string, ServerKeyError> is_server_key_frame(const DerpFrame& frame) {
  if (frame.type != static_cast<std::uint8_t>(DerpFrameType::server_key))
    return std::unexpected(ServerKeyError::wrong_type);
  if (frame.payload.size() != k_derp_magic.size() + k_derp_key_size)
    return std::unexpected(ServerKeyError::wrong_length);
  if (!std::equal(k_derp_magic.begin(), k_derp_magic.end(), frame.payload.begin()))
    return std::unexpected(ServerKeyError::bad_magic);
  constexpr std::string_view k_digits = "0123456789abcdef";
  std::string hex;
  for (std::size_t i = k_derp_magic.size(); i < frame.payload.size(); ++i) {
    hex += k_digits[frame.payload[i] >> 4];
    hex += k_digits[frame.payload[i] & 0x0F];
  }
  return hex;
}

} // namespace coder_dns_doctor::ws
