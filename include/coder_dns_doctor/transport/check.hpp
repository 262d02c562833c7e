// Layer 3 (transport: the checks of an agent's own connection, WebSocket, DERP and the agent's
// HTTP routes, judged from what came back; uses http and ws, not the probe loop; see README "Layers").
//
// The names of checks and statuses are a contract: they appear in the JSON report's transport[]
// (`check`, `status`) and in the `check` label of coder_dns_doctor_transport_up.
#pragma once

#include <coder_dns_doctor/http/client.hpp>
#include <coder_dns_doctor/http/status.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::transport {

enum class Check {
  derp_map_websocket, // GET /api/v2/derp-map as a WebSocket: 101, then a DERP map (JSON with Regions)
  derp_websocket,     // GET /derp as a WebSocket with subprotocol derp: 101, then the server-key frame
  derp_upgrade,       // GET /derp with Upgrade: DERP: 101, then the server-key frame, raw
  agent_binary,       // HEAD /bin/coder-linux-<arch>: 200 with a length
  agent_api,          // GET /api/v2/workspaceagents/me/rpc with a random token: coderd's 401
};

enum class Status {
  ok,
  refused,       // the connection was refused
  unreachable,   // no route, network down
  timeout,       // no decision within the check's timeout (or the cycle's deadline)
  tls,           // the TLS handshake failed
  http_error,    // an HTTP answer other than the one the check expects (not an upgrade refusal)
  not_upgraded,  // an upgrade was asked and refused with an HTTP status (coderd's 426, a proxy's 400)
  bad_handshake, // a 101 that is not a valid answer: no or wrong Sec-WebSocket-Accept, wrong Upgrade
  bad_frame,     // upgraded, but the first message or frame is not what coderd sends
  not_coderd,    // an HTTP answer without X-Coder-Build-Version, or a body coderd does not send
  closed_early,  // the connection closed before the check (or its hold) was complete
  not_bundled,   // agent-binary: 404, a "slim" coderd without bundled agent binaries (info)
  error,         // anything else (a socket error, a request that could not be made)
};

[[nodiscard]] std::string_view to_string(Check check);
[[nodiscard]] std::string_view to_string(Status status);
// Every check, in report order.
[[nodiscard]] const std::vector<Check>& all_checks();
// Whether `check` speaks over an upgraded connection (a Session) rather than one HTTP request.
[[nodiscard]] bool is_upgrade(Check check);
// The request path of `check`; `agent_arch` names the binary (amd64, arm64, ...).
[[nodiscard]] std::string path_of(Check check, std::string_view agent_arch);
// Whether `status` counts as passing (ok, or the informational not_bundled).
[[nodiscard]] bool passes(Status status);

// The header every ordinary coderd answer carries (its global middleware).
inline constexpr std::string_view k_build_version_header = "X-Coder-Build-Version";

// What one transport check concluded.
struct Result {
  Status status = Status::error;
  std::optional<long> status_code;
  std::optional<std::string> coderd_version; // X-Coder-Build-Version, when an answer carried it
  std::string detail;                        // one line: what came back, when not ok
  std::optional<double> held_s;              // how long a held connection lived
};

// The transport status of a request that got no HTTP answer, from the HTTP client's typed outcome.
[[nodiscard]] Status from_http(http::Status status);

// The request of a non-upgrade check (`agent_binary`, `agent_api`) for `url`; the caller adds
// pinning, timeout and CA. Asks for X-Coder-Build-Version and Content-Length.
[[nodiscard]] http::Request http_request(Check check, std::string url);
// Judge the response to http_request(check, ...).
[[nodiscard]] Result judge_http(Check check, const http::Response& response);

} // namespace coder_dns_doctor::transport
