#include <coder_dns_doctor/ws/derp.hpp>
#include <coder_dns_doctor/ws/frame.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <variant>

using namespace coder_dns_doctor::ws;

namespace {

// What coderd's /derp writes first: type 0x01, length 40, "DERP🔑", a 32-byte key (0x00..0x1F).
Bytes server_key_frame() {
  Bytes frame{0x01, 0x00, 0x00, 0x00, 0x28};
  frame.insert(frame.end(), k_derp_magic.begin(), k_derp_magic.end());
  for (std::uint8_t i = 0; i < 32; ++i)
    frame.push_back(i);
  return frame;
}

constexpr std::string_view k_key_hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

DerpFrame parse_ok(const Bytes& bytes) {
  auto parsed = parse_derp_frame(bytes);
  REQUIRE(parsed);
  REQUIRE(parsed->has_value());
  return **parsed;
}

ServerKeyError key_error(const DerpFrame& frame) {
  auto key = is_server_key_frame(frame);
  REQUIRE_FALSE(key);
  return key.error();
}

} // namespace

TEST_SUITE("ws::derp") {
  TEST_CASE("the 45-byte server-key frame and its key") {
    Bytes bytes = server_key_frame();
    REQUIRE(bytes.size() == 45);
    DerpFrame frame = parse_ok(bytes);
    CHECK(frame.type == 0x01);
    CHECK(frame.payload.size() == 40);
    CHECK(frame.consumed == 45);
    auto key = is_server_key_frame(frame);
    REQUIRE(key);
    CHECK(*key == k_key_hex);
  }

  TEST_CASE("incomplete at every split point, byte by byte, and what follows is left alone") {
    Bytes stream = server_key_frame();
    stream.insert(stream.end(), {0x06, 0x00, 0x00, 0x00, 0x00}); // a keepalive after it
    for (std::size_t n = 0; n < 45; ++n) {
      CAPTURE(n);
      auto parsed = parse_derp_frame(ByteView(stream).first(n));
      REQUIRE(parsed);
      CHECK_FALSE(parsed->has_value());
    }
    CHECK(parse_ok(stream).consumed == 45);
    DerpFrame keepalive = parse_ok(Bytes(stream.begin() + 45, stream.end()));
    CHECK(keepalive.type == static_cast<std::uint8_t>(DerpFrameType::keep_alive));
    CHECK(keepalive.payload.empty());
    CHECK(keepalive.consumed == 5);
    CHECK(key_error(keepalive) == ServerKeyError::wrong_type);
  }

  TEST_CASE("broken server-key frames") {
    DerpFrame good = parse_ok(server_key_frame());

    DerpFrame other_type = good;
    other_type.type = 0x02;
    CHECK(key_error(other_type) == ServerKeyError::wrong_type);

    Bytes shorter = server_key_frame();
    shorter[4] = 0x27; // announces 39 bytes: a 31-byte key
    DerpFrame short_frame = parse_ok(shorter);
    CHECK(short_frame.consumed == 44);
    CHECK(key_error(short_frame) == ServerKeyError::wrong_length);

    Bytes longer = server_key_frame();
    longer[4] = 0x29;
    longer.push_back(0xFF);
    CHECK(key_error(parse_ok(longer)) == ServerKeyError::wrong_length);

    for (std::size_t i = 5; i < 13; ++i) {
      CAPTURE(i);
      Bytes bad = server_key_frame();
      bad[i] ^= 0x01; // any byte of the magic
      CHECK(key_error(parse_ok(bad)) == ServerKeyError::bad_magic);
    }
  }

  TEST_CASE("the size limit is decided from the 5-byte header") {
    auto too_large = parse_derp_frame(Bytes{0x04, 0x00, 0x01, 0x00, 0x01}, 65536);
    REQUIRE_FALSE(too_large);
    CHECK(too_large.error() == DerpError::too_large);
    auto huge = parse_derp_frame(Bytes{0x04, 0xFF, 0xFF, 0xFF, 0xFF});
    REQUIRE_FALSE(huge);
    CHECK(huge.error() == DerpError::too_large);
    auto edge = parse_derp_frame(Bytes{0x04, 0x00, 0x00, 0x00, 0x02, 'a'}, 2);
    REQUIRE(edge);
    CHECK_FALSE(edge->has_value()); // at the limit: fine, only incomplete
    CHECK(to_string(DerpError::too_large) == "too_large");
    CHECK(to_string(ServerKeyError::bad_magic) == "bad_magic");
    CHECK(to_string(ServerKeyError::wrong_length) == "wrong_length");
  }

  TEST_CASE("over a WebSocket: a DERP frame split across binary messages joins back") {
    // coderd's WebSocket form carries the DERP byte stream in binary messages, cut anywhere.
    Bytes derp = server_key_frame();
    Bytes ws{0x82, 0x03};
    ws.insert(ws.end(), derp.begin(), derp.begin() + 3);
    ws.push_back(0x82);
    ws.push_back(42);
    ws.insert(ws.end(), derp.begin() + 3, derp.end());
    MessageReader reader(1 << 16);
    reader.feed(ws);
    Bytes joined;
    while (true) {
      auto event = reader.next();
      REQUIRE(event);
      if (!*event)
        break;
      const auto& message = std::get<Message>(**event);
      joined.insert(joined.end(), message.payload.begin(), message.payload.end());
    }
    CHECK(joined == derp);
    auto key = is_server_key_frame(parse_ok(joined));
    REQUIRE(key);
    CHECK(*key == k_key_hex);
  }
}
