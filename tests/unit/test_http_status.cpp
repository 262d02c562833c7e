// http::classify: the one table from (CURLcode, errno, HTTP code, body check, body cap) to a status.
#include <coder_dns_doctor/http/status.hpp>

#include <doctest/doctest.h>

#include <curl/curl.h>

#include <cerrno>
#include <set>
#include <string>

using namespace coder_dns_doctor;
using http::Status;

namespace {

http::Outcome transport(CURLcode code, long os_errno = 0) {
  return {.curl_code = code, .os_errno = os_errno};
}
http::Outcome answer(long http_code, bool body_matches = true) {
  return {.curl_code = CURLE_OK, .http_code = http_code, .body_matches = body_matches};
}

} // namespace

TEST_SUITE("http::Status") {
  TEST_CASE("names are the contract's") {
    CHECK(http::to_string(Status::ok) == "ok");
    CHECK(http::to_string(Status::http_error) == "http_error");
    CHECK(http::to_string(Status::body_mismatch) == "body_mismatch");
    CHECK(http::to_string(Status::timeout) == "timeout");
    CHECK(http::to_string(Status::refused) == "refused");
    CHECK(http::to_string(Status::unreachable) == "unreachable");
    CHECK(http::to_string(Status::tls) == "tls");
    CHECK(http::to_string(Status::too_large) == "too_large");
    CHECK(http::to_string(Status::not_sent) == "not_sent");
    CHECK(http::to_string(Status::error) == "error");
    std::set<std::string_view> names;
    for (int s = 0; s <= static_cast<int>(Status::error); ++s)
      CHECK(names.insert(http::to_string(static_cast<Status>(s))).second);
  }

  TEST_CASE("an answer: 200 with the right body is ok, any other code an http_error, a wrong body a mismatch") {
    CHECK(http::classify(answer(200)) == Status::ok);
    CHECK(http::classify(answer(200, false)) == Status::body_mismatch);
    CHECK(http::classify(answer(500)) == Status::http_error);
    CHECK(http::classify(answer(503, false)) == Status::http_error); // the code decides before the body
    CHECK(http::classify(answer(302)) == Status::http_error);        // redirects are never followed
    CHECK(http::classify(answer(404)) == Status::http_error);
    CHECK(http::classify(answer(204)) == Status::http_error);        // not what the probe asked for
    CHECK(http::classify({.curl_code = CURLE_OK}) == Status::error); // no status line at all
  }

  TEST_CASE("a failed connect is split by errno") {
    CHECK(http::classify(transport(CURLE_COULDNT_CONNECT, ECONNREFUSED)) == Status::refused);
    CHECK(http::classify(transport(CURLE_COULDNT_CONNECT, EHOSTUNREACH)) == Status::unreachable);
    CHECK(http::classify(transport(CURLE_COULDNT_CONNECT, ENETUNREACH)) == Status::unreachable);
    CHECK(http::classify(transport(CURLE_COULDNT_CONNECT, ENETDOWN)) == Status::unreachable);
    CHECK(http::classify(transport(CURLE_COULDNT_CONNECT, ETIMEDOUT)) == Status::timeout);
    CHECK(http::classify(transport(CURLE_COULDNT_CONNECT, 0)) == Status::unreachable);
  }

  TEST_CASE("timeouts, TLS, the body cap and everything else") {
    CHECK(http::classify(transport(CURLE_OPERATION_TIMEDOUT)) == Status::timeout);
    CHECK(http::classify(transport(CURLE_OPERATION_TIMEDOUT, ETIMEDOUT)) == Status::timeout);
    for (CURLcode code : {CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM,
                          CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR,
                          CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT}) {
      CAPTURE(code);
      CHECK(http::classify(transport(code)) == Status::tls);
    }
    http::Outcome capped = transport(CURLE_WRITE_ERROR);
    capped.too_large = true;
    capped.http_code = 200;
    CHECK(http::classify(capped) == Status::too_large);
    CHECK(http::classify(transport(CURLE_WRITE_ERROR)) == Status::error); // a write error without the cap
    for (CURLcode code : {CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_WEIRD_SERVER_REPLY,
                          CURLE_COULDNT_RESOLVE_HOST, CURLE_FAILED_INIT, CURLE_URL_MALFORMAT}) {
      CAPTURE(code);
      CHECK(http::classify(transport(code)) == Status::error);
    }
  }

  TEST_CASE("a transport failure after the status line wins over the HTTP code") {
    http::Outcome slow = transport(CURLE_OPERATION_TIMEDOUT);
    slow.http_code = 200; // 200 arrived, the body did not
    CHECK(http::classify(slow) == Status::timeout);
    http::Outcome reset = transport(CURLE_RECV_ERROR, ECONNRESET);
    reset.http_code = 503;
    CHECK(http::classify(reset) == Status::error);
  }
}
