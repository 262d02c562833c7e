// libFuzzer target: whatever bytes a server (or anything posing as one) sends, the ws codec
// (ws/handshake.hpp, ws/frame.hpp, ws/derp.hpp) must not crash and must keep its promises:
//  - a parsed value never claims more bytes than it was given, nor a payload over the limit;
//  - a valid prefix is incomplete, never an error (so the caller may always wait for more), and an
//    error stays the same error when more bytes follow (it was decided from bytes already there);
//  - MessageReader gives the same events and the same error however the bytes are chunked.
#include <coder_dns_doctor/ws/derp.hpp>
#include <coder_dns_doctor/ws/frame.hpp>
#include <coder_dns_doctor/ws/handshake.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace ws = coder_dns_doctor::ws;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

void check(bool ok, const char* what) {
  if (!ok)
    fail(what);
}

// The frame at the start of `bytes`: its size claims, its strict prefix, a longer stream's error.
void check_frame(ws::ByteView bytes, std::size_t limit) {
  auto frame = ws::parse_server_frame(bytes, limit);
  if (frame && *frame) {
    const ws::Frame& f = **frame;
    check(f.consumed <= bytes.size(), "frame consumed more than it was given");
    check(f.payload.size() <= limit, "frame payload over the limit");
    std::size_t header = f.consumed - f.payload.size();
    check(header == 2 || header == 4 || header == 10, "frame header size");
    auto shorter = ws::parse_server_frame(bytes.first(f.consumed - 1), limit);
    check(shorter && !*shorter, "a strict prefix of a frame is not incomplete");
  }
  auto half = ws::parse_server_frame(bytes.first(bytes.size() / 2), limit);
  if (!half)
    check(!frame && frame.error() == half.error(), "an error changed when more bytes came");
}

// One record per event, to compare two runs of the reader.
std::string describe(const ws::Event& event) {
  std::string out(1, static_cast<char>('0' + event.index()));
  if (const auto* m = std::get_if<ws::Message>(&event))
    out.append(m->payload.begin(), m->payload.end());
  if (const auto* c = std::get_if<ws::Close>(&event))
    out += std::to_string(c->code.value_or(0)) + c->reason;
  return out;
}

// Feed `bytes` in chunks of `chunk` bytes, draining after each; the events and the final error.
std::pair<std::vector<std::string>, std::optional<ws::FrameError>> read_all(ws::ByteView bytes, std::size_t chunk,
                                                                            std::size_t limit) {
  ws::MessageReader reader(limit);
  std::vector<std::string> events;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    reader.feed(bytes.subspan(at, std::min(chunk, bytes.size() - at)));
    while (true) {
      auto event = reader.next();
      if (!event)
        return {events, event.error()};
      if (!*event)
        break;
      if (const auto* m = std::get_if<ws::Message>(&**event))
        check(m->payload.size() <= limit, "message over the limit");
      if (const auto* p = std::get_if<ws::Ping>(&**event))
        check(p->payload.size() <= ws::k_max_control_payload, "ping over 125 bytes");
      events.push_back(describe(**event));
    }
  }
  return {events, std::nullopt};
}

void check_response(ws::ByteView bytes, std::size_t limit) {
  auto response = ws::parse_upgrade_response(bytes, limit);
  if (!response || !*response)
    return;
  const ws::Response& r = **response;
  check(r.consumed <= bytes.size() && r.consumed <= limit, "head consumed too much");
  check(r.status >= 0 && r.status <= 999, "status code out of range");
  auto again = ws::parse_upgrade_response(bytes.first(r.consumed), limit);
  check(again && *again && (*again)->consumed == r.consumed, "the head alone parses differently");
  auto websocket = ws::check_upgrade(r, "dGhlIHNhbXBsZSBub25jZQ==", "derp");
  check(websocket.http_status == r.status, "check lost the status code");
  check((websocket.status == ws::UpgradeStatus::ok) == websocket.detail.empty(), "detail without failure");
  auto derp = ws::check_derp_upgrade(r);
  check(derp.status != ws::UpgradeStatus::ok || r.status == 101, "a DERP upgrade without 101");
}

void check_derp(ws::ByteView bytes, std::size_t limit) {
  auto frame = ws::parse_derp_frame(bytes, limit);
  if (!frame || !*frame)
    return;
  const ws::DerpFrame& f = **frame;
  check(f.consumed == 5 + f.payload.size() && f.consumed <= bytes.size(), "DERP frame size");
  check(f.payload.size() <= limit, "DERP payload over the limit");
  auto key = ws::is_server_key_frame(f);
  check(!key || (key->size() == 64 && f.consumed == 45), "a server key that is not 64 hex digits");
}

} // namespace

// Input: one control byte (bits 0-3: the chunk size for the reader, 1-16; bits 4-7: the limit, a
// power of two from 1 to 32 Ki), then the server's bytes.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  std::size_t chunk = (data[0] & 0x0F) + 1;
  std::size_t limit = std::size_t{1} << (data[0] >> 4);
  // A copy of exactly the input, so the sanitizer sees any read past its end.
  std::vector<std::uint8_t> copy(data + 1, data + size);
  ws::ByteView bytes(copy);

  check_frame(bytes, limit);
  auto whole = read_all(bytes, bytes.size() + 1, limit);
  auto chunked = read_all(bytes, chunk, limit);
  check(whole == chunked, "chunking changed the reader's events");
  check_response(bytes, 64 * limit);
  check_derp(bytes, limit);
  return 0;
}
