#include <coder_dns_doctor/ws/frame.hpp>
#include <coder_dns_doctor/ws/handshake.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

using namespace coder_dns_doctor::ws;

namespace {

// RFC 6455 1.3 and 4.2.2: the sample nonce, its key and the server's accept value.
constexpr std::string_view k_sample_key = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view k_sample_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
constexpr MaskKey k_rfc_mask{0x37, 0xfa, 0x21, 0x3d};

const Bytes k_hello_unmasked{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
const Bytes k_hello_masked{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};

Bytes bytes_of(std::string_view text) {
  return {text.begin(), text.end()};
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts)
    out.insert(out.end(), part.begin(), part.end());
  return out;
}

// An unmasked server frame, length field as given (the tests pick non-minimal ones on purpose).
Bytes server_frame(std::uint8_t b0, const Bytes& length_field, const Bytes& payload) {
  return concat({Bytes(1, b0), length_field, payload});
}

std::string response_text(std::string_view status_line, std::string_view fields) {
  return std::string(status_line) + "\r\n" + std::string(fields) + "\r\n";
}

Response parse_ok(std::string_view text) {
  auto parsed = parse_upgrade_response(as_bytes(text));
  REQUIRE_MESSAGE(parsed, "does not parse: " << parsed.error().detail);
  REQUIRE(parsed->has_value());
  return **parsed;
}

std::string good_101(std::string_view extra = "") {
  return response_text("HTTP/1.1 101 Switching Protocols",
                       "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
                           std::string(k_sample_accept) + "\r\n" + std::string(extra));
}

FrameError frame_error(const Bytes& bytes, std::size_t max_payload = 1 << 20) {
  auto parsed = parse_server_frame(bytes, max_payload);
  REQUIRE_FALSE(parsed);
  return parsed.error();
}

Frame frame_ok(const Bytes& bytes, std::size_t max_payload = 1 << 20) {
  auto parsed = parse_server_frame(bytes, max_payload);
  REQUIRE(parsed);
  REQUIRE(parsed->has_value());
  return **parsed;
}

// Every event the reader gives for `stream`, fed one byte at a time; the reader must say
// incomplete (never an error, never an event early) until each frame's last byte.
std::vector<Event> read_bytewise(const Bytes& stream, std::size_t max_message = 1 << 20) {
  MessageReader reader(max_message);
  std::vector<Event> events;
  for (std::uint8_t byte : stream) {
    reader.feed(ByteView(&byte, 1));
    while (true) {
      auto event = reader.next();
      REQUIRE_MESSAGE(event, "error " << to_string(event.error()));
      if (!*event)
        break;
      events.push_back(std::move(**event));
    }
  }
  CHECK(reader.buffered() == 0);
  return events;
}

void check_message(const Event& event, Opcode opcode, const Bytes& payload) {
  auto* message = std::get_if<Message>(&event);
  REQUIRE(message);
  CHECK(message->opcode == opcode);
  CHECK(message->payload == payload);
}

FrameError reader_error(const Bytes& stream, std::size_t max_message = 1 << 20) {
  MessageReader reader(max_message);
  reader.feed(stream);
  while (true) {
    auto event = reader.next();
    if (!event)
      return event.error();
    REQUIRE_MESSAGE(event->has_value(), "the stream ended without an error");
  }
}

} // namespace

