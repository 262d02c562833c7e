#include <coder_dns_doctor/k8s/client.hpp>
#include <coder_dns_doctor/http/curl_handles.hpp>

#include <coder_dns_doctor/util/bounded_read.hpp>
#include <coder_dns_doctor/util/strings.hpp>

#include <curl/curl.h>
#include <fmt/core.h>

#include <algorithm>
#include <cctype>

namespace coder_dns_doctor::k8s {
namespace {

constexpr std::size_t k_max_token_bytes = 64 * 1024;
constexpr std::size_t k_max_detail = 300;

using http::EasyHandle;
using http::Slist;

struct Sink {
  std::string body;
  std::size_t max_body = 0;
  bool too_large = false;
  const std::atomic<bool>* cancel = nullptr;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  std::size_t bytes = size * count;
  if (sink->body.size() + bytes > sink->max_body) {
    sink->too_large = true;
    return 0; // aborts the transfer with CURLE_WRITE_ERROR
  }
  sink->body.append(data, bytes);
  return bytes;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* sink = static_cast<Sink*>(user);
  return sink->cancel != nullptr && sink->cancel->load() ? 1 : 0;
}

// Keep messages one line and short: a Status message or a curl error, never a body dump.
std::string clip(std::string_view text) {
  std::string out;
  for (char c : text)
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (out.size() > k_max_detail)
    out = out.substr(0, k_max_detail) + "...";
  return out;
}

// Wipe a copy of a credential before its memory is released.
void wipe(std::string& secret) {
  std::fill(secret.begin(), secret.end(), '\0');
  secret.clear();
}

// Read the bearer token; the caller never prints it, and no message holds any of its bytes.
std::expected<std::string, std::string> read_token(const std::string& path) {
  auto read = util::read_bounded(path, k_max_token_bytes);
  if (!read) {
    if (read.error().problem == util::FileProblem::too_large)
      return std::unexpected(fmt::format("the token file {} is larger than {} bytes", path, k_max_token_bytes));
    return std::unexpected(fmt::format("cannot read the token file: {}", read.error().message));
  }
  std::string token = std::move(*read);
  std::string_view trimmed = util::trim(token);
  std::string problem;
  if (trimmed.empty())
    problem = fmt::format("the token file {} is empty", path);
  else if (std::any_of(trimmed.begin(), trimmed.end(),
                       [](char c) { return std::iscntrl(static_cast<unsigned char>(c)) != 0; }))
    problem = fmt::format("the token file {} holds control characters", path);
  std::string result = problem.empty() ? std::string(trimmed) : std::string();
  wipe(token);
  if (!problem.empty())
    return std::unexpected(problem);
  return result;
}

// Read the API server's CA bundle for this request (like the token, so a replaced file is used at
// once); the bytes are handed to curl in memory, so curl never opens the file itself.
std::expected<std::string, std::string> read_ca_file(const std::string& path) {
  auto read = util::read_bounded(path, util::k_config_file_limit);
  if (!read)
    return std::unexpected(fmt::format("cannot read the CA file: {}", read.error().message));
  return std::move(*read);
}

// The message of a Kubernetes Status object, when the body is one.
std::string status_message(const std::string& body) {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("message") && parsed["message"].is_string())
    return clip(parsed["message"].get<std::string>());
  return {};
}

ErrorKind kind_of_status(long status) {
  if (status == 401)
    return ErrorKind::unauthorized;
  if (status == 403)
    return ErrorKind::forbidden;
  if (status == 404)
    return ErrorKind::not_found;
  if (status >= 500)
    return ErrorKind::server_error;
  return ErrorKind::http_error;
}

} // namespace

std::string Access::describe() const {
  std::string what = name.empty() ? fmt::format("{} {}", verb, resource) : fmt::format("{} {} \"{}\"", verb, resource, name);
  if (!group.empty())
    what += fmt::format(" (API group {})", group);
  return namespace_.empty() ? what + " (cluster-wide)" : fmt::format("{} in namespace {}", what, namespace_);
}

