#include <coder_dns_doctor/http/ca_store.hpp>
#include <coder_dns_doctor/http/client.hpp>
#include <coder_dns_doctor/http/curl_handles.hpp>

#include <curl/curl.h>
#include <fmt/core.h>
#include <openssl/ssl.h>
#include <poll.h>

#include <algorithm>
#include <map>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::http {
namespace {

constexpr std::chrono::milliseconds k_fetch_poll{100}; // how often fetch() looks at `cancel`

// One transfer in flight: its handle, the buffers curl writes into, and the caller's callback.
struct Transfer {
  EasyHandle easy;
  Slist connect_to;
  Slist headers;
  std::string body;
  std::size_t max_body = 0;
  bool body_too_large = false;
  char error_buffer[CURL_ERROR_SIZE] = {};
  std::vector<std::string> capture_headers;
  Client::Callback done;
  Client::StreamCallback stream_done; // set for Client::connect: a connect-only transfer
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::size_t bytes = size * count;
  if (transfer->body.size() + bytes > transfer->max_body) {
    transfer->body_too_large = true;
    return 0; // aborts the transfer with CURLE_WRITE_ERROR
  }
  transfer->body.append(data, bytes);
  return bytes;
}

struct HostPort {
  std::string host; // as curl writes it in CONNECT_TO rules (an IPv6 literal in brackets)
  std::string port;
};

// Return the host and port of `url` for CURLOPT_CONNECT_TO, read back from curl's own URL parser
// so the pin matches exactly what curl will connect to.
std::optional<HostPort> host_and_port(const std::string& url) {
  UrlHandle parsed(curl_url());
  if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    return std::nullopt;
  char* host = nullptr;
  char* port = nullptr;
  bool got = curl_url_get(parsed.get(), CURLUPART_HOST, &host, 0) == CURLUE_OK &&
             curl_url_get(parsed.get(), CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK;
  CurlText host_text(host);
  CurlText port_text(port);
  if (!got)
    return std::nullopt;
  return HostPort{host, port};
}

// The CONNECT_TO rule HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT pinning `url` to `address`; the
// port stays the URL's. nullopt when curl cannot parse the URL.
std::optional<std::string> pin_rule(const std::string& url, const util::IpAddress& address) {
  auto pinned = host_and_port(url);
  if (!pinned)
    return std::nullopt;
  std::string target = address.is_v6() ? "[" + address.text + "]" : address.text;
  return fmt::format("{}:{}:{}:{}", pinned->host, pinned->port, target, pinned->port);
}

// Give the connection's SSL_CTX the process-wide store instead of one curl would parse anew.
CURLcode on_ssl_context(CURL* /*easy*/, void* ssl_context, void* store) {
  SSL_CTX_set1_cert_store(static_cast<SSL_CTX*>(ssl_context), static_cast<X509_STORE*>(store));
  return CURLE_OK;
}

// Fill `transfer`'s pin and header lists from `request`; false when one cannot be built.
bool build_lists(const Request& request, Transfer& transfer) {
  if (request.connect_to) {
    auto rule = pin_rule(request.url, *request.connect_to);
    if (!rule)
      return false;
    transfer.connect_to.reset(curl_slist_append(nullptr, rule->c_str()));
    if (!transfer.connect_to)
      return false;
  }
  std::vector<std::string_view> headers(request.headers.begin(), request.headers.end());
  if (request.method == Method::patch || request.method == Method::post)
    headers.emplace_back("Expect:"); // curl would wait up to 1 s for a 100 Continue before a large body
  for (std::string_view header : headers) {
    curl_slist* appended = curl_slist_append(transfer.headers.get(), std::string(header).c_str());
    if (appended == nullptr)
      return false;
    if (!transfer.headers)
      transfer.headers.reset(appended);
  }
  return true;
}

// The options every request of the program gets.
void set_options(const Request& request, Transfer& transfer) {
  CURL* easy = transfer.easy.get();
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_CONNECT_TO, transfer.connect_to.get());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer.headers.get());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L); // a redirect is an answer to report, not to follow
  curl_easy_setopt(easy, CURLOPT_PROXY, "");          // never let *_proxy variables reroute a request
  // A `fresh` request opens its own connection; `reuse` may take one this client left open.
  curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, request.connection == Connection::fresh ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "coder-dns-doctor");
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_body));
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer.error_buffer);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, &transfer);
  // curl loads no CA file of its own; on_ssl_context installs the shared, already parsed store.
  curl_easy_setopt(easy, CURLOPT_CAINFO, nullptr);
  curl_easy_setopt(easy, CURLOPT_CAPATH, nullptr);
  curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, on_ssl_context);
  curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, shared_ca_store(request.ca_file));
  long verify = request.verify == Verify::yes ? 1L : 0L;
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, verify);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, verify * 2);
  if (request.method == Method::head)
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  if (request.method == Method::patch || request.method == Method::post) {
    // The size first, so COPYPOSTFIELDS copies that many bytes: a tar body may hold NULs.
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, request.body.data());
    if (request.method == Method::patch)
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "PATCH");
  }
  if (transfer.stream_done) {
    curl_easy_setopt(easy, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  }
}

