// RFC 6455 section 5.2 framing: client frames out (masked), server frames in (unmasked).
#include <coder_dns_doctor/ws/frame.hpp>

#include <algorithm>

namespace coder_dns_doctor::ws {

namespace {

constexpr std::uint8_t k_fin = 0x80;
constexpr std::uint8_t k_reserved = 0x70;
constexpr std::uint8_t k_mask_bit = 0x80;

bool is_control(std::uint8_t opcode) {
  return (opcode & 0x08) != 0;
}

bool is_known(std::uint8_t opcode) {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
}

// Append `value` as `width` big-endian bytes.
void put_be(Bytes& out, std::uint64_t value, int width) {
  for (int shift = 8 * (width - 1); shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(value >> shift));
}

std::uint64_t get_be(ByteView bytes) {
  std::uint64_t value = 0;
  for (std::uint8_t b : bytes)
    value = (value << 8) | b;
  return value;
}

// The checks byte 0 and byte 1 allow, before any length is known (5.2, 5.5).
std::optional<FrameError> check_head(std::uint8_t b0, std::uint8_t b1) {
  std::uint8_t opcode = b0 & 0x0F;
  if ((b0 & k_reserved) != 0)
    return FrameError::reserved_bits;
  if (!is_known(opcode))
    return FrameError::bad_opcode;
  if (is_control(opcode) && (b0 & k_fin) == 0)
    return FrameError::fragmented_control;
  if ((b1 & k_mask_bit) != 0)
    return FrameError::masked_by_server;
  if (is_control(opcode) && (b1 & 0x7F) > k_max_control_payload)
    return FrameError::control_too_long;
  return std::nullopt;
}

struct Length {
  std::uint64_t value;
  std::size_t header; // bytes of header before the payload
};

// The payload length from the 7-bit field and, when it says so, the 16- or 64-bit one that
// follows; nullopt while the extended field has not fully arrived.
Partial<Length, FrameError> read_length(ByteView bytes) {
  std::uint8_t short_length = bytes[1] & 0x7F;
  if (short_length < 126)
    return Length{short_length, 2};
  std::size_t width = short_length == 126 ? 2 : 8;
  if (bytes.size() < 2 + width)
    return std::optional<Length>();
  std::uint64_t value = get_be(bytes.subspan(2, width));
  // The shortest encoding must be used (5.2), and the 64-bit form has its top bit clear.
  bool minimal = width == 2 ? value >= 126 : value > 0xFFFF;
  if (!minimal || (value >> 63) != 0)
    return std::unexpected(FrameError::bad_length);
  return Length{value, 2 + width};
}

} // namespace

Bytes encode_client_frame(Opcode opcode, ByteView payload, const MaskKey& mask, bool fin) {
  Bytes out;
  out.reserve(payload.size() + 14);
  out.push_back(static_cast<std::uint8_t>((fin ? k_fin : 0) | static_cast<std::uint8_t>(opcode)));
  if (payload.size() < 126) {
    out.push_back(static_cast<std::uint8_t>(k_mask_bit | payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    out.push_back(k_mask_bit | 126);
    put_be(out, payload.size(), 2);
  } else {
    out.push_back(k_mask_bit | 127);
    put_be(out, payload.size(), 8);
  }
  out.insert(out.end(), mask.begin(), mask.end());
  for (std::size_t i = 0; i < payload.size(); ++i)
    out.push_back(payload[i] ^ mask[i % 4]);
  return out;
}

Bytes encode_pong(ByteView ping_payload, const MaskKey& mask) {
  return encode_client_frame(Opcode::pong, ping_payload.first(std::min(ping_payload.size(), k_max_control_payload)),
                             mask);
}

Bytes encode_close(std::uint16_t code, std::string_view reason, const MaskKey& mask) {
  Bytes payload;
  put_be(payload, code, 2);
  std::size_t room = k_max_control_payload - 2;
  if (reason.size() > room) {
    // Cut at a character boundary: never leave the first bytes of a multi-byte sequence.
    reason = reason.substr(0, room);
    while (!reason.empty() && !is_utf8(as_bytes(reason)))
      reason.remove_suffix(1);
  }
  payload.insert(payload.end(), reason.begin(), reason.end());
  return encode_client_frame(Opcode::close, payload, mask);
}

std::string_view to_string(FrameError error) {
  switch (error) {
  case FrameError::masked_by_server: return "masked_by_server";
  case FrameError::reserved_bits: return "reserved_bits";
  case FrameError::bad_opcode: return "bad_opcode";
  case FrameError::control_too_long: return "control_too_long";
  case FrameError::fragmented_control: return "fragmented_control";
  case FrameError::too_large: return "too_large";
  case FrameError::bad_length: return "bad_length";
  case FrameError::unexpected_continuation: return "unexpected_continuation";
  case FrameError::expected_continuation: return "expected_continuation";
  case FrameError::bad_close: return "bad_close";
  case FrameError::bad_utf8: return "bad_utf8";
  case FrameError::after_close: return "after_close";
  }
  return "unknown";
}

Partial<Frame, FrameError> parse_server_frame(ByteView bytes, std::size_t max_payload) {
  if (bytes.empty())
    return std::optional<Frame>();
  // Byte 0 alone can already show a reserved bit, an unknown opcode or a fragmented control.
  if (auto bad = check_head(bytes[0], bytes.size() > 1 ? bytes[1] : 0))
    return std::unexpected(*bad);
  if (bytes.size() < 2)
    return std::optional<Frame>();
  auto length = read_length(bytes);
  if (!length || !*length)
    return length ? Partial<Frame, FrameError>(std::optional<Frame>()) : std::unexpected(length.error());
  if ((*length)->value > max_payload)
    return std::unexpected(FrameError::too_large);
  std::size_t size = static_cast<std::size_t>((*length)->value);
  std::size_t header = (*length)->header;
  if (bytes.size() - header < size)
    return std::optional<Frame>();
  Frame frame;
  frame.fin = (bytes[0] & k_fin) != 0;
  frame.opcode = static_cast<Opcode>(bytes[0] & 0x0F);
  frame.payload.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header),
                       bytes.begin() + static_cast<std::ptrdiff_t>(header + size));
  frame.consumed = header + size;
  return frame;
}

namespace {

// The length of the well-formed UTF-8 sequence at the start of `bytes` (RFC 3629 table 3-5), or
// 0 when it is not one.
std::size_t utf8_sequence(ByteView bytes) {
  std::uint8_t b = bytes[0];
  if (b < 0x80)
    return 1;
  // How many continuation bytes follow this lead byte; 0xC0, 0xC1 and 0xF5.. never appear.
  std::size_t more = b >= 0xC2 && b <= 0xDF ? 1 : b >= 0xE0 && b <= 0xEF ? 2 : b >= 0xF0 && b <= 0xF4 ? 3 : 0;
  if (more == 0 || bytes.size() <= more)
    return 0;
  // The second byte's range depends on the first (no overlongs, surrogates or > U+10FFFF).
  std::uint8_t lo = b == 0xE0 ? 0xA0 : b == 0xF0 ? 0x90 : 0x80;
  std::uint8_t hi = b == 0xED ? 0x9F : b == 0xF4 ? 0x8F : 0xBF;
  if (bytes[1] < lo || bytes[1] > hi)
    return 0;
  for (std::size_t k = 2; k <= more; ++k)
    if ((bytes[k] & 0xC0) != 0x80)
      return 0;
  return more + 1;
}

} // namespace

// Table 3-5 of RFC 3629 (well-formed UTF-8 byte sequences).
bool is_utf8(ByteView bytes) {
  for (std::size_t i = 0; i < bytes.size();) {
    std::size_t length = utf8_sequence(bytes.subspan(i));
    if (length == 0)
      return false;
    i += length;
  }
  return true;
}

} // namespace coder_dns_doctor::ws
