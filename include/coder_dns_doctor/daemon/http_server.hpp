// The daemon's one HTTP listener (civetweb): exact-path GET/HEAD routes answering from memory;
// `/` is a page for a browser, or the text index of the routes for `Accept: text/plain`.
// Handlers run on civetweb's worker threads and must only read snapshots and the registry.
#pragma once

#include <coder_dns_doctor/util/address.hpp>

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
};

struct Route {
  std::string path; // exact match, e.g. "/metrics"
  std::string help; // one line for the index page
  std::function<Response()> handler;
};

struct ListenerOptions {
  std::string listen;   // "IP:PORT"; port 0 picks a free one
  unsigned threads = 2; // worker threads
  unsigned request_timeout_ms = 5000;
  // `/` for a browser; unset, or asked with `Accept: text/plain` (not text/html), `/` is the text
  // index of the routes.
  std::function<Response()> page;
};

// Parse a listen address `IP:PORT` or `[IPv6]:PORT` (port 0: any free port); the message
// names what was expected.
[[nodiscard]] std::expected<util::Endpoint, std::string> parse_listen(const std::string& text);

class HttpServer {
public:
  // Start listening and serving `routes` (plus `/` listing them); return why not otherwise.
  [[nodiscard]] static std::expected<std::unique_ptr<HttpServer>, std::string> start(const ListenerOptions& options,
                                                                                     std::vector<Route> routes);
  // Close the listener and wait for requests in flight.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The address actually bound, "IP:PORT" (the port is real even when 0 was asked for).
  [[nodiscard]] const std::string& address() const { return m_address; }

  struct Impl;

private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
  std::string m_address;
};

} // namespace coder_dns_doctor::daemon
