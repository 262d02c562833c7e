// The daemon's one HTTP listener: exact-path GET/HEAD routes answering from memory; `/` is a page
// for a browser, or the text index of the routes for `Accept: text/plain`.
//
// One thread runs an epoll loop over every connection, so no client can hold a worker: a request
// must arrive whole within `header_timeout_ms` and its response be taken within
// `write_timeout_ms`, or the connection is dropped; at `max_connections` the oldest connection
// still sending its request makes room, or (none) the newcomer gets a 503 at once. Every response
// says `Connection: close`. Handlers run on that thread: they must only read snapshots and the
// registry, and return quickly (the routes' bodies are built once per cycle, see service.cpp).
#pragma once

#include <coder_dns_doctor/util/address.hpp>

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace coder_dns_doctor::daemon {

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::string> headers; // extra "Name: value" lines (a Content-Security-Policy)
  // Nonzero: the same version of the same route has the same body, so its gzip form is reused
  // (the cycle number of the snapshot the body came from). 0: compressed afresh when asked.
  std::uint64_t version = 0;
};

struct Route {
  std::string path; // exact match, e.g. "/metrics"
  std::string help; // one line for the index page
  std::function<Response()> handler;
};

struct ListenerOptions {
  std::string listen; // "IP:PORT"; port 0 picks a free one
  // Open connections at most (lowered to fit RLIMIT_NOFILE); ~200 bytes each plus what a request
  // has sent so far (at most max_request_bytes) and its response while it is being taken.
  unsigned max_connections = 512;
  unsigned header_timeout_ms = 2000; // from accept to the request's last header line
  unsigned write_timeout_ms = 10000; // for the client to take the whole response
  unsigned max_request_bytes = 8192; // request line and headers; more is a 431
  // Bodies of at least this many bytes are sent gzip-compressed to a client that accepts gzip.
  std::size_t compress_min_bytes = 1024;
  // `/` for a browser; unset, or asked with `Accept: text/plain` (not text/html), `/` is the text
  // index of the routes.
  std::function<Response()> page;
};

// Parse a listen address `IP:PORT` or `[IPv6]:PORT` (port 0: any free port); the message
// names what was expected.
[[nodiscard]] std::expected<util::Endpoint, std::string> parse_listen(const std::string& text);

// What the listener did with its connections since it started (for tests and the load bench).
struct ListenerStats {
  std::uint64_t accepted = 0;
  std::uint64_t answered = 0;        // responses written completely
  std::uint64_t refused = 0;         // at max_connections with no request to evict: 503 at once
  std::uint64_t evicted = 0;         // dropped at max_connections, the oldest unfinished request
  std::uint64_t header_timeouts = 0; // the request was not whole within header_timeout_ms
  std::uint64_t write_timeouts = 0;  // the response was not taken within write_timeout_ms
  std::uint64_t rejected = 0;        // answered 400, 405, 414 or 431
  std::uint64_t open = 0;            // connections open now
};

class HttpServer {
public:
  // Start listening and serving `routes` (plus `/` listing them); return why not otherwise.
  [[nodiscard]] static std::expected<std::unique_ptr<HttpServer>, std::string> start(const ListenerOptions& options,
                                                                                     std::vector<Route> routes);
  // Stop the loop and close the listener and every connection (milliseconds, whatever the clients do).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The address actually bound, "IP:PORT" (the port is real even when 0 was asked for).
  [[nodiscard]] const std::string& address() const { return m_address; }
  [[nodiscard]] ListenerStats stats() const;
  // The connection limit in force (max_connections, lowered to fit the process's fd limit).
  [[nodiscard]] unsigned max_connections() const;

  struct Impl;

private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
  std::string m_address;
};

} // namespace coder_dns_doctor::daemon
