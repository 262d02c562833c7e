// The listener on a real loopback socket: what each kind of request gets back, and what happens to
// clients that never finish, never read, or come when every slot is taken.
#include <coder_dns_doctor/daemon/http_server.hpp>

#include <doctest/doctest.h>
#include <zlib.h>

#include <arpa/inet.h>
#include <chrono>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace coder_dns_doctor::daemon;
using namespace std::chrono_literals;

namespace {

std::string big_text(std::size_t bytes) {
  std::string text;
  while (text.size() < bytes)
    text += "coder_dns_doctor_probe_up{host=\"coder.example.test\",resolver=\"cluster\"} 1\n";
  return text.substr(0, bytes);
}

std::unique_ptr<HttpServer> start_server(ListenerOptions options = {}) {
  options.listen = "127.0.0.1:0";
  std::vector<Route> routes{
      {"/healthz", "ok", [] { return Response{.body = "ok\n"}; }},
      {"/report", "json",
       [] { return Response{.content_type = "application/json", .body = big_text(20000), .version = 7}; }},
      {"/big", "16 MiB", [] { return Response{.body = std::string(16 << 20, 'x')}; }},
      {"/throws", "500", []() -> Response { throw std::runtime_error("boom"); }},
  };
  options.page = [] { return Response{.content_type = "text/html; charset=utf-8", .body = "<p>page</p>"}; };
  auto server = HttpServer::start(options, std::move(routes));
  REQUIRE(server.has_value());
  return std::move(*server);
}

// A blocking client socket connected to the server (receive timeout 5 s: no test can hang).
int connect_to(const HttpServer& server) {
  auto colon = server.address().rfind(':');
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(std::stoi(server.address().substr(colon + 1))));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval timeout{.tv_sec = 5, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  return fd;
}

void send_all(int fd, std::string_view bytes) {
  REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
}

// Everything the server sends until it closes.
std::string read_all(int fd) {
  std::string out;
  char buffer[65536];
  ssize_t n = 0;
  while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0)
    out.append(buffer, static_cast<std::size_t>(n));
  return out;
}

std::string exchange(const HttpServer& server, std::string_view request) {
  int fd = connect_to(server);
  send_all(fd, request);
  std::string response = read_all(fd);
  ::close(fd);
  return response;
}

std::string body_of(const std::string& response) {
  auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : response.substr(end + 4);
}

std::string gunzip(const std::string& data) {
  z_stream stream{};
  REQUIRE(inflateInit2(&stream, 15 + 16) == Z_OK);
  std::string out(1 << 20, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int status = inflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  inflateEnd(&stream);
  REQUIRE(status == Z_STREAM_END);
  return out;
}

// Whether the server closed `fd` (EOF) within `wait`.
bool closed_within(int fd, std::chrono::milliseconds wait) {
  pollfd entry{.fd = fd, .events = POLLIN, .revents = 0};
  if (::poll(&entry, 1, static_cast<int>(wait.count())) <= 0)
    return false;
  char byte = 0;
  return ::recv(fd, &byte, 1, MSG_DONTWAIT) == 0;
}

template <typename F> bool eventually(F condition) {
  for (int i = 0; i < 200 && !condition(); ++i)
    std::this_thread::sleep_for(10ms);
  return condition();
}

} // namespace

