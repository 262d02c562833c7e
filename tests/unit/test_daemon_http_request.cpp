// The listener's request reading: where a head ends, what a request line may be, which status a
// bad one gets, and when gzip is accepted.
#include <coder_dns_doctor/daemon/http_request.hpp>

#include <doctest/doctest.h>

using namespace coder_dns_doctor::daemon;

TEST_SUITE("daemon_http_request") {
  TEST_CASE("the head ends at the first blank line, CRLF or bare LF") {
    CHECK_FALSE(head_end("GET / HTTP/1.1\r\nHost: a\r\n").has_value());
    CHECK(head_end("GET / HTTP/1.1\r\nHost: a\r\n\r\n") == 27U);
    CHECK(head_end("GET / HTTP/1.1\nHost: a\n\nrest") == 24U);
    CHECK(head_end("GET / HTTP/1.1\r\n\r\nGET /x HTTP/1.1\n\n") == 18U);
  }

  TEST_CASE("a GET with its headers") {
    auto request = parse_request("GET /metrics?x=1 HTTP/1.1\r\nHost: h\r\naccept: text/plain\r\n"
                                 "ACCEPT-ENCODING:  gzip, br \r\n\r\n");
    REQUIRE(request.has_value());
    CHECK(request->method == "GET");
    CHECK(request->path == "/metrics");
    CHECK(request->accept == "text/plain");
    CHECK(request->accept_encoding == "gzip, br");
  }

  TEST_CASE("the path is percent-decoded; a bad escape is a 400") {
    CHECK(parse_request("GET /%6Detrics HTTP/1.0\r\n\r\n")->path == "/metrics");
    CHECK(parse_request("GET /a%2 HTTP/1.1\r\n\r\n").error() == 400);
    CHECK(parse_request("GET /a%zz HTTP/1.1\r\n\r\n").error() == 400);
    CHECK(parse_request("GET /a%00b HTTP/1.1\r\n\r\n").error() == 400);
    CHECK(parse_request("GET /a%0Ab HTTP/1.1\r\n\r\n").error() == 400);
    CHECK(parse_request(std::string_view("GET /a\0b HTTP/1.1\r\n\r\n", 22)).error() == 400);
  }

  TEST_CASE("what is not an origin-form HTTP/1.x request line") {
    CHECK(parse_request("GET\r\n\r\n").error() == 400);
    CHECK(parse_request("GET /\r\n\r\n").error() == 400);
    CHECK(parse_request("GET http://example.test/ HTTP/1.1\r\n\r\n").error() == 400);
    CHECK(parse_request("G(T / HTTP/1.1\r\n\r\n").error() == 400);
    CHECK(parse_request("GET / SMTP/1.0\r\n\r\n").error() == 400);
    CHECK(parse_request("GET / HTTP/2.0\r\n\r\n").error() == 505);
    CHECK(parse_request("GET / HTTP/1.1\r\nno colon here\r\n\r\n").error() == 400);
    CHECK(parse_request("GET / HTTP/1.1\r\n: empty name\r\n\r\n").error() == 400);
  }

  TEST_CASE("other methods parse; the listener answers them 405") {
    auto request = parse_request("POST /report HTTP/1.1\r\nContent-Length: 3\r\n\r\n");
    REQUIRE(request.has_value());
    CHECK(request->method == "POST");
  }

  TEST_CASE("gzip is accepted by name or by *, unless its q is 0") {
    CHECK(accepts_gzip("gzip"));
    CHECK(accepts_gzip("br, GZIP;q=0.5"));
    CHECK(accepts_gzip("*"));
    CHECK(accepts_gzip("identity, gzip;q=1.0"));
    CHECK_FALSE(accepts_gzip(""));
    CHECK_FALSE(accepts_gzip("br, deflate"));
    CHECK_FALSE(accepts_gzip("gzip;q=0"));
    CHECK_FALSE(accepts_gzip("gzip;q=0.000"));
    CHECK_FALSE(accepts_gzip("x-gzip-not"));
  }
}
