#include <coder_dns_doctor/daemon/gzip.hpp>
#include <coder_dns_doctor/daemon/http_request.hpp>
#include <coder_dns_doctor/daemon/http_server.hpp>
#include <coder_dns_doctor/util/address.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>

namespace coder_dns_doctor::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How often deadlines are checked: a timeout fires up to this much late.
constexpr milliseconds k_sweep_every{100};
// After the response, how long a client may keep sending (a pipelined request, a body) before the
// close; reading it meanwhile avoids a reset that could destroy the response in flight.
constexpr milliseconds k_linger{1000};
constexpr std::size_t k_linger_bytes = 64 * 1024;
// File descriptors kept for everything else the daemon opens (sockets of a cycle, files).
constexpr rlim_t k_fds_reserved = 128;

std::string_view reason(int status) {
  switch (status) {
  case 200: return "OK";
  case 400: return "Bad Request";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 503: return "Service Unavailable";
  case 505: return "HTTP Version Not Supported";
  default: return "Status";
  }
}

bool compressible(std::string_view content_type) {
  return content_type.starts_with("text/") || content_type.starts_with("application/json");
}

// The bytes of `response`; `body` replaces its body when given (the gzip form).
std::string serialize(const Response& response, bool head, const std::string* gzip_body, bool vary) {
  const std::string& body = gzip_body != nullptr ? *gzip_body : response.body;
  std::string extra;
  for (const auto& line : response.headers)
    extra += line + "\r\n";
  if (gzip_body != nullptr)
    extra += "Content-Encoding: gzip\r\n";
  if (vary)
    extra += "Vary: Accept-Encoding\r\n";
  if (response.status == 405)
    extra += "Allow: GET, HEAD\r\n";
  std::string out =
      fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
                  "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n{}\r\n",
                  response.status, reason(response.status), response.content_type, body.size(), extra);
  if (!head)
    out += body;
  return out;
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

