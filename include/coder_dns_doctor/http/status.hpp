// The typed outcome of one HTTP check, classified in one place from what libcurl and the response
// said. The names are a contract: they appear as `http[].status` in the JSON report and as the
// `reason` label of coder_dns_doctor_http_failures_total.
#pragma once

#include <optional>
#include <string_view>

namespace coder_dns_doctor::http {

enum class Status {
  ok,            // 200 and the body the endpoint should send
  http_error,    // an HTTP answer other than 200 (5xx, 4xx, a redirect, which is never followed)
  body_mismatch, // 200, but the body is not what the endpoint sends (/healthz not OK, buildinfo not JSON)
  timeout,       // no complete answer within the request's timeout or the cycle's deadline
  refused,       // the connection was refused (ECONNREFUSED: nothing listens, or a REJECT rule)
  unreachable,   // the connection could not be made otherwise (no route, network down)
  tls,           // the TLS handshake failed: untrusted certificate, wrong name, protocol error
  too_large,     // the body exceeded the request's max_body
  not_sent,      // never sent: an earlier request on the same path got no HTTP answer at all
  error,         // anything else (the request could not be prepared, garbage, a reset)
};

[[nodiscard]] std::string_view to_string(Status status);

// What a finished transfer gave, without libcurl types.
struct Outcome {
  int curl_code = 0;             // the transfer's CURLcode (0: CURLE_OK)
  long os_errno = 0;             // CURLINFO_OS_ERRNO: the socket error behind a failed connect
  std::optional<long> http_code; // nullopt when no HTTP response arrived
  bool too_large = false;        // the body cap aborted the transfer
  bool body_matches = true;      // a 200's body is what the endpoint sends (ignored otherwise)
};

// The one classification of a finished request. Transport outcomes come first (a body cap, then the
// CURLcode, with CURLE_COULDNT_CONNECT split by errno), then the HTTP code, then the body check.
// `not_sent` and a cycle-deadline `timeout` are decided by the probe engine, which knows that no
// transfer finished.
[[nodiscard]] Status classify(const Outcome& outcome);

} // namespace coder_dns_doctor::http