TEST_SUITE("daemon_http_server") {
  TEST_CASE("GET and HEAD of a route; every response closes the connection") {
    auto server = start_server();
    std::string get = exchange(*server, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(get.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(get.find("Connection: close\r\n") != std::string::npos);
    CHECK(get.find("Content-Length: 3\r\n") != std::string::npos);
    CHECK(body_of(get) == "ok\n");
    std::string head = exchange(*server, "HEAD /healthz HTTP/1.1\r\n\r\n");
    CHECK(head.find("Content-Length: 3\r\n") != std::string::npos);
    CHECK(body_of(head).empty());
    CHECK(server->stats().answered == 2);
  }

  TEST_CASE("the index, the page, 404 and a handler that throws") {
    auto server = start_server();
    CHECK(body_of(exchange(*server, "GET / HTTP/1.1\r\nAccept: text/html\r\n\r\n")) == "<p>page</p>");
    std::string index = body_of(exchange(*server, "GET / HTTP/1.1\r\nAccept: text/plain\r\n\r\n"));
    CHECK(index.find("/healthz") != std::string::npos);
    CHECK(exchange(*server, "GET /nope HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
    CHECK(exchange(*server, "GET /throws HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 500 "));
  }

  TEST_CASE("only GET and HEAD; bad, oversized and non-1.x requests are refused with their status") {
    auto server = start_server({.max_request_bytes = 1024});
    std::string post = exchange(*server, "POST /healthz HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi");
    CHECK(post.starts_with("HTTP/1.1 405 "));
    CHECK(post.find("Allow: GET, HEAD\r\n") != std::string::npos);
    CHECK(exchange(*server, "GET /" + std::string(2000, 'a') + " HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 431 "));
    CHECK(exchange(*server, "GET / HTTP/2.0\r\n\r\n").starts_with("HTTP/1.1 505 "));
    CHECK(exchange(*server, "hello\r\n\r\n").starts_with("HTTP/1.1 400 "));
    CHECK(server->stats().rejected == 4);
  }

  TEST_CASE("gzip when asked, for bodies worth it; the same version reuses one compression") {
    auto server = start_server();
    std::string plain = exchange(*server, "GET /report HTTP/1.1\r\n\r\n");
    CHECK(plain.find("Content-Encoding") == std::string::npos);
    CHECK(plain.find("Vary: Accept-Encoding\r\n") != std::string::npos);
    for (int i = 0; i < 2; ++i) {
      std::string zipped = exchange(*server, "GET /report HTTP/1.1\r\nAccept-Encoding: gzip, br\r\n\r\n");
      CHECK(zipped.find("Content-Encoding: gzip\r\n") != std::string::npos);
      CHECK(body_of(zipped).size() < 5000);
      CHECK(gunzip(body_of(zipped)) == big_text(20000));
    }
    // A small body is sent as it is.
    CHECK(exchange(*server, "GET /healthz HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n").find("Content-Encoding") ==
          std::string::npos);
  }

  TEST_CASE("a client that never finishes its request is dropped at the header deadline") {
    auto server = start_server({.header_timeout_ms = 200});
    int slow = connect_to(*server);
    send_all(slow, "GET /healthz HTTP/1.1\r\nX-Slow: a");
    CHECK(closed_within(slow, 2000ms));
    ::close(slow);
    CHECK(server->stats().header_timeouts == 1);
    CHECK(server->stats().answered == 0);
  }

  TEST_CASE("at the limit the oldest unfinished request makes room for a new one") {
    auto server = start_server({.max_connections = 4});
    std::vector<int> idle;
    for (int i = 0; i < 4; ++i)
      idle.push_back(connect_to(*server));
    REQUIRE(eventually([&] { return server->stats().open == 4; }));
    CHECK(body_of(exchange(*server, "GET /healthz HTTP/1.1\r\n\r\n")) == "ok\n");
    CHECK(server->stats().evicted == 1);
    CHECK(closed_within(idle.front(), 2000ms)); // the first one opened went
    for (int fd : idle)
      ::close(fd);
  }

  TEST_CASE("at the limit with every connection being answered, a newcomer gets 503 at once") {
    auto server = start_server({.max_connections = 1});
    int reader_that_never_reads = connect_to(*server);
    send_all(reader_that_never_reads, "GET /big HTTP/1.1\r\n\r\n");
    // The first bytes of the response arrived: the server is writing it, and 16 MiB do not fit the
    // socket buffers, so it stays there.
    char first = 0;
    REQUIRE(::recv(reader_that_never_reads, &first, 1, MSG_PEEK) == 1);
    std::string refused = exchange(*server, "GET /healthz HTTP/1.1\r\n\r\n");
    CHECK(refused.starts_with("HTTP/1.1 503 "));
    CHECK(server->stats().refused == 1);
    ::close(reader_that_never_reads);
  }

  TEST_CASE("a client that does not take its response is dropped at the write deadline") {
    auto server = start_server({.write_timeout_ms = 200});
    int fd = connect_to(*server);
    send_all(fd, "GET /big HTTP/1.1\r\n\r\n");
    CHECK(eventually([&] { return server->stats().write_timeouts == 1; }));
    CHECK(eventually([&] { return server->stats().open == 0; }));
    ::close(fd);
  }

  TEST_CASE("a pipelined second request does not destroy the first response") {
    auto server = start_server();
    std::string response = exchange(*server, "GET /healthz HTTP/1.1\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n");
    CHECK(response.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(body_of(response) == "ok\n");
  }

  TEST_CASE("stopping does not wait for connected clients") {
    auto server = start_server();
    std::vector<int> idle;
    for (int i = 0; i < 16; ++i)
      idle.push_back(connect_to(*server));
    REQUIRE(eventually([&] { return server->stats().open == 16; }));
    auto started = std::chrono::steady_clock::now();
    server.reset();
    CHECK(std::chrono::steady_clock::now() - started < 1s);
    for (int fd : idle) {
      CHECK(closed_within(fd, 100ms));
      ::close(fd);
    }
  }

  TEST_CASE("a port in use is a one-line error naming the address") {
    auto first = start_server();
    auto second = HttpServer::start({.listen = first->address()}, {});
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error() == "--listen " + first->address() + ": cannot listen: Address already in use");
  }
}