std::uint16_t bound_port(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return 0;
  if (address.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
}

// The connection limit that fits the soft fd limit, keeping k_fds_reserved for the rest.
unsigned fitting_limit(unsigned wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return wanted;
  rlim_t room = limit.rlim_cur > 2 * k_fds_reserved ? limit.rlim_cur - k_fds_reserved : limit.rlim_cur / 2;
  return static_cast<unsigned>(std::max<rlim_t>(1, std::min<rlim_t>(wanted, room)));
}

// Whether the client asks for plain text rather than a page: `Accept` names text/plain and not
// text/html (curl's default `*/*` and a browser's text/html get the page).
bool wants_text(std::string_view accept) {
  return accept.find("text/plain") != std::string_view::npos && accept.find("text/html") == std::string_view::npos;
}

enum class Phase : std::uint8_t {
  reading,  // the request head is arriving
  writing,  // the response is being taken
  lingering // answered, write side shut: reading what the client still sends, until EOF
};

struct Connection {
  Clock::time_point opened;
  Clock::time_point deadline;
  Phase phase = Phase::reading;
  std::string in;  // the head so far (reading), at most max_request_bytes
  std::string out; // the response (writing)
  std::size_t sent = 0;
  std::size_t lingered = 0;
};

struct CachedGzip {
  std::uint64_t version = 0;
  std::string body;
};

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

struct HttpServer::Impl {
  ListenerOptions options;
  std::vector<Route> routes;
  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  bool accepting = true; // false after EMFILE until the next sweep
  std::atomic<bool> stop{false};
  std::thread loop_thread;
  std::unordered_map<int, Connection> connections;
  std::map<std::string, CachedGzip> gzip_cache; // by route path; the loop thread's

  struct Counters {
    std::atomic<std::uint64_t> accepted{0}, answered{0}, refused{0}, evicted{0}, header_timeouts{0}, write_timeouts{0},
        rejected{0}, open{0};
  } counters;

  ~Impl() {
    for (auto& [fd, connection] : connections)
      ::close(fd);
    for (int fd : {listen_fd, epoll_fd, wake_fd})
      if (fd >= 0)
        ::close(fd);
  }

  void watch(int fd, std::uint32_t events, int op) const {
    epoll_event event{.events = events, .data = {.fd = fd}};
    epoll_ctl(epoll_fd, op, fd, &event);
  }

  void close_connection(int fd) {
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    connections.erase(fd);
    counters.open = connections.size();
  }

  void run() {
    std::array<epoll_event, 128> events{};
    Clock::time_point last_sweep = Clock::now();
    while (!stop) {
      // Sweeps end connections past their deadlines and resume accepting: with no connection open
      // and the listener accepting there is nothing to sweep, so an idle listener sleeps until a
      // client (or stop) wakes it instead of ticking.
      int timeout = connections.empty() && accepting ? -1 : static_cast<int>(k_sweep_every.count());
      int count = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), timeout);
      for (int i = 0; i < count && !stop; ++i) {
        int fd = events[i].data.fd;
        if (fd == wake_fd)
          continue; // stop was set
        if (fd == listen_fd)
          accept_all();
        else
          on_ready(fd, events[i].events);
      }
      Clock::time_point now = Clock::now();
      if (now - last_sweep >= k_sweep_every) {
        sweep(now);
        last_sweep = now;
      }
    }
  }

  void accept_all() {
    while (accepting) {
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors: stop accepting until the next sweep rather than spin on the
          // listener; the kernel's backlog holds the newcomers meanwhile.
          accepting = false;
          watch(listen_fd, 0, EPOLL_CTL_MOD);
        }
        return; // EAGAIN: all taken; others (ECONNABORTED): the next wake-up retries
      }
      ++counters.accepted;
      if (connections.size() >= options.max_connections && !make_room()) {
        // Nothing to evict (every connection is being answered): refuse at once.
        std::string busy = serialize({.status = 503, .body = "busy: too many connections\n"}, false, nullptr, false);
        ++counters.refused; // before the answer: whoever reads it may look at the counters next
        (void)::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        ::close(fd);
        continue;
      }
      Clock::time_point now = Clock::now();
      connections[fd] = Connection{.opened = now, .deadline = now + milliseconds(options.header_timeout_ms)};
      counters.open = connections.size();
      watch(fd, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_ADD);
    }
  }

  // Drop the oldest connection still sending its request; false when there is none.
  bool make_room() {
    auto oldest = connections.end();
    for (auto it = connections.begin(); it != connections.end(); ++it)
      if (it->second.phase == Phase::reading &&
          (oldest == connections.end() || it->second.opened < oldest->second.opened))
        oldest = it;
    if (oldest == connections.end())
      return false;
    ++counters.evicted;
    close_connection(oldest->first);
    return true;
  }

  void sweep(Clock::time_point now) {
    if (!accepting) {
      accepting = true;
      watch(listen_fd, EPOLLIN, EPOLL_CTL_MOD);
    }
    std::vector<int> expired;
    for (const auto& [fd, connection] : connections)
      if (now >= connection.deadline)
        expired.push_back(fd);
    for (int fd : expired) {
      Phase phase = connections[fd].phase;
      if (phase == Phase::reading)
        ++counters.header_timeouts;
      else if (phase == Phase::writing)
        ++counters.write_timeouts;
      close_connection(fd);
    }
  }

  void on_ready(int fd, std::uint32_t events) {
    auto it = connections.find(fd);
    if (it == connections.end())
      return;
    Connection& connection = it->second;
    if ((events & EPOLLERR) != 0) {
      close_connection(fd);
      return;
    }
    switch (connection.phase) {
    case Phase::reading: read_request(fd, connection); break;
    case Phase::writing: write_response(fd, connection); break;
    case Phase::lingering: linger(fd, connection); break;
    }
  }

  void read_request(int fd, Connection& connection) {
    std::array<char, 4096> buffer{};
    while (true) {
      std::size_t room =
          options.max_request_bytes + 1 - std::min<std::size_t>(connection.in.size(), options.max_request_bytes);
      ssize_t n = ::recv(fd, buffer.data(), std::min(buffer.size(), room), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        close_connection(fd); // the client left before its request was whole
        return;
      }
      if (n < 0) {
        if (errno == EINTR)
          continue;
        return; // wait for more
      }
      std::size_t searched = connection.in.size() >= 3 ? connection.in.size() - 3 : 0;
      connection.in.append(buffer.data(), static_cast<std::size_t>(n));
      auto end = head_end(std::string_view(connection.in).substr(searched));
      if (end) {
        respond(fd, connection, std::string_view(connection.in).substr(0, searched + *end));
        return;
      }
      if (connection.in.size() > options.max_request_bytes) {
        ++counters.rejected;
        start_writing(fd, connection,
                      serialize({.status = 431, .body = "request head too large\n"}, false, nullptr, false));
        return;
      }
    }
  }

  void respond(int fd, Connection& connection, std::string_view head) {
    auto request = parse_request(head);
    if (!request) {
      ++counters.rejected;
      start_writing(fd, connection,
                    serialize({.status = request.error(), .body = "bad request\n"}, false, nullptr, false));
      return;
    }
    bool is_head = request->method == "HEAD";
    if (request->method != "GET" && !is_head) {
      ++counters.rejected;
      start_writing(fd, connection, serialize({.status = 405, .body = "only GET and HEAD\n"}, is_head, nullptr, false));
      return;
    }
    Response response = route(*request);
    bool can_compress = compressible(response.content_type) && response.body.size() >= options.compress_min_bytes;
    const std::string* gzip_body = nullptr;
    std::string fresh;
    if (can_compress && accepts_gzip(request->accept_encoding)) {
      if (response.version != 0) {
        CachedGzip& cached = gzip_cache[request->path];
        if (cached.version != response.version || cached.body.empty())
          cached = {.version = response.version, .body = gzip(response.body)};
        gzip_body = &cached.body;
      } else {
        fresh = gzip(response.body);
        gzip_body = &fresh;
      }
      if (gzip_body->empty())
        gzip_body = nullptr; // zlib failed: send it as it is
    }
    start_writing(fd, connection, serialize(response, is_head, gzip_body, can_compress));
  }

  Response route(const Request& request) const {
    if (request.path == "/" && options.page && !wants_text(request.accept))
      return call(options.page);
    if (request.path == "/") {
      Response index{.status = 200, .body = "coder-dns-doctor\n"};
      for (const Route& route : routes)
        index.body += fmt::format("  {:<10} {}\n", route.path, route.help);
      return index;
    }
    for (const Route& route : routes)
      if (route.path == request.path)
        return call(route.handler);
    return {.status = 404, .body = "not found; see /\n"};
  }

  static Response call(const std::function<Response()>& handler) {
    try {
      return handler();
    } catch (const std::exception& error) {
      return {.status = 500, .body = fmt::format("internal error: {}\n", error.what())};
    }
  }

  void start_writing(int fd, Connection& connection, std::string bytes) {
    connection.phase = Phase::writing;
    connection.in.clear();
    connection.in.shrink_to_fit();
    connection.out = std::move(bytes);
    connection.sent = 0;
    connection.deadline = Clock::now() + milliseconds(options.write_timeout_ms);
    watch(fd, EPOLLOUT, EPOLL_CTL_MOD);
    write_response(fd, connection);
  }

  void write_response(int fd, Connection& connection) {
    while (connection.sent < connection.out.size()) {
      ssize_t n =
          ::send(fd, connection.out.data() + connection.sent, connection.out.size() - connection.sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return; // EPOLLOUT brings us back
      if (n <= 0) {
        close_connection(fd);
        return;
      }
      connection.sent += static_cast<std::size_t>(n);
    }
    ++counters.answered;
    connection.out.clear();
    connection.out.shrink_to_fit();
    ::shutdown(fd, SHUT_WR);
    connection.phase = Phase::lingering;
    connection.deadline = Clock::now() + k_linger;
    watch(fd, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
    linger(fd, connection);
  }

  void linger(int fd, Connection& connection) {
    std::array<char, 4096> buffer{};
    while (true) {
      ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
      if (n <= 0 || (connection.lingered += static_cast<std::size_t>(n)) > k_linger_bytes) {
        close_connection(fd);
        return;
      }
    }
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

HttpServer::~HttpServer() {
  if (!m_impl)
    return;
  m_impl->stop = true;
  std::uint64_t one = 1;
  (void)::write(m_impl->wake_fd, &one, sizeof(one));
  if (m_impl->loop_thread.joinable())
    m_impl->loop_thread.join();
}

ListenerStats HttpServer::stats() const {
  const auto& c = m_impl->counters;
  return {.accepted = c.accepted,
          .answered = c.answered,
          .refused = c.refused,
          .evicted = c.evicted,
          .header_timeouts = c.header_timeouts,
          .write_timeouts = c.write_timeouts,
          .rejected = c.rejected,
          .open = c.open};
}

unsigned HttpServer::max_connections() const {
  return m_impl->options.max_connections;
}

std::expected<std::unique_ptr<HttpServer>, std::string> HttpServer::start(const ListenerOptions& options,
                                                                          std::vector<Route> routes) {
  auto endpoint = parse_listen(options.listen);
  if (!endpoint)
    return std::unexpected(endpoint.error());
  auto fail = [&](std::string_view what) {
    return std::unexpected(fmt::format("--listen {}: cannot listen: {}", options.listen, what));
  };

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->options.max_connections = fitting_limit(std::max(1U, options.max_connections));
  impl->routes = std::move(routes);
  bool v6 = endpoint->address.family == util::AddressFamily::ipv6;
  impl->listen_fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (impl->listen_fd < 0)
    return fail(std::strerror(errno));
  int on = 1;
  setsockopt(impl->listen_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)); // restart without TIME_WAIT trouble
  sockaddr_storage address{};
  socklen_t length = to_sockaddr(*endpoint, address);
  if (::bind(impl->listen_fd, reinterpret_cast<sockaddr*>(&address), length) != 0)
    return fail(std::strerror(errno));
  if (::listen(impl->listen_fd, SOMAXCONN) != 0)
    return fail(std::strerror(errno));
  impl->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  impl->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl->epoll_fd < 0 || impl->wake_fd < 0)
    return fail(std::strerror(errno));
  impl->watch(impl->listen_fd, EPOLLIN, EPOLL_CTL_ADD);
  impl->watch(impl->wake_fd, EPOLLIN, EPOLL_CTL_ADD);

  std::uint16_t port = bound_port(impl->listen_fd);
  Impl* loop = impl.get();
  impl->loop_thread = std::thread([loop] { loop->run(); });
  pthread_setname_np(impl->loop_thread.native_handle(), "cdd-listener");
  std::unique_ptr<HttpServer> server(new HttpServer(std::move(impl)));
  server->m_address = util::Endpoint{endpoint->address, port}.to_string();
  return server;
}

} // namespace coder_dns_doctor::daemon
