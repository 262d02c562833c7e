// Reading an HTTP/1.x request head, as the daemon's listener needs it: the method, the decoded
// path, and the two headers it acts on. Pure and bounded by its input; the listener decides the
// limits (how many bytes, how long) before anything here runs.
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace coder_dns_doctor::daemon {

struct Request {
  std::string method;          // as sent ("GET", "HEAD", ...)
  std::string path;            // percent-decoded, without the query
  std::string accept;          // the Accept header, "" when absent
  std::string accept_encoding; // the Accept-Encoding header, "" when absent
};

// The offset just past the blank line ending the head in `buffer` ("\r\n\r\n", or "\n\n" from a
// client that sends bare LF), or nullopt while it has not arrived.
[[nodiscard]] std::optional<std::size_t> head_end(std::string_view buffer);

// Parse a complete head (through its blank line); on failure the HTTP status to answer with: 400
// (not a request line, not origin-form, a bad escape, a header line without a colon) or 505
// (not HTTP/1.x).
[[nodiscard]] std::expected<Request, int> parse_request(std::string_view head);

// Whether an Accept-Encoding value accepts gzip ("gzip" or "*" with a q-value above 0).
[[nodiscard]] bool accepts_gzip(std::string_view accept_encoding);

} // namespace coder_dns_doctor::daemon
