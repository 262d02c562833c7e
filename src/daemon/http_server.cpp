#include <coder_dns_doctor/daemon/http_server.hpp>
#include <coder_dns_doctor/util/address.hpp>

#include <civetweb.h>
#include <fmt/core.h>

#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <netinet/in.h>
#include <optional>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace coder_dns_doctor::daemon {
namespace {

std::string_view reason(int status) {
  switch (status) {
  case 200: return "OK";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 500: return "Internal Server Error";
  case 503: return "Service Unavailable";
  default: return "Status";
  }
}

void send(mg_connection* connection, const Response& response, bool head) {
  std::string extra;
  for (const auto& line : response.headers)
    extra += line + "\r\n";
  std::string header =
      fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
                  "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n{}\r\n",
                  response.status, reason(response.status), response.content_type, response.body.size(), extra);
  mg_write(connection, header.data(), header.size());
  if (!head && !response.body.empty())
    mg_write(connection, response.body.data(), response.body.size());
}

// Fill `address` for `endpoint`; return its length.
socklen_t to_sockaddr(const util::Endpoint& endpoint, sockaddr_storage& address) {
  address = {};
  if (endpoint.address.family == util::AddressFamily::ipv6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(endpoint.port);
    inet_pton(AF_INET6, endpoint.address.text.c_str(), &in6->sin6_addr);
    return sizeof(sockaddr_in6);
  }
  auto* in4 = reinterpret_cast<sockaddr_in*>(&address);
  in4->sin_family = AF_INET;
  in4->sin_port = htons(endpoint.port);
  inet_pton(AF_INET, endpoint.address.text.c_str(), &in4->sin_addr);
  return sizeof(sockaddr_in);
}

// Fail with why binding `endpoint` fails ("Address already in use"): civetweb only says "Failed
// to setup server ports". Succeeds when the bind would work or cannot be tried (civetweb decides).
std::expected<void, std::string> check_bindable(const util::Endpoint& endpoint) {
  if (endpoint.port == 0)
    return {};
  bool v6 = endpoint.address.family == util::AddressFamily::ipv6;
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return {};
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)); // as civetweb does
  sockaddr_storage address;
  socklen_t length = to_sockaddr(endpoint, address);
  std::expected<void, std::string> result;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0)
    result = std::unexpected(std::strerror(errno));
  ::close(fd);
  return result;
}

// Open and close a TCP connection to `endpoint` (a wildcard address means loopback).
void poke(util::Endpoint endpoint) {
  bool v6 = endpoint.address.family == util::AddressFamily::ipv6;
  if (endpoint.address.text == "0.0.0.0")
    endpoint.address.text = "127.0.0.1";
  if (endpoint.address.text == "::")
    endpoint.address.text = "::1";
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return;
  sockaddr_storage address;
  socklen_t length = to_sockaddr(endpoint, address);
  (void)::connect(fd, reinterpret_cast<sockaddr*>(&address), length);
  ::close(fd);
}

} // namespace

std::expected<util::Endpoint, std::string> parse_listen(const std::string& text) {
  // parse_endpoint rejects port 0, which here means "any free port".
  bool any_port = text.ends_with(":0");
  std::string probe = any_port ? text.substr(0, text.size() - 1) + "1" : text;
  auto endpoint = util::parse_endpoint(probe, 9816);
  if (!endpoint)
    return std::unexpected(fmt::format("--listen: {}", endpoint.error()));
  if (any_port)
    endpoint->port = 0;
  return *endpoint;
}

// Whether the client asks for plain text rather than a page: `Accept` names text/plain and not
// text/html (curl's default `*/*` and a browser's text/html get the page).
bool wants_text(mg_connection* connection) {
  const char* accept = mg_get_header(connection, "Accept");
  if (accept == nullptr)
    return false;
  std::string_view value(accept);
  return value.find("text/plain") != std::string_view::npos && value.find("text/html") == std::string_view::npos;
}

struct HttpServer::Impl {
  std::vector<Route> routes;
  std::function<Response()> page;
  mg_context* context = nullptr;

