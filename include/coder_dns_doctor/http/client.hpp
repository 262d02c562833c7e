// Layer 2 (http): the program's one HTTP client. GETs through one libcurl multi handle, each
// optionally pinned to an IP address; the probe engine's loop drives it through poll()/perform(),
// the Kubernetes client through fetch(). Every request is set up the same way: http and https
// only, no redirects followed, no proxy, a bounded body, the process-wide CA store.
#pragma once

#include <coder_dns_doctor/util/address.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coder_dns_doctor::http {

// `fresh` opens a new connection (a probe proves its own path); `reuse` takes an open connection
// to the same host, port and pinned address when one is left from an earlier request.
enum class Connection { fresh, reuse };

enum class Verify { yes, no };

// HEAD asks for the head only (an agent binary's length without its megabytes); PATCH and POST
// send Request::body (rollout's writes to the Kubernetes API and to coderd), without waiting for
// a `100 Continue` (no `Expect:` header is sent).
enum class Method { get, head, patch, post };

struct Request {
  std::string url;                           // http(s)://host[:port]/path; Host header and TLS SNI come from it
  std::optional<util::IpAddress> connect_to; // the address to connect to instead of resolving the host
  Connection connection = Connection::fresh;
  std::chrono::milliseconds timeout{2000};
  std::string ca_file;              // CA bundle (http::shared_ca_store); empty: the system store
  Verify verify = Verify::yes;      // `no`: neither the peer's certificate nor its name is checked
  std::size_t max_body = 64 * 1024; // larger bodies fail the request
  // Extra request headers ("Name: value"). curl copies them when the request starts, so a caller
  // may wipe a credential in them as soon as get() returns.
  std::vector<std::string> headers;
  Method method = Method::get;
  std::string body; // sent with PATCH and POST (curl copies it, NULs too); its Content-Type goes in `headers`
  // Response header fields to copy into Response::headers (case-insensitive names), the last
  // value of each; others are not kept.
  std::vector<std::string> capture_headers;
};

struct Response {
  std::optional<long> status_code; // nullopt when no HTTP response arrived
  std::string body;
  std::optional<std::string> error; // transport/TLS/timeout/size error
  double duration_ms = 0;
  // What http::classify() needs: libcurl's code, the socket error behind it, the body cap.
  int curl_code = 0;      // CURLcode of the transfer (0: CURLE_OK)
  long os_errno = 0;      // CURLINFO_OS_ERRNO (ECONNREFUSED, EHOSTUNREACH, ...); 0 when none
  bool too_large = false; // the body exceeded Request::max_body
  // The fields of Request::capture_headers that the response carried: (name as asked, value).
  std::vector<std::pair<std::string, std::string>> headers;

  // The captured value of `name` (as given in capture_headers); nullopt when absent.
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
};

// What a Stream read or write could not do.
enum class StreamError {
  closed, // the peer closed the connection (a read of 0 bytes)
  failed, // a socket or TLS error
};

// A connection Client::connect opened (TCP, and TLS for https), on which the caller speaks a
// protocol of its own (a WebSocket, raw DERP) without blocking: send() and receive() move what
// the socket takes or has now. TLS, pinning, SNI and the CA store are the Client's. A Stream
// must be destroyed before the Client that made it.
class Stream {
public:
  struct Handle;
  explicit Stream(std::unique_ptr<Handle> handle);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // The socket to poll for readiness.
  [[nodiscard]] int socket() const;
  // Write a prefix of `bytes`; the count written (0: the socket is full, try when writable).
  [[nodiscard]] std::expected<std::size_t, StreamError> send(std::span<const std::uint8_t> bytes);
  // Read into `buffer`; the count read (0: nothing now, try when readable).
  [[nodiscard]] std::expected<std::size_t, StreamError> receive(std::span<std::uint8_t> buffer);

private:
  std::unique_ptr<Handle> m_handle;
};

// Socket readiness the caller's poll reported for a descriptor it was asked to watch.
struct WaitDescriptor {
  int fd = -1;
  short events = 0;
  short revents = 0;
};

class Client {
public:
  using Callback = std::function<void(Response)>;
  // `stream` is set when the connection is up; `response` then has no error. Otherwise `response`
  // says why (classified like any request: refused, timeout, tls, ...).
  using StreamCallback = std::function<void(Response response, std::unique_ptr<Stream> stream)>;

  // A client whose multi handle cannot be made (out of memory) fails each request at once with
  // CURLE_FAILED_INIT instead of throwing.
  Client();
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Start `request`; `done` runs from perform() when it finishes.
  void get(const Request& request, Callback done);
  // Open a connection to `request`'s URL (pinned, TLS verified as for get) and send nothing: the
  // caller speaks over the Stream `done` receives. HTTP/1.1 only, so TLS never negotiates h2
  // (an HTTP/1.1 upgrade cannot run over it). The request's timeout bounds the connect.
  void connect(const Request& request, StreamCallback done);
  // Wait up to `timeout` for curl's sockets or any of `extra` (whose revents are filled in).
  void poll(std::vector<WaitDescriptor>& extra, std::chrono::milliseconds timeout);
  // Advance transfers and run the callbacks of finished ones.
  void perform();
  // Time until curl wants perform() called even without socket activity.
  [[nodiscard]] std::optional<std::chrono::milliseconds> next_timeout() const;
  [[nodiscard]] std::size_t pending() const;

  // Run `request` alone to completion (connections stay open for the next one); nullopt when
  // `cancel` was set first, in which case every transfer of this client is dropped.
  [[nodiscard]] std::optional<Response> fetch(const Request& request, const std::atomic<bool>* cancel = nullptr);

private:
  struct State;
  std::unique_ptr<State> m_state;
};

} // namespace coder_dns_doctor::http