// Copy the response fields the request asked for (the last response's, the last value of each).
void capture(CURL* easy, const Transfer& transfer, Response& response) {
  for (const auto& name : transfer.capture_headers) {
    curl_header* field = nullptr;
    std::size_t amount = 0;
    if (curl_easy_header(easy, name.c_str(), 0, CURLH_HEADER, -1, &field) != CURLHE_OK || field == nullptr)
      continue;
    amount = field->amount;
    if (amount > 1 && curl_easy_header(easy, name.c_str(), amount - 1, CURLH_HEADER, -1, &field) != CURLHE_OK)
      continue;
    response.headers.emplace_back(name, field->value);
  }
}

// The response of a finished transfer: what curl and the server said, for http::classify().
Response finished(CURL* easy, CURLcode result, Transfer& transfer) {
  Response response;
  long code = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
  if (code != 0)
    response.status_code = code;
  curl_off_t total_us = 0;
  curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us);
  response.duration_ms = static_cast<double>(total_us) / 1000.0;
  response.curl_code = result;
  long os_errno = 0;
  curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
  response.os_errno = os_errno;
  // the sink's cap, or curl's own when the server announced a larger Content-Length
  response.too_large = transfer.body_too_large || result == CURLE_FILESIZE_EXCEEDED;
  if (response.too_large)
    response.error = fmt::format("response body larger than {} bytes", transfer.max_body);
  else if (result != CURLE_OK)
    response.error =
        transfer.error_buffer[0] != '\0' ? std::string(transfer.error_buffer) : std::string(curl_easy_strerror(result));
  response.body = std::move(transfer.body);
  capture(easy, transfer, response);
  return response;
}

} // namespace

std::optional<std::string> Response::header(std::string_view name) const {
  for (const auto& [field, value] : headers)
    if (field == name)
      return value;
  return std::nullopt;
}

// A finished connect-only transfer. Its easy handle stays in the multi handle: removing it would
// make libcurl close the connection it holds for curl_easy_send/recv.
struct Stream::Handle {
  CURLM* multi = nullptr;
  std::unique_ptr<Transfer> transfer;
  curl_socket_t socket = CURL_SOCKET_BAD;

  ~Handle() {
    if (multi != nullptr && transfer)
      curl_multi_remove_handle(multi, transfer->easy.get());
  }
};

Stream::Stream(std::unique_ptr<Handle> handle) : m_handle(std::move(handle)) {}
Stream::~Stream() = default;

int Stream::socket() const {
  return static_cast<int>(m_handle->socket);
}

