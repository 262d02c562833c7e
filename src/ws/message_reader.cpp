// MessageReader: a server's frame stream -> messages and control events (RFC 6455 5.4, 5.5).
#include <coder_dns_doctor/ws/frame.hpp>

#include <algorithm>

namespace coder_dns_doctor::ws {

namespace {

// Close codes a peer may put on the wire (7.4.1, 7.4.2): 1004-1006 and 1015 are reserved for
// local use, 1016-2999 unassigned; 3000-4999 belong to libraries and applications.
bool is_sendable_close_code(std::uint16_t code) {
  if (code >= 3000 && code <= 4999)
    return true;
  return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
}

std::expected<Close, FrameError> read_close(const Bytes& payload) {
  if (payload.empty())
    return Close{};
  if (payload.size() == 1)
    return std::unexpected(FrameError::bad_close);
  auto code = static_cast<std::uint16_t>((payload[0] << 8) | payload[1]);
  ByteView reason = ByteView(payload).subspan(2);
  if (!is_sendable_close_code(code) || !is_utf8(reason))
    return std::unexpected(FrameError::bad_close);
  return Close{code, std::string(reason.begin(), reason.end())};
}

} // namespace

void MessageReader::feed(ByteView bytes) {
  // Drop what was consumed before growing, so the buffer holds at most one frame plus what
  // arrived after it.
  if (start_ > 0) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

Partial<Event, FrameError> MessageReader::fail(FrameError error) {
  error_ = error;
  return std::unexpected(error);
}

Partial<Frame, FrameError> MessageReader::next_frame() const {
  // A data frame may bring at most what is left of the message limit; control frames are capped
  // at 125 by the parser itself, so the limit does not starve a ping in a nearly full message.
  std::size_t used = partial_ ? partial_->payload.size() : 0;
  std::size_t room = max_message_ - std::min(used, max_message_);
  ByteView rest = ByteView(buffer_).subspan(start_);
  bool control = !rest.empty() && (rest[0] & 0x08) != 0;
  return parse_server_frame(rest, control ? k_max_control_payload : room);
}

Partial<Event, FrameError> MessageReader::next() {
  if (error_)
    return std::unexpected(*error_);
  if (closed_)
    return buffered() > 0 ? fail(FrameError::after_close) : Partial<Event, FrameError>(std::nullopt);
  while (true) {
    auto frame = next_frame();
    if (!frame)
      return fail(frame.error());
    if (!*frame)
      return std::optional<Event>();
    start_ += (*frame)->consumed;
    auto event = take(std::move(**frame));
    if (!event || *event)
      return event;
    // A non-final fragment was taken in: read on, the caller stops only when bytes run out.
  }
}

Partial<Event, FrameError> MessageReader::take(Frame frame) {
  switch (frame.opcode) {
  case Opcode::ping: return Event{Ping{std::move(frame.payload)}};
  case Opcode::pong: return Event{Pong{std::move(frame.payload)}};
  case Opcode::close: {
    auto close = read_close(frame.payload);
    if (!close)
      return fail(close.error());
    closed_ = true;
    return Event{std::move(*close)};
  }
  default: return take_data(std::move(frame));
  }
}

Partial<Event, FrameError> MessageReader::take_data(Frame frame) {
  bool continuation = frame.opcode == Opcode::continuation;
  if (continuation != partial_.has_value())
    return fail(continuation ? FrameError::unexpected_continuation : FrameError::expected_continuation);
  if (!partial_)
    partial_ = Message{frame.opcode, {}};
  partial_->payload.insert(partial_->payload.end(), frame.payload.begin(), frame.payload.end());
  if (!frame.fin)
    return std::optional<Event>(); // a fragment: nothing to report yet
  Message message = std::move(*partial_);
  partial_.reset();
  if (message.opcode == Opcode::text && !is_utf8(message.payload))
    return fail(FrameError::bad_utf8);
  return Event{std::move(message)};
}

} // namespace coder_dns_doctor::ws
