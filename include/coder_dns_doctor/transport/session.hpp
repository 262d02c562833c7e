// Layer 3 (transport): one upgrade check over an open http::Stream, step by step inside the
// caller's poll loop. The WebSocket client of RFC 6455 (the ws codec) and raw DERP sit behind
// this seam: the probe engine only polls socket(), calls step(), and reads result(). When the
// distribution's libcurl gains curl_ws_*, this class is the one place to switch.
#pragma once

#include <coder_dns_doctor/http/client.hpp>
#include <coder_dns_doctor/transport/check.hpp>
#include <coder_dns_doctor/ws/codec.hpp>
#include <coder_dns_doctor/ws/frame.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace coder_dns_doctor::transport {

using Clock = std::chrono::steady_clock;

struct SessionOptions {
  Check check = Check::derp_websocket; // an upgrade check (is_upgrade)
  std::string host_header;             // host[:port] as in the URL
  std::string path;                    // origin-form, starts with '/'
  std::chrono::milliseconds timeout{2000};
  // Keep the connection after the first frame for this long, reading keepalives (0: hang up;
  // k_hold_forever: until the peer closes it or the Session is destroyed).
  std::chrono::milliseconds hold{0};
};

// SessionOptions::hold of a connection held until the peer closes it (serve's held connections).
inline constexpr std::chrono::milliseconds k_hold_forever = std::chrono::milliseconds::max();

class Session {
public:
  // Start the check on `stream` (connected at `now`): the request is sent from the first step().
  Session(SessionOptions options, std::unique_ptr<http::Stream> stream, Clock::time_point now);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  [[nodiscard]] int socket() const;
  [[nodiscard]] bool wants_write() const { return m_sent < m_out.size(); }
  // When step() must run even if the socket stays quiet (the timeout or the end of the hold).
  [[nodiscard]] Clock::time_point deadline() const;
  // Move what the socket allows and advance; true once the check is decided (then result() holds).
  bool step(Clock::time_point now);
  [[nodiscard]] bool done() const { return m_result.has_value(); }
  // Whether the first frame came and the connection is being held (SessionOptions::hold > 0).
  [[nodiscard]] bool holding() const { return m_phase == Phase::holding && !done(); }
  [[nodiscard]] const Result& result() const { return *m_result; }

private:
  enum class Phase { head, first, holding };

  void queue(ws::ByteView bytes);
  bool flush();
  bool pump(Clock::time_point now);
  void on_bytes(ws::ByteView bytes, Clock::time_point now);
  void on_head(Clock::time_point now);
  void on_websocket(Clock::time_point now);
  void on_raw_derp(Clock::time_point now);
  void first_frame_ok(Clock::time_point now);
  void on_closed(Clock::time_point now);
  void finish(Status status, std::string detail);
  void hang_up();

  SessionOptions m_options;
  std::unique_ptr<http::Stream> m_stream;
  Clock::time_point m_started;
  Clock::time_point m_held_since;
  Phase m_phase = Phase::head;
  std::string m_key; // Sec-WebSocket-Key
  ws::Bytes m_out;
  std::size_t m_sent = 0;
  ws::Bytes m_head; // bytes before the end of the response head
  ws::MessageReader m_reader;
  ws::Bytes m_derp; // DERP bytes: raw, or joined from binary messages
  std::optional<long> m_status_code;
  std::optional<std::string> m_version;
  std::optional<Result> m_result;
};

} // namespace coder_dns_doctor::transport
