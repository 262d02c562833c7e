#include <coder_dns_doctor/http/status.hpp>

#include <curl/curl.h>

#include <cerrno>

namespace coder_dns_doctor::http {

std::string_view to_string(Status status) {
  switch (status) {
  case Status::ok: return "ok";
  case Status::http_error: return "http_error";
  case Status::body_mismatch: return "body_mismatch";
  case Status::timeout: return "timeout";
  case Status::refused: return "refused";
  case Status::unreachable: return "unreachable";
  case Status::tls: return "tls";
  case Status::too_large: return "too_large";
  case Status::not_sent: return "not_sent";
  case Status::error: return "error";
  }
  return "error";
}

namespace {

// libcurl 7.88 reports every failed connect as CURLE_COULDNT_CONNECT; the errno tells them apart.
Status classify_connect(long os_errno) {
  switch (os_errno) {
  case ECONNREFUSED: return Status::refused;
  case ETIMEDOUT: return Status::timeout;
  default: return Status::unreachable; // EHOSTUNREACH, ENETUNREACH, ENETDOWN, EHOSTDOWN, ...
  }
}

Status classify_curl(CURLcode code, long os_errno) {
  switch (code) {
  case CURLE_OPERATION_TIMEDOUT: return Status::timeout;
  case CURLE_COULDNT_CONNECT: return classify_connect(os_errno);
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CLIENTCERT:
  case CURLE_USE_SSL_FAILED: return Status::tls;
  default: return Status::error;
  }
}

} // namespace

Status classify(const Outcome& outcome) {
  if (outcome.too_large)
    return Status::too_large; // curl says CURLE_WRITE_ERROR: the cap is the reason
  auto code = static_cast<CURLcode>(outcome.curl_code);
  if (code != CURLE_OK)
    return classify_curl(code, outcome.os_errno); // even after a status line: the answer is incomplete
  if (!outcome.http_code)
    return Status::error;
  if (*outcome.http_code != 200)
    return Status::http_error;
  return outcome.body_matches ? Status::ok : Status::body_mismatch;
}

} // namespace coder_dns_doctor::http