std::string Access::rule() const {
  return fmt::format("apiGroups: [\"{}\"], resources: [\"{}\"], verbs: [\"{}\"]", group, resource, verb);
}

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
  case ErrorKind::credentials: return "credentials";
  case ErrorKind::unauthorized: return "unauthorized";
  case ErrorKind::forbidden: return "forbidden";
  case ErrorKind::not_found: return "not_found";
  case ErrorKind::server_error: return "server_error";
  case ErrorKind::http_error: return "http_error";
  case ErrorKind::malformed: return "malformed";
  case ErrorKind::too_large: return "too_large";
  case ErrorKind::timeout: return "timeout";
  case ErrorKind::transport: return "transport";
  case ErrorKind::skipped: return "skipped";
  }
  return "transport";
}

std::string ApiError::describe() const {
  std::string what = access.describe();
  std::string server = detail.empty() ? std::string() : fmt::format(" (server: {})", detail);
  switch (kind) {
  case ErrorKind::credentials: return fmt::format("{}: {}", what, detail);
  case ErrorKind::unauthorized:
    return fmt::format("{}: HTTP 401 Unauthorized: the API server rejects the bearer token (missing, expired or not "
                       "trusted){}", what, server);
  case ErrorKind::forbidden:
    return fmt::format("{}: HTTP 403 Forbidden: the service account may not {} {}; its Role/ClusterRole needs the "
                       "rule {{{}}}{}{}",
                       what, access.verb, access.resource, access.rule(),
                       access.namespace_.empty() ? " in a ClusterRole" : " in namespace " + access.namespace_, server);
  case ErrorKind::not_found: return fmt::format("{}: HTTP 404 Not Found{}", what, server);
  case ErrorKind::server_error:
  case ErrorKind::http_error:
    return fmt::format("{}: HTTP {}{}", what, status_code.value_or(0), server);
  case ErrorKind::malformed: return fmt::format("{}: the answer is not a Kubernetes JSON object ({})", what, detail);
  case ErrorKind::too_large: return fmt::format("{}: {}", what, detail);
  case ErrorKind::timeout: return fmt::format("{}: no answer in time ({})", what, detail);
  case ErrorKind::transport: return fmt::format("{}: cannot reach the API server ({})", what, detail);
  case ErrorKind::skipped: return fmt::format("{}: not asked ({})", what, detail);
  }
  return what;
}

struct Client::State {
  EasyHandle easy;
  std::optional<ApiError> unreachable; // the first timeout/transport failure
};

Client::Client(Connection connection, const std::atomic<bool>* cancel)
    : m_connection(std::move(connection)), m_cancel(cancel), m_state(std::make_unique<State>()) {
  while (!m_connection.base_url.empty() && m_connection.base_url.back() == '/')
    m_connection.base_url.pop_back();
}

Client::~Client() = default;

