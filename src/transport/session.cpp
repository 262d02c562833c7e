#include <coder_dns_doctor/transport/session.hpp>

#include <coder_dns_doctor/ws/derp.hpp>
#include <coder_dns_doctor/ws/handshake.hpp>

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <variant>

namespace coder_dns_doctor::transport {
namespace {

constexpr std::size_t k_max_message = 1024 * 1024; // a DERP map of many regions still fits
constexpr std::size_t k_read_chunk = 16 * 1024;
constexpr std::size_t k_max_hint = 80; // bytes of a refusal's body quoted in the detail

template <std::size_t N> std::array<std::uint8_t, N> random_bytes() {
  std::array<std::uint8_t, N> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(N)) != 1) {
    // No entropy source: a fixed value still works against a server, masks only guard proxies' caches.
    bytes.fill(0x3c);
  }
  return bytes;
}

bool speaks_websocket(Check check) {
  return check == Check::derp_map_websocket || check == Check::derp_websocket;
}

std::optional<std::string_view> subprotocol_of(Check check) {
  if (check == Check::derp_websocket)
    return "derp";
  return std::nullopt;
}

// The first line of what followed a refusal's head (its body), printable ASCII only, for evidence.
std::string body_hint(ws::ByteView bytes) {
  std::string hint;
  for (std::uint8_t byte : bytes) {
    if (byte == '\r' || byte == '\n' || hint.size() >= k_max_hint)
      break;
    hint += (byte >= 0x20 && byte < 0x7f) ? static_cast<char>(byte) : '?';
  }
  return hint;
}

bool is_derp_map(ws::ByteView payload) {
  auto document = nlohmann::json::parse(payload.begin(), payload.end(), nullptr, false);
  return document.is_object() && document.contains("Regions") && document["Regions"].is_object();
}

std::string seconds_text(Clock::duration duration) {
  return fmt::format("{:.1f} s", std::chrono::duration<double>(duration).count());
}

} // namespace

Session::Session(SessionOptions options, std::unique_ptr<http::Stream> stream, Clock::time_point now)
    : m_options(std::move(options)), m_stream(std::move(stream)), m_started(now), m_reader(k_max_message) {
  std::expected<std::string, std::string> request;
  if (speaks_websocket(m_options.check)) {
    m_key = ws::make_client_key(random_bytes<16>());
    request = ws::build_upgrade_request(m_options.host_header, m_options.path, m_key, subprotocol_of(m_options.check));
  } else {
    request = ws::build_derp_upgrade_request(m_options.host_header, m_options.path);
  }
  if (!request) {
    finish(Status::error, request.error());
    return;
  }
  queue(ws::as_bytes(*request));
}

Session::~Session() = default;

int Session::socket() const {
  return m_stream ? m_stream->socket() : -1;
}

Clock::time_point Session::deadline() const {
  if (m_phase == Phase::holding)
    return m_options.hold == k_hold_forever ? Clock::time_point::max() : m_held_since + m_options.hold;
  return m_started + m_options.timeout;
}

bool Session::step(Clock::time_point now) {
  if (done())
    return true;
  if (flush() && pump(now) && !done() && now >= deadline()) {
    if (m_phase == Phase::holding) {
      finish(Status::ok, "");
    } else {
      finish(Status::timeout, m_phase == Phase::head ? "no response head within the timeout"
                                                     : "upgraded, but no first frame within the timeout");
    }
  }
  if (done())
    hang_up();
  return done();
}

void Session::queue(ws::ByteView bytes) {
  m_out.insert(m_out.end(), bytes.begin(), bytes.end());
}

// Send what is queued; false once the check is decided by a failure.
bool Session::flush() {
  while (m_stream && m_sent < m_out.size()) {
    auto sent = m_stream->send(ws::ByteView(m_out).subspan(m_sent));
    if (!sent) {
      finish(sent.error() == http::StreamError::closed ? Status::closed_early : Status::error,
             "the connection failed while sending");
      return false;
    }
    if (*sent == 0)
      break;
    m_sent += *sent;
  }
  if (m_sent == m_out.size()) {
    m_out.clear();
    m_sent = 0;
  }
  return !done();
}

// Read everything the socket has now (TLS may hold more than one poll shows); false once decided.
bool Session::pump(Clock::time_point now) {
  std::array<std::uint8_t, k_read_chunk> buffer{};
  while (m_stream && !done()) {
    auto got = m_stream->receive(buffer);
    if (!got) {
      if (got.error() == http::StreamError::closed)
        on_closed(now);
      else
        finish(Status::error, "the connection failed while reading");
      break;
    }
    if (*got == 0)
      break;
    on_bytes(ws::ByteView(buffer.data(), *got), now);
  }
  return !done();
}

void Session::on_bytes(ws::ByteView bytes, Clock::time_point now) {
  if (m_phase == Phase::head) {
    m_head.insert(m_head.end(), bytes.begin(), bytes.end());
    on_head(now);
    return;
  }
  if (speaks_websocket(m_options.check)) {
    m_reader.feed(bytes);
    on_websocket(now);
  } else {
    m_derp.insert(m_derp.end(), bytes.begin(), bytes.end());
    on_raw_derp(now);
  }
}

