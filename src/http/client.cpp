#include <coder_dns_doctor/http/ca_store.hpp>
#include <coder_dns_doctor/http/client.hpp>
#include <coder_dns_doctor/http/curl_handles.hpp>

#include <curl/curl.h>
#include <fmt/core.h>
#include <openssl/ssl.h>

#include <map>

namespace coder_dns_doctor::http {
namespace {


// One transfer in flight: its handle, the buffers curl writes into, and the caller's callback.
struct Transfer {
  EasyHandle easy;
  Slist connect_to;
  std::string body;
  std::size_t max_body = 0;
  bool body_too_large = false;
  char error_buffer[CURL_ERROR_SIZE] = {};
  Client::Callback done;
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

// Return "host:port" of `url` for CURLOPT_CONNECT_TO, read back from curl's own URL parser so
// the pin matches exactly what curl will connect to.
std::optional<std::string> host_and_port(const std::string& url) {
  CURLU* parsed = curl_url();
  std::optional<std::string> out;
  if (curl_url_set(parsed, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char* host = nullptr;
    char* port = nullptr;
    if (curl_url_get(parsed, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
      out = fmt::format("{}:{}", host, port);
    curl_free(host);
    curl_free(port);
  }
  curl_url_cleanup(parsed);
  return out;
}

// Give the connection's SSL_CTX the process-wide store instead of one curl would parse anew.
CURLcode on_ssl_context(CURL* /*easy*/, void* ssl_context, void* store) {
  SSL_CTX_set1_cert_store(static_cast<SSL_CTX*>(ssl_context), static_cast<X509_STORE*>(store));
  return CURLE_OK;
}

} // namespace

struct Client::State {
  CURLM* multi = nullptr;
  std::map<CURL*, std::unique_ptr<Transfer>> transfers;
};

Client::Client() : m_state(std::make_unique<State>()) {
  m_state->multi = curl_multi_init();
  if (m_state->multi == nullptr)
    throw std::runtime_error("curl_multi_init failed");
}

Client::~Client() {
  for (auto& [easy, transfer] : m_state->transfers)
    curl_multi_remove_handle(m_state->multi, easy);
  m_state->transfers.clear();
  curl_multi_cleanup(m_state->multi);
}

void Client::get(const Request& request, Callback done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->easy.reset(curl_easy_init());
  transfer->max_body = request.max_body;
  transfer->done = std::move(done);
  CURL* easy = transfer->easy.get();
  auto pinned = host_and_port(request.url);
  if (easy == nullptr || !pinned) {
    Response response;
    response.error = fmt::format("cannot prepare a request for '{}'", request.url);
    response.curl_code = CURLE_FAILED_INIT;
    transfer->done(std::move(response));
    return;
  }
  std::string target = request.connect_to.find(':') != std::string::npos ? "[" + request.connect_to + "]"
                                                                          : request.connect_to;
  // HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT; the port stays the URL's.
  std::string rule = fmt::format("{}:{}:{}", *pinned, target, pinned->substr(pinned->rfind(':') + 1));
  transfer->connect_to.reset(curl_slist_append(nullptr, rule.c_str()));

  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_CONNECT_TO, transfer->connect_to.get());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L); // a redirect is an answer to report, not to follow
  curl_easy_setopt(easy, CURLOPT_PROXY, "");          // never let *_proxy variables reroute a probe
  // Connections live no longer than this client (one cycle); a `fresh` request opens its own.
  curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, request.connection == Connection::fresh ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "coder-dns-doctor");
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error_buffer);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
  // curl loads no CA file of its own; on_ssl_context installs the shared, already parsed store.
  curl_easy_setopt(easy, CURLOPT_CAINFO, nullptr);
  curl_easy_setopt(easy, CURLOPT_CAPATH, nullptr);
  curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, on_ssl_context);
  curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, shared_ca_store(request.ca_file));
  curl_multi_add_handle(m_state->multi, easy);
  m_state->transfers.emplace(easy, std::move(transfer));
}

void Client::poll(std::vector<WaitDescriptor>& extra, std::chrono::milliseconds timeout) {
  std::vector<curl_waitfd> fds(extra.size());
  for (std::size_t i = 0; i < extra.size(); ++i)
    fds[i] = curl_waitfd{extra[i].fd, extra[i].events, 0};
  curl_multi_poll(m_state->multi, fds.data(), static_cast<unsigned>(fds.size()),
                  static_cast<int>(timeout.count()), nullptr);
  for (std::size_t i = 0; i < extra.size(); ++i)
    extra[i].revents = fds[i].revents;
}

void Client::perform() {
  int running = 0;
  curl_multi_perform(m_state->multi, &running);
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(m_state->multi, &queued)) {
    if (message->msg != CURLMSG_DONE)
      continue;
    CURL* easy = message->easy_handle;
    CURLcode result = message->data.result;
    auto found = m_state->transfers.find(easy);
    if (found == m_state->transfers.end())
      continue;
    std::unique_ptr<Transfer> transfer = std::move(found->second);
    m_state->transfers.erase(found);
    curl_multi_remove_handle(m_state->multi, easy);

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
    response.too_large = transfer->body_too_large;
    if (transfer->body_too_large)
      response.error = fmt::format("response body larger than {} bytes", transfer->max_body);
    else if (result != CURLE_OK)
      response.error = transfer->error_buffer[0] != '\0' ? std::string(transfer->error_buffer)
                                                         : std::string(curl_easy_strerror(result));
    response.body = std::move(transfer->body);
    transfer->done(std::move(response));
  }
}

std::optional<std::chrono::milliseconds> Client::next_timeout() const {
  long ms = -1;
  curl_multi_timeout(m_state->multi, &ms);
  if (ms < 0)
    return std::nullopt;
  return std::chrono::milliseconds(ms);
}

std::size_t Client::pending() const { return m_state->transfers.size(); }

} // namespace coder_dns_doctor::http