TEST_SUITE("ws::handshake") {
  TEST_CASE("RFC 6455 1.3: the sample key and its accept value") {
    std::array<std::uint8_t, 16> nonce{};
    std::string_view sample = "the sample nonce";
    std::copy(sample.begin(), sample.end(), nonce.begin());
    CHECK(make_client_key(nonce) == k_sample_key);
    CHECK(expected_accept(k_sample_key) == k_sample_accept);
    CHECK(make_client_key(std::array<std::uint8_t, 16>{}) == "AAAAAAAAAAAAAAAAAAAAAA==");
    CHECK(expected_accept("x3JJHMbDL1EzLkh9GBhXDw==") == "HSmrc0sMlYUkAGmm5OPpG2HaGWk="); // RFC 6455 1.2
  }

  TEST_CASE("the upgrade request: fields in order, subprotocol and extra headers") {
    auto request = build_upgrade_request("coder.example.test:8443", "/derp", k_sample_key, "derp",
                                         {{"Coder-Session-Token", "abc"}});
    REQUIRE(request);
    CHECK(*request == "GET /derp HTTP/1.1\r\nHost: coder.example.test:8443\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: derp\r\n"
                      "Coder-Session-Token: abc\r\n\r\n");
    auto plain = build_upgrade_request("[::1]", "/api/v2/derp-map", k_sample_key);
    REQUIRE(plain);
    CHECK(plain->find("Sec-WebSocket-Protocol") == std::string::npos);
    CHECK(plain->starts_with("GET /api/v2/derp-map HTTP/1.1\r\nHost: [::1]\r\n"));
    CHECK(plain->ends_with("Sec-WebSocket-Version: 13\r\n\r\n"));
  }

  TEST_CASE("the DERP upgrade request") {
    auto request = build_derp_upgrade_request("coder.example.test", "/derp");
    REQUIRE(request);
    CHECK(*request == "GET /derp HTTP/1.1\r\nHost: coder.example.test\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n\r\n");
  }

  TEST_CASE("requests refuse fields that could smuggle headers") {
    CHECK_FALSE(build_upgrade_request("", "/", k_sample_key));
    CHECK_FALSE(build_upgrade_request("a b", "/", k_sample_key));
    CHECK_FALSE(build_upgrade_request("h\r\nX: y", "/", k_sample_key));
    CHECK_FALSE(build_upgrade_request("h", "derp", k_sample_key));
    CHECK_FALSE(build_upgrade_request("h", "/a b", k_sample_key));
    CHECK_FALSE(build_upgrade_request("h", "/", "k\r\nX: y"));
    CHECK_FALSE(build_upgrade_request("h", "/", k_sample_key, "derp\n"));
    CHECK_FALSE(build_upgrade_request("h", "/", k_sample_key, std::nullopt, {{"Bad Name", "v"}}));
    CHECK_FALSE(build_upgrade_request("h", "/", k_sample_key, std::nullopt, {{"", "v"}}));
    CHECK_FALSE(build_upgrade_request("h", "/", k_sample_key, std::nullopt, {{"X", std::string("a\0b", 3)}}));
    CHECK_FALSE(build_derp_upgrade_request("h", "/derp", {{"X", "1\r\n"}}));
    CHECK(build_upgrade_request("h", "/", k_sample_key, std::nullopt, {{"X-Ok_1.~", "any value: 1, 2"}}));
  }

  TEST_CASE("parses a response head and keeps what follows it") {
    std::string text = good_101("X-Many:  a, b \r\nx-many: c\r\n") + "\x81\x05Hello";
    auto response = parse_ok(text);
    CHECK(response.status == 101);
    CHECK(response.reason == "Switching Protocols");
    CHECK(response.consumed == text.size() - 7);
    CHECK(response.headers.size() == 5);
    CHECK(response.header("UPGRADE") == "websocket");
    CHECK(response.header("x-many") == "a, b"); // the first of two, trimmed
    CHECK_FALSE(response.header("missing"));
    CHECK(response.has_token("X-MANY", "B"));
    CHECK(response.has_token("x-many", "c")); // the second field counts too
    CHECK_FALSE(response.has_token("x-many", "d"));
    CHECK(parse_ok("HTTP/1.0 426\r\n\r\n").status == 426);
    CHECK(parse_ok("HTTP/1.1 400 \r\n\r\n").reason.empty());
  }

  TEST_CASE("a head is incomplete at every split point before its blank line") {
    std::string text = good_101();
    for (std::size_t n = 0; n < text.size(); ++n) {
      CAPTURE(n);
      auto parsed = parse_upgrade_response(as_bytes(std::string_view(text).substr(0, n)));
      REQUIRE(parsed);
      CHECK_FALSE(parsed->has_value());
    }
    CHECK(parse_ok(text).consumed == text.size());
  }

  TEST_CASE("malformed heads") {
    using Kind = ResponseError::Kind;
    auto kind_of = [](std::string_view text) {
      auto parsed = parse_upgrade_response(as_bytes(text));
      REQUIRE_FALSE(parsed);
      CHECK_FALSE(parsed.error().detail.empty());
      return parsed.error().kind;
    };
    // A TLS alert and an SSH banner fail on their first bytes, long before the size limit.
    for (std::string_view bad :
         {"\x15\x03\x03", "SSH-2.0-OpenSSH", "HTTP/2 101\r\n\r\n", "HTTP/1.1 1x1 OK\r\n\r\n", "HTTP/1.1 10\r\n\r\n",
          "HTTP/1.1 1011\r\n\r\n", "HTTP/1.1  101\r\n\r\n", "HTTP/1.1 101 A\nB\r\n\r\n"}) {
      CAPTURE(bad);
      CHECK(kind_of(bad) == Kind::bad_status_line);
    }
    for (std::string_view bad :
         {"No-Colon", ": empty name", "Space Before : x", "A: 1\r\n folded", "A: 1\nB: 2", "Bad\"Name: x"}) {
      CAPTURE(bad);
      CHECK(kind_of("HTTP/1.1 101 OK\r\n" + std::string(bad) + "\r\n\r\n") == Kind::bad_header);
    }
  }

  TEST_CASE("the head size limit") {
    std::string text = good_101();
    CHECK(parse_upgrade_response(as_bytes(text), text.size()));
    auto over = parse_upgrade_response(as_bytes(text), text.size() - 1);
    REQUIRE_FALSE(over);
    CHECK(over.error().kind == ResponseError::Kind::too_large);
    // An endless head fails once the limit is reached, not before.
    std::string endless = "HTTP/1.1 101 OK\r\n" + std::string(100, 'a');
    auto short_of = parse_upgrade_response(as_bytes(endless), endless.size() + 1);
    REQUIRE(short_of);
    CHECK_FALSE(short_of->has_value());
    auto at = parse_upgrade_response(as_bytes(endless), endless.size());
    REQUIRE_FALSE(at);
    CHECK(at.error().kind == ResponseError::Kind::too_large);
  }

  TEST_CASE("check_upgrade: ok, and each way a response fails") {
    auto check = [](std::string_view text, std::optional<std::string_view> subprotocol = std::nullopt) {
      return check_upgrade(parse_ok(text), k_sample_key, subprotocol);
    };
    auto ok = check(good_101());
    CHECK(ok.status == UpgradeStatus::ok);
    CHECK(ok.http_status == 101);
    CHECK(ok.detail.empty());
    CHECK(check(good_101("Sec-WebSocket-Protocol: derp\r\n"), "derp").status == UpgradeStatus::ok);
    CHECK(check(response_text("HTTP/1.1 101 x", "upgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n"
                                                "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
              .status == UpgradeStatus::ok);

    auto refused = check(response_text("HTTP/1.1 426 Upgrade Required", "Content-Type: text/plain\r\n"));
    CHECK(refused.status == UpgradeStatus::not_upgraded);
    CHECK(refused.http_status == 426);
    CHECK(refused.detail.find("426") != std::string::npos);
    CHECK(check(response_text("HTTP/1.1 101 x",
                              "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
              .status == UpgradeStatus::wrong_upgrade);
    CHECK(check(response_text("HTTP/1.1 101 x", "Upgrade: DERP\r\nConnection: Upgrade\r\n")).status ==
          UpgradeStatus::wrong_upgrade);
    CHECK(check(response_text("HTTP/1.1 101 x",
                              "Upgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
              .status == UpgradeStatus::missing_connection);
    CHECK(check(response_text("HTTP/1.1 101 x", "Upgrade: websocket\r\nConnection: Upgrade\r\n")).status ==
          UpgradeStatus::missing_accept);
    auto wrong = check(response_text("HTTP/1.1 101 x", "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                                       "Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n"));
    CHECK(wrong.status == UpgradeStatus::wrong_accept);
    CHECK(wrong.detail.find(k_sample_accept) != std::string::npos);
    CHECK(check(good_101(), "derp").status == UpgradeStatus::wrong_protocol);
    CHECK(check(good_101("Sec-WebSocket-Protocol: chat\r\n"), "derp").status == UpgradeStatus::wrong_protocol);
    CHECK(check(good_101("Sec-WebSocket-Protocol: derp\r\n")).status == UpgradeStatus::wrong_protocol);
    CHECK(check(good_101("Sec-WebSocket-Extensions: permessage-deflate\r\n")).status ==
          UpgradeStatus::unexpected_extension);
  }

  TEST_CASE("check_derp_upgrade: coderd's 101, and what is not one") {
    auto coderd = parse_ok(
        response_text("HTTP/1.1 101 Switching Protocols", "Upgrade: DERP\r\nConnection: Upgrade\r\nDerp-Version: 2\r\n"
                                                          "Derp-Public-Key: " +
                                                              std::string(64, 'a') + "\r\n"));
    CHECK(check_derp_upgrade(coderd).status == UpgradeStatus::ok);
    CHECK(coderd.header("derp-public-key") == std::string(64, 'a'));
    auto refused = check_derp_upgrade(parse_ok(response_text("HTTP/1.1 426 Upgrade Required", "")));
    CHECK(refused.status == UpgradeStatus::not_upgraded);
    CHECK(refused.http_status == 426);
    CHECK(check_derp_upgrade(parse_ok(good_101())).status == UpgradeStatus::wrong_upgrade);
    CHECK(check_derp_upgrade(parse_ok(response_text("HTTP/1.1 101 x", "Upgrade: DERP\r\n"))).status ==
          UpgradeStatus::missing_connection);
  }

  TEST_CASE("status names") {
    CHECK(to_string(UpgradeStatus::ok) == "ok");
    CHECK(to_string(UpgradeStatus::not_upgraded) == "not_upgraded");
    CHECK(to_string(UpgradeStatus::wrong_accept) == "wrong_accept");
    CHECK(to_string(UpgradeStatus::unexpected_extension) == "unexpected_extension");
  }
}

TEST_SUITE("ws::frame") {
  TEST_CASE("RFC 6455 5.7: client frames are the masked examples") {
    CHECK(encode_client_frame(Opcode::text, bytes_of("Hello"), k_rfc_mask) == k_hello_masked);
    CHECK(encode_pong(bytes_of("Hello"), k_rfc_mask) ==
          Bytes{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
    auto first = encode_client_frame(Opcode::text, bytes_of("Hel"), {0, 0, 0, 0}, false);
    CHECK(first == Bytes{0x01, 0x83, 0, 0, 0, 0, 0x48, 0x65, 0x6c});
    CHECK(encode_client_frame(Opcode::continuation, {}, {1, 2, 3, 4}) == Bytes{0x80, 0x80, 1, 2, 3, 4});
  }

  TEST_CASE("client length encodings: 7, 16 and 64 bits, at their edges") {
    MaskKey zero{0, 0, 0, 0};
    auto head = [&](std::size_t size) {
      Bytes frame = encode_client_frame(Opcode::binary, Bytes(size, 0xAB), zero);
      CHECK(frame.back() == 0xAB);
      return Bytes(frame.begin(), frame.end() - static_cast<std::ptrdiff_t>(size));
    };
    CHECK(head(125) == Bytes{0x82, 0xFD, 0, 0, 0, 0});
    CHECK(head(126) == Bytes{0x82, 0xFE, 0x00, 0x7E, 0, 0, 0, 0});
    CHECK(head(256) == Bytes{0x82, 0xFE, 0x01, 0x00, 0, 0, 0, 0});
    CHECK(head(65535) == Bytes{0x82, 0xFE, 0xFF, 0xFF, 0, 0, 0, 0});
    CHECK(head(65536) == Bytes{0x82, 0xFF, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00, 0, 0, 0, 0});
  }

  TEST_CASE("encode_close: code, reason, cut to 125 bytes on a character boundary") {
    MaskKey zero{0, 0, 0, 0};
    CHECK(encode_close(1000, "bye", zero) == Bytes{0x88, 0x85, 0, 0, 0, 0, 0x03, 0xE8, 'b', 'y', 'e'});
    std::string long_reason(122, 'x');
    long_reason += "\xC3\xA9"; // é straddles byte 123/124 of the reason: dropped whole
    Bytes frame = encode_close(1001, long_reason, zero);
    CHECK(frame[1] == (0x80 | 124)); // 2 code bytes + 122 'x'
    CHECK(frame.back() == 'x');
  }

  TEST_CASE("RFC 6455 5.7: the server's unmasked examples") {
    Frame hello = frame_ok(k_hello_unmasked);
    CHECK(hello.fin);
    CHECK(hello.opcode == Opcode::text);
    CHECK(hello.payload == bytes_of("Hello"));
    CHECK(hello.consumed == 7);

    Bytes fragments{0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f};
    Frame hel = frame_ok(fragments);
    CHECK_FALSE(hel.fin);
    CHECK(hel.opcode == Opcode::text);
    CHECK(hel.payload == bytes_of("Hel"));
    CHECK(hel.consumed == 5);
    Frame lo = frame_ok(Bytes(fragments.begin() + 5, fragments.end()));
    CHECK(lo.fin);
    CHECK(lo.opcode == Opcode::continuation);
    CHECK(lo.payload == bytes_of("lo"));

    Frame ping = frame_ok({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
    CHECK(ping.opcode == Opcode::ping);
    CHECK(ping.payload == bytes_of("Hello"));
  }

  TEST_CASE("RFC 6455 5.7: 256 bytes and 64 KiB of binary") {
    Bytes small(256, 0x5A);
    Frame f256 = frame_ok(server_frame(0x82, {0x7E, 0x01, 0x00}, small));
    CHECK(f256.opcode == Opcode::binary);
    CHECK(f256.payload == small);
    CHECK(f256.consumed == 4 + 256);
    Bytes big(65536, 0xA5);
    Frame f64k = frame_ok(server_frame(0x82, {0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}, big));
    CHECK(f64k.payload == big);
    CHECK(f64k.consumed == 10 + 65536);
  }

  TEST_CASE("a frame is incomplete at every split point") {
    const Bytes f256 = server_frame(0x82, {0x7E, 0x01, 0x00}, Bytes(256, 1));
    Bytes f64k = server_frame(0x82, {0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}, Bytes(65536, 2));
    for (const Bytes* whole : {&k_hello_unmasked, &f256}) {
      for (std::size_t n = 0; n < whole->size(); ++n) {
        CAPTURE(n);
        auto parsed = parse_server_frame(ByteView(*whole).first(n), 1 << 20);
        REQUIRE(parsed);
        CHECK_FALSE(parsed->has_value());
      }
    }
    for (std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{9}, std::size_t{10}, f64k.size() - 1}) {
      CAPTURE(n);
      auto parsed = parse_server_frame(ByteView(f64k).first(n), 1 << 20);
      REQUIRE(parsed);
      CHECK_FALSE(parsed->has_value());
    }
  }

  TEST_CASE("every error kind of one frame, from the earliest byte that shows it") {
    CHECK(frame_error({0xC1}) == FrameError::reserved_bits); // RSV1 on byte 0 alone
    CHECK(frame_error({0xA1, 0x00}) == FrameError::reserved_bits);
    CHECK(frame_error({0x91, 0x00}) == FrameError::reserved_bits);
    CHECK(frame_error({0x83}) == FrameError::bad_opcode);
    CHECK(frame_error({0x87, 0x00}) == FrameError::bad_opcode);
    CHECK(frame_error({0x8B, 0x00}) == FrameError::bad_opcode);
    CHECK(frame_error({0x8F}) == FrameError::bad_opcode);
    CHECK(frame_error({0x09}) == FrameError::fragmented_control);
    CHECK(frame_error({0x08, 0x00}) == FrameError::fragmented_control);
    CHECK(frame_error({0x81, 0x85}) == FrameError::masked_by_server); // before the key arrives
    CHECK(frame_error({0x89, 0x7E}) == FrameError::control_too_long);
    CHECK(frame_error({0x8A, 0x7E}) == FrameError::control_too_long);
    CHECK(frame_error({0x88, 0x7F}) == FrameError::control_too_long);
    CHECK(frame_ok(server_frame(0x89, {0x7D}, Bytes(125, 0))).payload.size() == 125); // the edge is fine
    // too_large from the length field alone, before any payload byte.
    CHECK(frame_error({0x82, 0x7E, 0x01, 0x00}, 255) == FrameError::too_large);
    CHECK(frame_error({0x82, 0x0A}, 9) == FrameError::too_large);
    CHECK(frame_error({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}, 65535) == FrameError::too_large);
    CHECK(frame_ok(server_frame(0x82, {0x0A}, Bytes(10, 0)), 10).payload.size() == 10);
    // Lengths that are not the shortest encoding, and the 64-bit top bit.
    CHECK(frame_error({0x82, 0x7E, 0x00, 0x7D}) == FrameError::bad_length);
    CHECK(frame_error({0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}) == FrameError::bad_length);
    CHECK(frame_error({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}) == FrameError::bad_length);
    CHECK(frame_ok(server_frame(0x82, {0x7E, 0x00, 0x7E}, Bytes(126, 0))).consumed == 130);
  }

  TEST_CASE("error names") {
    CHECK(to_string(FrameError::masked_by_server) == "masked_by_server");
    CHECK(to_string(FrameError::too_large) == "too_large");
    CHECK(to_string(FrameError::after_close) == "after_close");
  }

  TEST_CASE("is_utf8") {
    CHECK(is_utf8(bytes_of("")));
    CHECK(is_utf8(bytes_of("plain ascii")));
    CHECK(is_utf8(bytes_of("\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x91 \xF4\x8F\xBF\xBF")));
    CHECK_FALSE(is_utf8(bytes_of("\xC3")));             // cut short
    CHECK_FALSE(is_utf8(bytes_of("\xC0\xAF")));         // overlong
    CHECK_FALSE(is_utf8(bytes_of("\xE0\x80\xAF")));     // overlong
    CHECK_FALSE(is_utf8(bytes_of("\xED\xA0\x80")));     // a surrogate
    CHECK_FALSE(is_utf8(bytes_of("\xF4\x90\x80\x80"))); // over U+10FFFF
    CHECK_FALSE(is_utf8(bytes_of("\xE2\x82\x41")));     // a bad continuation byte
    CHECK_FALSE(is_utf8(bytes_of("\x80")));
  }
}

TEST_SUITE("ws::MessageReader") {
  TEST_CASE("reads a whole stream byte by byte: messages, fragments, control frames between them") {
    Bytes stream = concat({k_hello_unmasked,
                           {0x01, 0x03, 0x48, 0x65, 0x6c}, // "Hel", not final
                           {0x89, 0x02, 'h', 'i'},         // a ping between the fragments
                           {0x00, 0x01, 0x6c},             // "l", not final
                           {0x80, 0x01, 0x6f},             // "o", final
                           {0x8A, 0x00},                   // an empty pong
                           server_frame(0x82, {0x7E, 0x01, 0x00}, Bytes(256, 7)),
                           {0x88, 0x05, 0x03, 0xE8, 'b', 'y', 'e'}});
    auto events = read_bytewise(stream);
    REQUIRE(events.size() == 6);
    check_message(events[0], Opcode::text, bytes_of("Hello"));
    auto* ping = std::get_if<Ping>(&events[1]);
    REQUIRE(ping);
    CHECK(ping->payload == bytes_of("hi"));
    check_message(events[2], Opcode::text, bytes_of("Hello")); // "Hel" + "l" + "o", the ping between
    auto* pong = std::get_if<Pong>(&events[3]);
    REQUIRE(pong);
    CHECK(pong->payload.empty());
    check_message(events[4], Opcode::binary, Bytes(256, 7));
    auto* close = std::get_if<Close>(&events[5]);
    REQUIRE(close);
    CHECK(close->code == 1000);
    CHECK(close->reason == "bye");
  }

  TEST_CASE("frames fed at once come out one next() at a time; fragments do not stop the loop") {
    MessageReader reader(1024);
    reader.feed(concat({{0x02, 0x01, 'a'}, {0x00, 0x01, 'b'}, {0x80, 0x01, 'c'}, {0x88, 0x00}}));
    auto first = reader.next();
    REQUIRE(first);
    REQUIRE(first->has_value());
    auto* message = std::get_if<Message>(&**first);
    REQUIRE(message);
    CHECK(message->payload == bytes_of("abc"));
    CHECK(reader.buffered() == 2);
    CHECK_FALSE(reader.closed());
    auto second = reader.next();
    REQUIRE(second);
    REQUIRE(second->has_value());
    auto* close = std::get_if<Close>(&**second);
    REQUIRE(close);
    CHECK_FALSE(close->code); // an empty close payload: no status code
    CHECK(reader.closed());
    auto after = reader.next();
    REQUIRE(after);
    CHECK_FALSE(after->has_value());
  }

  TEST_CASE("the message limit covers the joined fragments, not control frames") {
    Bytes fits = concat({{0x02, 0x02, 1, 2}, {0x89, 0x03, 'p', 'n', 'g'}, {0x80, 0x02, 3, 4}});
    auto events = read_bytewise(fits, 4);
    REQUIRE(events.size() == 2);
    CHECK(std::holds_alternative<Ping>(events[0]));
    CHECK(std::get<Message>(events[1]).payload == Bytes{1, 2, 3, 4});
    CHECK(reader_error(concat({{0x02, 0x02, 1, 2}, {0x80, 0x03, 3, 4, 5}}), 4) == FrameError::too_large);
    CHECK(reader_error({0x82, 0x05}, 4) == FrameError::too_large); // from the header alone
  }

  TEST_CASE("every error kind of a stream, and errors stay") {
    CHECK(reader_error({0x80, 0x01, 'x'}) == FrameError::unexpected_continuation);
    CHECK(reader_error({0x01, 0x01, 'x', 0x81, 0x01, 'y'}) == FrameError::expected_continuation);
    CHECK(reader_error({0x88, 0x01, 0x03}) == FrameError::bad_close);             // 1-byte close
    CHECK(reader_error({0x88, 0x02, 0x03, 0xED}) == FrameError::bad_close);       // 1005 is local only
    CHECK(reader_error({0x88, 0x02, 0x03, 0xE7}) == FrameError::bad_close);       // 999
    CHECK(reader_error({0x88, 0x02, 0x13, 0x88}) == FrameError::bad_close);       // 5000
    CHECK(reader_error({0x88, 0x03, 0x03, 0xE8, 0xFF}) == FrameError::bad_close); // reason not UTF-8
    CHECK(reader_error({0x81, 0x02, 0xC3, 0x28}) == FrameError::bad_utf8);
    CHECK(reader_error({0x01, 0x01, 0xC3, 0x80, 0x01, 0x28}) == FrameError::bad_utf8); // split in fragments
    CHECK(reader_error({0x88, 0x00, 0x81, 0x00}) == FrameError::after_close);
    CHECK(reader_error({0x81, 0x81, 0, 0, 0, 0, 'x'}) == FrameError::masked_by_server);
    CHECK(reader_error({0x09, 0x00}) == FrameError::fragmented_control);

    MessageReader reader(64);
    reader.feed(Bytes{0x80, 0x00});
    auto first = reader.next();
    REQUIRE_FALSE(first);
    reader.feed(k_hello_unmasked); // a good frame later does not resynchronise a broken stream
    auto again = reader.next();
    REQUIRE_FALSE(again);
    CHECK(again.error() == FrameError::unexpected_continuation);
  }

  TEST_CASE("close codes the peer may send") {
    for (std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1011, 1014, 3000, 4999}) {
      CAPTURE(code);
      MessageReader reader(16);
      reader.feed(Bytes{0x88, 0x02, static_cast<std::uint8_t>(code >> 8), static_cast<std::uint8_t>(code)});
      auto event = reader.next();
      REQUIRE(event);
      REQUIRE(event->has_value());
      CHECK(std::get<Close>(**event).code == code);
    }
    for (std::uint16_t code : {0, 1004, 1006, 1015, 1016, 2999}) {
      CAPTURE(code);
      CHECK(reader_error({0x88, 0x02, static_cast<std::uint8_t>(code >> 8), static_cast<std::uint8_t>(code)}) ==
            FrameError::bad_close);
    }
  }

  TEST_CASE("a ping's payload comes back in the pong") {
    auto events = read_bytewise({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
    REQUIRE(events.size() == 1);
    CHECK(encode_pong(std::get<Ping>(events[0]).payload, k_rfc_mask) ==
          Bytes{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  }
}
