// Choosing the API server (--kube modes) and explaining API errors (no network).
#include <coder_dns_doctor/k8s/client.hpp>
#include <coder_dns_doctor/k8s/connection.hpp>
#include <coder_dns_doctor/k8s/discovery.hpp>

#include <doctest/doctest.h>

#include "temp_dir.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include <sys/stat.h>
#include <unistd.h>

using namespace coder_dns_doctor;

namespace {

k8s::Environment environment(std::map<std::string, std::string> values) {
  return [values](const char* name) -> std::optional<std::string> {
    auto it = values.find(name);
    return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

k8s::ConnectionSettings settings(std::string mode, std::string token_file = {}, std::string ca_file = {},
                                 k8s::TlsVerify verify = k8s::TlsVerify::yes) {
  return {.mode = std::move(mode),
          .token_file = std::move(token_file),
          .ca_file = std::move(ca_file),
          .verify = verify,
          .timeout = std::chrono::milliseconds(2000)};
}

using coder_dns_doctor::testing::TempDir;

// GET through a client whose credentials cannot be used: the request must fail as `credentials`
// before anything is dialled (the URL is a closed loopback port), within moments, and say why.
k8s::ApiError credentials_failure(const std::string& token_file, const std::string& ca_file) {
  k8s::Connection connection{.base_url = "https://127.0.0.1:1",
                             .token_file = token_file,
                             .ca_file = ca_file,
                             .verify = k8s::Connection::Verify::yes,
                             .timeout = std::chrono::milliseconds(500),
                             .origin = "test"};
  k8s::Client client(connection);
  ::alarm(10); // a blocking read would hang the test binary: end it instead
  auto start = std::chrono::steady_clock::now();
  auto answer = client.get("/api/v1/namespaces/coder/services/coder", {"get", "", "services", "coder", "coder"});
  auto took = std::chrono::steady_clock::now() - start;
  ::alarm(0);
  CHECK(took < std::chrono::seconds(2));
  REQUIRE_FALSE(answer.has_value());
  CHECK(answer.error().kind == k8s::ErrorKind::credentials);
  CHECK(answer.error().detail.find('\n') == std::string::npos);
  return answer.error();
}

} // namespace

TEST_SUITE("k8s::connection") {
  TEST_CASE("check_mode accepts the four modes and names what is wrong") {
    for (const char* good : {"auto", "off", "in-cluster", "http://127.0.0.1:8001", "https://127.0.6.1:16443/"})
      CHECK(k8s::check_mode(good));
    for (const char* bad : {"", "on", "127.0.0.1:8001", "https://", "https://api.example.test/prefix"}) {
      CAPTURE(bad);
      auto result = k8s::check_mode(bad);
      REQUIRE_FALSE(result);
      CHECK(result.error().starts_with("--kube '"));
    }
  }

  TEST_CASE("auto is in-cluster inside a pod and off outside") {
    auto off = k8s::choose_connection(settings("auto"), environment({}));
    CHECK_FALSE(off.connection);
    CHECK_FALSE(off.problem);
    auto in = k8s::choose_connection(
        settings("auto", "/dev/null"),
        environment({{"KUBERNETES_SERVICE_HOST", "127.0.6.1"}, {"KUBERNETES_SERVICE_PORT", "16443"}}));
    REQUIRE(in.connection);
    CHECK(in.connection->base_url == "https://127.0.6.1:16443");
    CHECK(in.connection->token_file == "/dev/null");
    CHECK(in.connection->ca_file == "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
    CHECK(in.connection->origin == "in-cluster");
    // a pod without a mounted token: auto is off there, explicit in-cluster is not
    auto no_token = k8s::choose_connection(settings("auto", "/nonexistent/token"),
                                           environment({{"KUBERNETES_SERVICE_HOST", "127.0.6.1"}}));
    CHECK_FALSE(no_token.connection);
    CHECK_FALSE(no_token.problem);
    CHECK(no_token.reason.find("no service-account token") != std::string::npos);
  }

  TEST_CASE("in-cluster: IPv6 host, default port, flags override the service-account files") {
    // explicit in-cluster does not check the token file here: a missing one is reported per request
    auto choice = k8s::choose_connection(settings("in-cluster", "/tmp/t", "/tmp/ca"),
                                         environment({{"KUBERNETES_SERVICE_HOST", "fd00::1"}}));
    REQUIRE(choice.connection);
    CHECK(choice.connection->origin == "in-cluster");
    CHECK(choice.connection->base_url == "https://[fd00::1]:443");
    CHECK(choice.connection->token_file == "/tmp/t");
    CHECK(choice.connection->ca_file == "/tmp/ca");
    auto outside = k8s::choose_connection(settings("in-cluster"), environment({}));
    CHECK_FALSE(outside.connection);
    REQUIRE(outside.problem);
    CHECK(outside.problem->find("KUBERNETES_SERVICE_HOST") != std::string::npos);
  }

  TEST_CASE("URL mode keeps the URL, no default credentials; off is off") {
    auto proxy =
        k8s::choose_connection(settings("http://127.0.0.1:8001/"), environment({{"KUBERNETES_SERVICE_HOST", "x"}}));
    REQUIRE(proxy.connection);
    CHECK(proxy.connection->base_url == "http://127.0.0.1:8001");
    CHECK(proxy.connection->token_file.empty());
    CHECK(proxy.connection->verify == k8s::Connection::Verify::yes);
    auto insecure =
        k8s::choose_connection(settings("https://127.0.6.1:16443", {}, {}, k8s::TlsVerify::no), environment({}));
    REQUIRE(insecure.connection);
    CHECK(insecure.connection->verify == k8s::Connection::Verify::no);
    CHECK_FALSE(k8s::choose_connection(settings("off"), environment({{"KUBERNETES_SERVICE_HOST", "x"}})).connection);
  }

  TEST_CASE("a 403 names the verb, resource, namespace and the rule to grant") {
    k8s::ApiError error{.kind = k8s::ErrorKind::forbidden,
                        .access = {"list", "", "pods", "coder-workspace", {}},
                        .status_code = 403,
                        .detail = "pods is forbidden"};
    std::string text = error.describe();
    CHECK(text.find("list pods in namespace coder-workspace") != std::string::npos);
    CHECK(text.find("HTTP 403") != std::string::npos);
    CHECK(text.find(R"(apiGroups: [""], resources: ["pods"], verbs: ["list"])") != std::string::npos);
    auto problem = k8s::problem_of(error, k8s::KubeScope::audit);
    CHECK(problem.failure == k8s::KubeFailure::forbidden);
    CHECK(problem.scope == k8s::KubeScope::audit);

    k8s::ApiError cluster_wide{.kind = k8s::ErrorKind::forbidden,
                               .access = {"list", "networking.k8s.io", "ingresses", {}, {}},
                               .status_code = 403,
                               .detail = {}};
    CHECK(cluster_wide.describe().find("list ingresses (API group networking.k8s.io) (cluster-wide)") !=
          std::string::npos);
    CHECK(cluster_wide.describe().find("in a ClusterRole") != std::string::npos);
  }

  TEST_CASE("every error kind maps to a failure") {
    using k8s::ErrorKind;
    using k8s::KubeFailure;
    std::vector<std::pair<ErrorKind, KubeFailure>> table{
        {ErrorKind::credentials, KubeFailure::credentials}, {ErrorKind::unauthorized, KubeFailure::unauthorized},
        {ErrorKind::forbidden, KubeFailure::forbidden},     {ErrorKind::not_found, KubeFailure::missing},
        {ErrorKind::server_error, KubeFailure::server},     {ErrorKind::malformed, KubeFailure::malformed},
        {ErrorKind::too_large, KubeFailure::malformed},     {ErrorKind::timeout, KubeFailure::unreachable},
        {ErrorKind::transport, KubeFailure::unreachable},   {ErrorKind::skipped, KubeFailure::unreachable}};
    for (const auto& [kind, failure] : table) {
      CAPTURE(k8s::to_string(kind));
      k8s::ApiError error{
          .kind = kind, .access = {"get", "", "services", "coder", "coder"}, .status_code = {}, .detail = "d"};
      CHECK(k8s::problem_of(error, k8s::KubeScope::truth).failure == failure);
      CHECK(error.describe().starts_with("get services \"coder\" in namespace coder"));
    }
  }

  TEST_CASE("url_encode escapes selectors") {
    CHECK(k8s::url_encode("k8s-app=kube-dns") == "k8s-app%3Dkube-dns");
    CHECK(k8s::url_encode("kubernetes.io/service-name=coder") == "kubernetes.io%2Fservice-name%3Dcoder");
  }

  TEST_CASE("a token file that is a FIFO, a device, a directory or too large fails the request at once") {
    TempDir dir("cdd-k8s-files");
    std::string fifo = dir.fifo("token-fifo");
    for (const std::string& path : {fifo, std::string("/dev/zero"), dir.path.string()}) {
      CAPTURE(path);
      k8s::ApiError error = credentials_failure(path, {});
      CHECK(error.detail.find("token file") != std::string::npos);
      CHECK(error.detail.find(path) != std::string::npos);
      CHECK(error.detail.find("not a regular file") != std::string::npos);
    }
    std::string large = dir.write("token-large", std::string(64 * 1024 + 1, 's'));
    k8s::ApiError too_large = credentials_failure(large, {});
    CHECK(too_large.detail.find(large) != std::string::npos);
    CHECK(too_large.detail.find("larger than 65536 bytes") != std::string::npos);
    CHECK(too_large.detail.find("sss") == std::string::npos);
    k8s::ApiError missing = credentials_failure((dir.path / "absent").string(), {});
    CHECK(missing.detail.find("absent") != std::string::npos);
  }

  TEST_CASE("no message holds a byte of the token") {
    TempDir dir("cdd-k8s-files");
    std::string control = dir.write("token-control", "sekrit-token\x01value\n");
    k8s::ApiError error = credentials_failure(control, {});
    CHECK(error.detail.find("control characters") != std::string::npos);
    CHECK(error.detail.find("sekrit") == std::string::npos);
    CHECK(error.describe().find("sekrit") == std::string::npos);
    std::string blank = dir.write("token-blank", " \n\t\n");
    CHECK(credentials_failure(blank, {}).detail.find("is empty") != std::string::npos);
  }

  TEST_CASE("a CA file that is a FIFO, a device, a directory or too large fails the request at once") {
    TempDir dir("cdd-k8s-files");
    std::string token = dir.write("token", "a-token\n");
    std::string fifo = dir.fifo("ca-fifo");
    std::string large = dir.write("ca-large", std::string((4U << 20) + 1, '-'));
    for (const std::string& path : {fifo, std::string("/dev/zero"), dir.path.string(), large}) {
      CAPTURE(path);
      k8s::ApiError error = credentials_failure(token, path);
      CHECK(error.detail.find("CA file") != std::string::npos);
      CHECK(error.detail.find(path) != std::string::npos);
    }
  }
}
