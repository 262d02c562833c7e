// The judging of the agent's HTTP routes (agent-binary, agent-api) and the transport vocabulary.
#include <coder_dns_doctor/transport/check.hpp>

#include <doctest/doctest.h>

#include <set>

using namespace coder_dns_doctor;
using transport::Check;
using transport::Status;

namespace {

http::Response answer(long code, std::string body, bool coderd, std::optional<std::string> length = "4096") {
  http::Response response;
  response.status_code = code;
  response.body = std::move(body);
  if (coderd)
    response.headers.emplace_back(std::string(transport::k_build_version_header), "v2.18.0");
  if (length)
    response.headers.emplace_back("Content-Length", *length);
  return response;
}

} // namespace

TEST_CASE("agent-binary: 200 with a length from coderd passes; 404 is a slim build; no identity is not coderd") {
  CHECK(transport::judge_http(Check::agent_binary, answer(200, "", true)).status == Status::ok);
  auto slim = transport::judge_http(Check::agent_binary, answer(404, "404 page not found\n", true));
  CHECK(slim.status == Status::not_bundled);
  CHECK(transport::passes(slim.status));
  CHECK(transport::judge_http(Check::agent_binary, answer(200, "", false)).status == Status::not_coderd);
  CHECK(transport::judge_http(Check::agent_binary, answer(200, "", true, std::nullopt)).status == Status::http_error);
  auto bad_gateway = transport::judge_http(Check::agent_binary, answer(502, "", false));
  CHECK(bad_gateway.status == Status::http_error);
  CHECK(bad_gateway.status_code == 502);
  CHECK_FALSE(bad_gateway.coderd_version.has_value());
}

TEST_CASE("agent-api: coderd's JSON 401 passes; a 500 names the database; a bare 401 is not coderd") {
  auto ok =
      transport::judge_http(Check::agent_api, answer(401, R"({"message":"Workspace agent not authorized."})", true));
  CHECK(ok.status == Status::ok);
  CHECK(ok.coderd_version == "v2.18.0");
  auto database = transport::judge_http(Check::agent_api, answer(500, R"({"message":"Internal error."})", true));
  CHECK(database.status == Status::http_error);
  CHECK(database.detail.find("database") != std::string::npos);
  CHECK(transport::judge_http(Check::agent_api, answer(401, "Unauthorized", false)).status == Status::not_coderd);
  CHECK(transport::judge_http(Check::agent_api, answer(401, "<html>", true)).status == Status::not_coderd);
  CHECK(transport::judge_http(Check::agent_api, answer(200, "OK", false)).status == Status::http_error);
}

TEST_CASE("a request with no HTTP answer takes the client's typed status") {
  http::Response refused;
  refused.curl_code = 7;  // CURLE_COULDNT_CONNECT
  refused.os_errno = 111; // ECONNREFUSED
  refused.error = "Failed to connect";
  auto result = transport::judge_http(Check::agent_api, refused);
  CHECK(result.status == Status::refused);
  CHECK(result.detail == "Failed to connect");
  http::Response timed_out;
  timed_out.curl_code = 28; // CURLE_OPERATION_TIMEDOUT
  CHECK(transport::judge_http(Check::agent_binary, timed_out).status == Status::timeout);
}

TEST_CASE("the requests: HEAD with identity encoding for the binary, a fresh UUIDv4 token for the agent API") {
  auto binary = transport::http_request(Check::agent_binary, "https://coder.example.test/bin/coder-linux-amd64");
  CHECK(binary.method == http::Method::head);
  CHECK(binary.headers == std::vector<std::string>{"Accept-Encoding: identity"});
  auto first = transport::http_request(Check::agent_api, "u");
  auto second = transport::http_request(Check::agent_api, "u");
  REQUIRE(first.headers.size() == 1);
  const std::string prefix = "Coder-Session-Token: ";
  REQUIRE(first.headers[0].starts_with(prefix));
  std::string token = first.headers[0].substr(prefix.size());
  REQUIRE(token.size() == 36);
  CHECK(token[14] == '4');                                         // version 4
  CHECK(std::string("89ab").find(token[19]) != std::string::npos); // RFC variant
  CHECK(first.headers != second.headers);                          // random per request
  CHECK(first.method == http::Method::get);
}

TEST_CASE("check and status names are the contract's, each once") {
  std::set<std::string_view> names;
  for (Check check : transport::all_checks())
    names.insert(transport::to_string(check));
  CHECK(names == std::set<std::string_view>{"derp-map-websocket", "derp-websocket", "derp-upgrade", "agent-binary",
                                            "agent-api"});
  CHECK(transport::path_of(Check::agent_binary, "arm64") == "/bin/coder-linux-arm64");
  CHECK(transport::path_of(Check::derp_upgrade, "amd64") == "/derp");
  CHECK(transport::is_upgrade(Check::derp_map_websocket));
  CHECK_FALSE(transport::is_upgrade(Check::agent_api));
  CHECK(transport::to_string(Status::not_upgraded) == "not_upgraded");
  CHECK(transport::to_string(Status::closed_early) == "closed_early");
}