  static int handle(mg_connection* connection, void* data) {
    auto* self = static_cast<Impl*>(data);
    const mg_request_info* request = mg_get_request_info(connection);
    std::string_view method = request->request_method != nullptr ? request->request_method : "";
    std::string_view path = request->local_uri != nullptr ? request->local_uri : "";
    bool head = method == "HEAD";
    if (method != "GET" && !head) {
      send(connection, {.status = 405, .body = "only GET and HEAD\n"}, head);
      return 405;
    }
    Response response{.status = 404, .body = "not found; see /\n"};
    if (path == "/" && self->page && !wants_text(connection)) {
      response = self->page();
    } else if (path == "/") {
      response = {.status = 200, .body = "coder-dns-doctor\n"};
      for (const Route& route : self->routes)
        response.body += fmt::format("  {:<10} {}\n", route.path, route.help);
    } else {
      for (const Route& route : self->routes) {
        if (route.path != path)
          continue;
        try {
          response = route.handler();
        } catch (const std::exception& error) {
          response = {.status = 500, .body = fmt::format("internal error: {}\n", error.what())};
        }
        break;
      }
    }
    send(connection, response, head);
    return response.status;
  }

  // civetweb logs its own errors through this; keep them off stdout (the scrape target's logs).
  static int log_message(const mg_connection*, const char*) { return 1; }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

HttpServer::~HttpServer() {
  if (!m_impl || m_impl->context == nullptr)
    return;
  // civetweb's accept loop polls with a 2 s quantum and mg_stop waits for it; a connection to our
  // own listener wakes it at once, so a stop takes milliseconds instead of up to 2 s.
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    mg_stop(m_impl->context);
    stopped = true;
  });
  auto endpoint = parse_listen(m_address);
  while (!stopped && endpoint) {
    poke(*endpoint);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stopper.join();
}

std::expected<std::unique_ptr<HttpServer>, std::string> HttpServer::start(const ListenerOptions& options,
                                                                          std::vector<Route> routes) {
  static std::once_flag library_once;
  std::call_once(library_once, [] { mg_init_library(0); });

  auto endpoint = parse_listen(options.listen);
  if (!endpoint)
    return std::unexpected(endpoint.error());
  if (auto bindable = check_bindable(*endpoint); !bindable)
    return std::unexpected(fmt::format("--listen {}: cannot listen: {}", options.listen, bindable.error()));
  std::string ports = endpoint->to_string(); // "ip:port" or "[v6]:port", as civetweb reads it
  std::string threads = std::to_string(options.threads);
  std::string timeout = std::to_string(options.request_timeout_ms);
  std::array<const char*, 13> config{"listening_ports",
                                     ports.c_str(),
                                     "num_threads",
                                     threads.c_str(),
                                     "request_timeout_ms",
                                     timeout.c_str(),
                                     "enable_keep_alive",
                                     "no",
                                     "enable_directory_listing",
                                     "no",
                                     "decode_url",
                                     "yes",
                                     nullptr};

  auto impl = std::make_unique<Impl>();
  impl->routes = std::move(routes);
  impl->page = options.page;
  mg_callbacks callbacks{};
  callbacks.log_message = &Impl::log_message;
  mg_init_data init{.callbacks = &callbacks, .user_data = impl.get(), .configuration_options = config.data()};
  std::array<char, 256> error_text{};
  unsigned error_code = 0;
  mg_error_data error{.code = &error_code, .text = error_text.data(), .text_buffer_size = error_text.size()};
  impl->context = mg_start2(&init, &error);
  if (impl->context == nullptr)
    return std::unexpected(fmt::format("--listen {}: cannot listen: {}", options.listen,
                                       error_text[0] != '\0' ? error_text.data() : "unknown error"));
  mg_set_request_handler(impl->context, "/", &Impl::handle, impl.get());

  std::unique_ptr<HttpServer> server(new HttpServer(std::move(impl)));
  std::array<mg_server_port, 4> bound{};
  int count = mg_get_server_ports(server->m_impl->context, static_cast<int>(bound.size()), bound.data());
  std::uint16_t port = count > 0 ? static_cast<std::uint16_t>(bound[0].port) : endpoint->port;
  server->m_address = util::Endpoint{endpoint->address, port}.to_string();
  return server;
}

} // namespace coder_dns_doctor::daemon
