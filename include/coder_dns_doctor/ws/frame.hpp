// Layer 2 (ws): RFC 6455 section 5 framing, client side. Frames a client sends are always masked
// (5.3); frames a server sends never are (5.1). MessageReader turns a server's frame stream into
// whole messages, close and ping/pong events.
#pragma once

#include <coder_dns_doctor/ws/codec.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace coder_dns_doctor::ws {

enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

using MaskKey = std::array<std::uint8_t, 4>;

// Control frames carry at most this many payload bytes (5.5).
constexpr std::size_t k_max_control_payload = 125;

// One frame as a client sends it: FIN/opcode, the mask bit and the shortest length encoding
// (7-bit, 16-bit or 64-bit), the key, then `payload` XORed with it. The caller supplies the key
// (RFC 6455 wants it unpredictable per frame), which keeps this pure. Refuses nothing: a caller
// that frames a control payload over 125 bytes or a fragmented control frame gets what it asked.
[[nodiscard]] Bytes encode_client_frame(Opcode opcode, ByteView payload, const MaskKey& mask, bool fin = true);
// The answer to a ping: a pong with the ping's payload (5.5.3).
[[nodiscard]] Bytes encode_pong(ByteView ping_payload, const MaskKey& mask);
// A close frame with `code` and a UTF-8 `reason` (cut to fit 125 bytes), for a clean goodbye.
[[nodiscard]] Bytes encode_close(std::uint16_t code, std::string_view reason, const MaskKey& mask);

// What is wrong with a server's bytes. parse_server_frame reports the first group; MessageReader
// adds the second, which need the state of the message stream.
enum class FrameError {
  masked_by_server,   // the mask bit set: a server must not mask (5.1)
  reserved_bits,      // RSV1-3 set, and no extension was negotiated
  bad_opcode,         // 0x3-0x7 or 0xB-0xF
  control_too_long,   // a close/ping/pong payload over 125 bytes
  fragmented_control, // a control frame without FIN
  too_large,          // an announced length over the caller's limit (decided from the header)
  bad_length,         // a length not in its shortest encoding, or a 64-bit one with the top bit set
  // MessageReader only:
  unexpected_continuation, // a continuation frame with no message begun
  expected_continuation,   // a new text/binary frame while a fragmented message is open
  bad_close,               // a close payload of 1 byte, a code that may not be sent, a non-UTF-8 reason
  bad_utf8,                // a text message that is not UTF-8 (8.1)
  after_close,             // bytes after the server's close frame
};

[[nodiscard]] std::string_view to_string(FrameError error);

struct Frame {
  bool fin = true;
  Opcode opcode = Opcode::binary;
  Bytes payload;            // unmasked (a server frame is never masked)
  std::size_t consumed = 0; // header + payload bytes
};

// Parse the server frame at the start of `bytes`. Errors come from the first byte(s) that show
// them: a bad opcode or reserved bit from byte 0, a mask bit or a long control length from byte 1,
// a payload length over `max_payload` from the length field, all before the payload arrives.
[[nodiscard]] Partial<Frame, FrameError> parse_server_frame(ByteView bytes, std::size_t max_payload);

// A whole data message (its fragments joined).
struct Message {
  Opcode opcode = Opcode::binary; // text or binary
  Bytes payload;
};
// The server's close frame. `code` is nullopt for an empty close payload (1005, "no status").
struct Close {
  std::optional<std::uint16_t> code;
  std::string reason;
};
struct Ping {
  Bytes payload; // answer with encode_pong(payload, ...)
};
struct Pong {
  Bytes payload;
};
using Event = std::variant<Message, Close, Ping, Pong>;

// Reads a server's frame stream: feed() what arrived, then call next() until it gives nullopt.
// Fragmented messages are joined up to `max_message` bytes (a longer one fails as too_large as
// soon as a frame header shows it); control frames may come between fragments (5.4) and are
// reported when they arrive. Errors are sticky: once next() failed, it fails the same way again,
// since the stream cannot be resynchronised. After a Close, any further byte is after_close.
class MessageReader {
public:
  explicit MessageReader(std::size_t max_message) : max_message_(max_message) {}

  void feed(ByteView bytes);
  [[nodiscard]] Partial<Event, FrameError> next();
  // Bytes received and not yet consumed by a frame.
  [[nodiscard]] std::size_t buffered() const { return buffer_.size() - start_; }
  [[nodiscard]] bool closed() const { return closed_; }

private:
  [[nodiscard]] Partial<Frame, FrameError> next_frame() const;
  [[nodiscard]] Partial<Event, FrameError> take(Frame frame);
  [[nodiscard]] Partial<Event, FrameError> take_data(Frame frame);
  [[nodiscard]] Partial<Event, FrameError> fail(FrameError error);

  std::size_t max_message_;
  Bytes buffer_;
  std::size_t start_ = 0;          // first unconsumed byte of buffer_
  std::optional<Message> partial_; // an open fragmented message
  std::optional<FrameError> error_;
  bool closed_ = false;
};

// Whether `bytes` are well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
[[nodiscard]] bool is_utf8(ByteView bytes);

} // namespace coder_dns_doctor::ws