std::expected<std::size_t, StreamError> Stream::send(std::span<const std::uint8_t> bytes) {
  std::size_t sent = 0;
  CURLcode code = curl_easy_send(m_handle->transfer->easy.get(), bytes.data(), bytes.size(), &sent);
  if (code == CURLE_AGAIN)
    return 0;
  if (code != CURLE_OK)
    return std::unexpected(StreamError::failed);
  return sent;
}

std::expected<std::size_t, StreamError> Stream::receive(std::span<std::uint8_t> buffer) {
  std::size_t got = 0;
  CURLcode code = curl_easy_recv(m_handle->transfer->easy.get(), buffer.data(), buffer.size(), &got);
  if (code == CURLE_AGAIN)
    return 0;
  if (code != CURLE_OK)
    return std::unexpected(StreamError::failed);
  if (got == 0)
    return std::unexpected(StreamError::closed);
  return got;
}

struct Client::State {
  // Made on the first request, not with the client: a cycle that makes no HTTP request (DNS-only
  // checks) then costs no multi handle and no wake-up socket pair.
  MultiHandle multi;
  bool multi_failed = false; // curl_multi_init failed: every request fails with CURLE_FAILED_INIT
  std::map<CURL*, std::unique_ptr<Transfer>> transfers;

  void start(const Request& request, std::unique_ptr<Transfer> transfer) {
    if (!multi && !multi_failed) {
      multi.reset(curl_multi_init());
      multi_failed = !multi;
    }
    transfer->easy.reset(curl_easy_init());
    transfer->max_body = request.max_body;
    transfer->capture_headers = request.capture_headers;
    if (!multi || !transfer->easy || !build_lists(request, *transfer)) {
      Response response;
      response.error = fmt::format("cannot prepare a request for '{}'", request.url);
      response.curl_code = CURLE_FAILED_INIT;
      finish(std::move(transfer), std::move(response), false);
      return;
    }
    set_options(request, *transfer);
    CURL* easy = transfer->easy.get();
    curl_multi_add_handle(multi.get(), easy);
    transfers.emplace(easy, std::move(transfer));
  }

  // Hand a finished transfer's outcome to its callback; a connected connect-only transfer becomes
  // a Stream (its handle stays in the multi handle), any other leaves the multi handle.
  void finish(std::unique_ptr<Transfer> transfer, Response response, bool in_multi) {
    CURL* easy = transfer->easy.get();
    if (transfer->stream_done) {
      auto done = std::move(transfer->stream_done);
      curl_socket_t socket = CURL_SOCKET_BAD;
      if (in_multi && response.curl_code == CURLE_OK)
        curl_easy_getinfo(easy, CURLINFO_ACTIVESOCKET, &socket);
      if (socket == CURL_SOCKET_BAD) {
        if (in_multi)
          curl_multi_remove_handle(multi.get(), easy);
        if (!response.error && response.curl_code == CURLE_OK) {
          response.curl_code = CURLE_COULDNT_CONNECT;
          response.error = "connected, but libcurl gave no socket";
        }
        done(std::move(response), nullptr);
        return;
      }
      auto handle = std::make_unique<Stream::Handle>();
      handle->multi = multi.get();
      handle->transfer = std::move(transfer);
      handle->socket = socket;
      done(std::move(response), std::make_unique<Stream>(std::move(handle)));
      return;
    }
    if (in_multi)
      curl_multi_remove_handle(multi.get(), easy);
    transfer->done(std::move(response));
  }

  // Abandon every transfer in flight: no callback runs for them.
  void drop_transfers() {
    for (auto& [easy, transfer] : transfers)
      curl_multi_remove_handle(multi.get(), easy);
    transfers.clear();
  }
};

Client::Client() : m_state(std::make_unique<State>()) {}

Client::~Client() {
  m_state->drop_transfers();
}

void Client::get(const Request& request, Callback done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->done = std::move(done);
  m_state->start(request, std::move(transfer));
}