void Session::on_head(Clock::time_point now) {
  auto parsed = ws::parse_upgrade_response(m_head);
  if (!parsed) {
    finish(Status::bad_handshake, parsed.error().detail);
    return;
  }
  if (!*parsed)
    return; // more of the head to come
  const ws::Response& response = **parsed;
  m_status_code = response.status;
  if (auto version = response.header(k_build_version_header))
    m_version = std::string(*version);
  ws::UpgradeCheck check = m_options.check == Check::derp_upgrade
                               ? ws::check_derp_upgrade(response)
                               : ws::check_upgrade(response, m_key, subprotocol_of(m_options.check));
  ws::ByteView rest = ws::ByteView(m_head).subspan(response.consumed);
  if (check.status == ws::UpgradeStatus::not_upgraded) {
    std::string hint = body_hint(rest);
    finish(Status::not_upgraded, hint.empty() ? fmt::format("HTTP {} instead of 101", response.status)
                                              : fmt::format("HTTP {} instead of 101: {}", response.status, hint));
    return;
  }
  if (check.status != ws::UpgradeStatus::ok) {
    finish(Status::bad_handshake, check.detail);
    return;
  }
  m_phase = Phase::first;
  ws::Bytes leftover(rest.begin(), rest.end());
  m_head.clear();
  if (!leftover.empty())
    on_bytes(leftover, now);
}

void Session::on_websocket(Clock::time_point now) {
  while (!done()) {
    auto event = m_reader.next();
    if (!event) {
      finish(Status::bad_frame, fmt::format("WebSocket: {}", ws::to_string(event.error())));
      return;
    }
    if (!*event)
      return;
    if (const auto* ping = std::get_if<ws::Ping>(&**event)) {
      queue(ws::encode_pong(ping->payload, random_bytes<4>()));
    } else if (const auto* close = std::get_if<ws::Close>(&**event)) {
      std::string code = close->code ? std::to_string(*close->code) : "none";
      m_stream.reset();
      finish(Status::closed_early, fmt::format("the server closed the WebSocket (code {}){}", code,
                                               m_phase == Phase::holding ? " after " + seconds_text(now - m_held_since)
                                                                         : std::string(" before its first message")));
    } else if (const auto* message = std::get_if<ws::Message>(&**event)) {
      if (m_options.check == Check::derp_websocket) {
        m_derp.insert(m_derp.end(), message->payload.begin(), message->payload.end());
        on_raw_derp(now);
      } else if (m_phase == Phase::first) {
        if (is_derp_map(message->payload))
          first_frame_ok(now);
        else
          finish(Status::bad_frame, "the first message is not a DERP map (JSON with Regions)");
      }
    }
  }
}

void Session::on_raw_derp(Clock::time_point now) {
  while (!done()) {
    auto frame = ws::parse_derp_frame(m_derp);
    if (!frame) {
      finish(Status::bad_frame, fmt::format("DERP: {}", ws::to_string(frame.error())));
      return;
    }
    if (!*frame)
      return;
    m_derp.erase(m_derp.begin(), m_derp.begin() + static_cast<std::ptrdiff_t>((*frame)->consumed));
    if (m_phase != Phase::first)
      continue; // keepalives and anything else while held
    if (auto key = ws::is_server_key_frame(**frame); key) {
      first_frame_ok(now);
    } else {
      finish(Status::bad_frame, fmt::format("the first DERP frame (type 0x{:02x}) is not the server key: {}",
                                            (*frame)->type, ws::to_string(key.error())));
    }
  }
}

void Session::first_frame_ok(Clock::time_point now) {
  if (m_options.hold.count() == 0) {
    finish(Status::ok, "");
    return;
  }
  m_phase = Phase::holding;
  m_held_since = now;
}

void Session::on_closed(Clock::time_point now) {
  m_stream.reset();
  switch (m_phase) {
  case Phase::head: finish(Status::closed_early, "closed before the response head"); break;
  case Phase::first: finish(Status::closed_early, "closed after the upgrade, before the first frame"); break;
  case Phase::holding:
    finish(Status::closed_early, m_options.hold == k_hold_forever
                                     ? fmt::format("closed after {} held", seconds_text(now - m_held_since))
                                     : fmt::format("closed after {} of a {} hold", seconds_text(now - m_held_since),
                                                   seconds_text(m_options.hold)));
    break;
  }
}

void Session::finish(Status status, std::string detail) {
  Result result;
  result.status = status;
  result.status_code = m_status_code;
  result.coderd_version = m_version;
  result.detail = std::move(detail);
  if (m_phase == Phase::holding) {
    auto lived = status == Status::ok ? Clock::duration(m_options.hold) : Clock::now() - m_held_since;
    result.held_s = std::chrono::duration<double>(lived).count();
  }
  m_result = std::move(result);
}

// Say goodbye on a WebSocket (one attempt, no wait), then drop the connection.
void Session::hang_up() {
  if (m_stream && speaks_websocket(m_options.check) && m_phase != Phase::head) {
    ws::Bytes goodbye = ws::encode_close(1000, "", random_bytes<4>());
    (void)m_stream->send(goodbye);
  }
  m_stream.reset();
}

} // namespace coder_dns_doctor::transport