std::expected<nlohmann::json, ApiError> Client::get(const std::string& path, const Access& access) {
  ApiError error{.kind = ErrorKind::transport, .access = access, .status_code = std::nullopt, .detail = {}};
  if (m_state->unreachable) {
    error.kind = ErrorKind::skipped;
    error.detail = fmt::format("the API server at {} did not answer an earlier request", m_connection.base_url);
    return std::unexpected(error);
  }
  if (m_cancel != nullptr && m_cancel->load()) {
    error.kind = ErrorKind::skipped;
    error.detail = "the check was cancelled";
    return std::unexpected(error);
  }

  // The CA bundle matters only when curl verifies an https server; it is read as the token is.
  std::string ca_bundle;
  bool use_ca_bundle = !m_connection.ca_file.empty() && m_connection.verify == Connection::Verify::yes &&
                       m_connection.base_url.starts_with("https://");
  if (use_ca_bundle) {
    auto bundle = read_ca_file(m_connection.ca_file);
    if (!bundle) {
      error.kind = ErrorKind::credentials;
      error.detail = bundle.error();
      return std::unexpected(error);
    }
    ca_bundle = std::move(*bundle);
  }

  Slist headers(curl_slist_append(nullptr, "Accept: application/json"));
  if (!m_connection.token_file.empty()) {
    auto token = read_token(m_connection.token_file);
    if (!token) {
      error.kind = ErrorKind::credentials;
      error.detail = token.error();
      return std::unexpected(error);
    }
    std::string header = "Authorization: Bearer " + *token;
    curl_slist* appended = curl_slist_append(headers.get(), header.c_str());
    // wipe our copies of the credential as soon as curl holds its own
    wipe(header);
    wipe(*token);
    if (appended == nullptr) {
      error.detail = "out of memory";
      return std::unexpected(error);
    }
  }

  if (!m_state->easy)
    m_state->easy.reset(curl_easy_init()); // one handle: its connection is reused across requests
  CURL* easy = m_state->easy.get();
  if (easy == nullptr) {
    error.detail = "curl_easy_init failed";
    return std::unexpected(error);
  }
  Sink sink{.body = {}, .max_body = m_connection.max_body, .too_large = false, .cancel = m_cancel};
  char error_buffer[CURL_ERROR_SIZE] = {};
  std::string url = m_connection.base_url + path;
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(m_connection.timeout.count()));
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_connection.timeout.count()));
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_PROXY, ""); // the API server is dialled directly
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "coder-dns-doctor");
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(easy, CURLOPT_XFERINFODATA, &sink);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(m_connection.max_body));
  // curl copies the bundle (CURL_BLOB_COPY) and parses it instead of opening ca_file itself, so a
  // FIFO or a device given as the CA file cannot block it; CURLOPT_CAPATH keeps its default, as it
  // did with CURLOPT_CAINFO.
  curl_blob ca_blob{.data = ca_bundle.data(), .len = ca_bundle.size(), .flags = CURL_BLOB_COPY};
  curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, use_ca_bundle ? &ca_blob : nullptr);
  long verify = m_connection.verify == Connection::Verify::yes ? 1L : 0L;
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, verify);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, verify * 2);

  CURLcode result = curl_easy_perform(easy);
  // curl keeps the pointers until the next request; drop them now that this one is over
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, nullptr);
  headers.reset();

  if (result != CURLE_OK) {
    std::string message = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(result);
    if (sink.too_large || result == CURLE_FILESIZE_EXCEEDED) {
      error.kind = ErrorKind::too_large;
      error.detail = fmt::format("the answer is larger than {} bytes", m_connection.max_body);
      return std::unexpected(error);
    }
    if (result == CURLE_ABORTED_BY_CALLBACK) {
      error.kind = ErrorKind::skipped;
      error.detail = "the check was cancelled";
      return std::unexpected(error);
    }
    error.kind = result == CURLE_OPERATION_TIMEDOUT ? ErrorKind::timeout : ErrorKind::transport;
    error.detail = clip(fmt::format("{}: {}", m_connection.base_url, message));
    m_state->unreachable = error;
    m_state->easy.reset(); // never reuse a connection in an unknown state
    return std::unexpected(error);
  }
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) {
    error.kind = kind_of_status(status);
    error.status_code = status;
    error.detail = status_message(sink.body);
    return std::unexpected(error);
  }
  auto parsed = nlohmann::json::parse(sink.body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    error.kind = ErrorKind::malformed;
    error.status_code = status;
    error.detail = parsed.is_discarded() ? fmt::format("{} bytes that do not parse as JSON", sink.body.size())
                                         : "JSON that is not an object";
    return std::unexpected(error);
  }
  return parsed;
}

std::string url_encode(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~')
      out += c;
    else
      out += fmt::format("%{:02X}", u);
  }
  return out;
}

} // namespace coder_dns_doctor::k8s