void Client::connect(const Request& request, StreamCallback done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->stream_done = std::move(done);
  m_state->start(request, std::move(transfer));
}

namespace {

// Without a multi handle (no request made yet) the wait is a plain poll(2) of `extra`, with
// revents reported as curl_multi_poll reports them: only CURL_WAIT_POLLIN/POLLPRI/POLLOUT.
void poll_without_curl(std::vector<WaitDescriptor>& extra, std::chrono::milliseconds timeout) {
  std::vector<pollfd> fds(extra.size());
  for (std::size_t i = 0; i < extra.size(); ++i) {
    short events = 0;
    events |= (extra[i].events & CURL_WAIT_POLLIN) != 0 ? POLLIN : 0;
    events |= (extra[i].events & CURL_WAIT_POLLPRI) != 0 ? POLLPRI : 0;
    events |= (extra[i].events & CURL_WAIT_POLLOUT) != 0 ? POLLOUT : 0;
    fds[i] = pollfd{extra[i].fd, events, 0};
  }
  ::poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
  for (std::size_t i = 0; i < extra.size(); ++i) {
    short revents = 0;
    revents |= (fds[i].revents & POLLIN) != 0 ? CURL_WAIT_POLLIN : 0;
    revents |= (fds[i].revents & POLLPRI) != 0 ? CURL_WAIT_POLLPRI : 0;
    revents |= (fds[i].revents & POLLOUT) != 0 ? CURL_WAIT_POLLOUT : 0;
    extra[i].revents = revents;
  }
}

} // namespace

void Client::poll(std::vector<WaitDescriptor>& extra, std::chrono::milliseconds timeout) {
  if (!m_state->multi) {
    poll_without_curl(extra, timeout);
    return;
  }
  std::vector<curl_waitfd> fds(extra.size());
  for (std::size_t i = 0; i < extra.size(); ++i)
    fds[i] = curl_waitfd{extra[i].fd, extra[i].events, 0};
  curl_multi_poll(m_state->multi.get(), fds.data(), static_cast<unsigned>(fds.size()),
                  static_cast<int>(timeout.count()), nullptr);
  for (std::size_t i = 0; i < extra.size(); ++i)
    extra[i].revents = fds[i].revents;
}

void Client::perform() {
  if (!m_state->multi)
    return;
  int running = 0;
  curl_multi_perform(m_state->multi.get(), &running);
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(m_state->multi.get(), &queued)) {
    if (message->msg != CURLMSG_DONE)
      continue;
    CURL* easy = message->easy_handle;
    CURLcode result = message->data.result;
    auto found = m_state->transfers.find(easy);
    if (found == m_state->transfers.end())
      continue;
    std::unique_ptr<Transfer> transfer = std::move(found->second);
    m_state->transfers.erase(found);
    Response response = finished(easy, result, *transfer);
    m_state->finish(std::move(transfer), std::move(response), true);
  }
}

std::optional<std::chrono::milliseconds> Client::next_timeout() const {
  long ms = -1;
  if (m_state->multi)
    curl_multi_timeout(m_state->multi.get(), &ms);
  if (ms < 0)
    return std::nullopt;
  return std::chrono::milliseconds(ms);
}

std::size_t Client::pending() const {
  return m_state->transfers.size();
}

std::optional<Response> Client::fetch(const Request& request, const std::atomic<bool>* cancel) {
  std::optional<Response> result;
  get(request, [&result](Response response) { result = std::move(response); });
  std::vector<WaitDescriptor> none;
  while (!result) {
    if (cancel != nullptr && cancel->load()) {
      m_state->drop_transfers();
      return std::nullopt;
    }
    perform();
    if (result)
      break;
    poll(none, std::min(next_timeout().value_or(k_fetch_poll), k_fetch_poll));
  }
  return result;
}

} // namespace coder_dns_doctor::http
