#include <coder_dns_doctor/daemon/holder.hpp>
#include <coder_dns_doctor/daemon/log.hpp>
#include <coder_dns_doctor/daemon/metrics.hpp>

#include "addresses.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

using namespace coder_dns_doctor;

namespace {

// A DNS answer and what analysis concluded of it (its match verdict).
struct Lookup {
  probe::DnsObservation o;
  analysis::Annotation note;
};

Lookup lookup(std::string host, std::string resolver, probe::LookupStatus status, std::optional<bool> match,
              probe::QueryMode mode = probe::QueryMode::absolute) {
  probe::DnsObservation o;
  o.host = std::move(host);
  o.resolver = std::move(resolver);
  o.status = status;
  o.mode = mode;
  o.addresses = test::ips({"192.0.2.9"});
  o.ttl = 30;
  o.duration_ms = 1.5;
  return {o, {.expected = {}, .match = match}};
}

void set_dns(report::Report& report, const std::vector<Lookup>& lookups) {
  report.observations.dns.clear();
  report.annotations.clear();
  for (const auto& each : lookups) {
    report.observations.dns.push_back(each.o);
    report.annotations.push_back(each.note);
  }
}

probe::HttpObservation request(std::string url, probe::Via via, bool ok,
                               http::Status status = http::Status::http_error) {
  probe::HttpObservation o;
  o.url = std::move(url);
  o.via = via;
  o.ok = ok;
  o.status = ok ? http::Status::ok : status;
  o.address = test::ip("192.0.2.9");
  o.duration_ms = 3;
  return o;
}

bool has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

} // namespace

TEST_SUITE("daemon::Metrics") {
  TEST_CASE("the family table is unique and every name carries the prefix") {
    std::set<std::string_view> names;
    for (const auto& family : daemon::family_table()) {
      CHECK(family.name.starts_with("coder_dns_doctor_"));
      CHECK(names.insert(family.name).second);
      CHECK_FALSE(family.help.empty());
      CHECK((family.kind == daemon::MetricKind::histogram) == !family.buckets.empty());
    }
  }

  TEST_CASE("docs/serve.md lists every family") {
    std::ifstream in(std::string(CDD_TEST_DATA_DIR) + "/../docs/serve.md");
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    for (const auto& family : daemon::family_table())
      CHECK_MESSAGE(text.str().find("`" + std::string(family.name) + "`") != std::string::npos, family.name);
  }

  TEST_CASE("an out-of-scope resolver's NXDOMAIN exports no lookup_success; hosts answers are <label>/hosts") {
    daemon::Metrics metrics("1.2.3", "abc");
    report::Report report;
    auto excused = lookup("coder.coder.svc.cluster.local", "public", probe::LookupStatus::nxdomain, std::nullopt);
    excused.o.outside_scope = true;
    auto timed_out = lookup("x.svc.cluster.local", "public", probe::LookupStatus::timeout, std::nullopt);
    timed_out.o.outside_scope = true; // no answer at all is still a failure of the resolver
    set_dns(report, {excused, timed_out,
                     lookup("coder.test", "cluster", probe::LookupStatus::ok, false, probe::QueryMode::hosts)});
    metrics.record_cycle(report, std::chrono::system_clock::now());
    std::string text = metrics.render();
    CHECK(text.find(R"(dns_lookup_success{family="A",host="coder.coder.svc.cluster.local")") == std::string::npos);
    CHECK(
        has(text, R"(coder_dns_doctor_dns_lookup_success{family="A",host="x.svc.cluster.local",resolver="public"} 0)"));
    CHECK(has(text, R"(coder_dns_doctor_dns_answer_match{family="A",host="coder.test",resolver="cluster/hosts"} 0)"));
  }

  TEST_CASE("http_failures_total counts each failed request by url, via and reason; ok requests add nothing") {
    daemon::Metrics metrics("1.2.3", "abc");
    report::Report report;
    auto refused = request("https://coder.test/healthz", probe::Via::dns, false, http::Status::refused);
    auto refused_too = refused;
    refused_too.address = test::ip("192.0.2.10"); // a second address of the same path: a second request
    report.observations.http = {
        refused, refused_too,
        request("https://coder.test/api/v2/buildinfo", probe::Via::dns, false, http::Status::not_sent),
        request("https://coder.test/healthz", probe::Via::pinned, false, http::Status::tls),
        request("https://coder.test/healthz", probe::Via::internal, true)};
    metrics.record_cycle(report, std::chrono::system_clock::now());
    std::string text = metrics.render();
    CHECK(has(text, "# TYPE coder_dns_doctor_http_failures_total counter"));
    CHECK(
        has(text,
            R"(coder_dns_doctor_http_failures_total{reason="refused",url="https://coder.test/healthz",via="dns"} 2)"));
    CHECK(has(
        text,
        R"(coder_dns_doctor_http_failures_total{reason="not_sent",url="https://coder.test/api/v2/buildinfo",via="dns"} 1)"));
    CHECK(has(text,
              R"(coder_dns_doctor_http_failures_total{reason="tls",url="https://coder.test/healthz",via="pinned"} 1)"));
    CHECK(text.find(R"(http_failures_total{reason="ok")") == std::string::npos);
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
      if (line.starts_with("coder_dns_doctor_http_failures_total{"))
        CHECK_MESSAGE(line.find(R"(via="internal")") == std::string::npos, line); // the ok request counted nothing
    CHECK(has(text, R"(coder_dns_doctor_http_up{url="https://coder.test/healthz",via="dns"} 0)")); // http_up as before

    SUBCASE("counters accumulate across cycles and keep a reason that stopped") {
      report.observations.http = {request("https://coder.test/healthz", probe::Via::dns, false, http::Status::timeout),
                                  request("https://coder.test/healthz", probe::Via::pinned, true)};
      metrics.record_cycle(report, std::chrono::system_clock::now());
      text = metrics.render();
      CHECK(has(
          text,
          R"(coder_dns_doctor_http_failures_total{reason="refused",url="https://coder.test/healthz",via="dns"} 2)"));
      CHECK(has(
          text,
          R"(coder_dns_doctor_http_failures_total{reason="timeout",url="https://coder.test/healthz",via="dns"} 1)"));
      CHECK(
          has(text,
              R"(coder_dns_doctor_http_failures_total{reason="tls",url="https://coder.test/healthz",via="pinned"} 1)"));
      CHECK(text.find("192.0.2.") == std::string::npos);
    }
  }

  TEST_CASE("a cycle becomes series; addresses never become labels") {
    daemon::Metrics metrics("1.2.3", "abc");
    report::Report report;
    set_dns(report, {lookup("coder.test", "cluster", probe::LookupStatus::ok, false),
                     lookup("coder.test", "cluster", probe::LookupStatus::ok, false, probe::QueryMode::search),
                     lookup("coder.test", "public", probe::LookupStatus::ok, true),
                     lookup("other.test", "public", probe::LookupStatus::ok, std::nullopt),
                     lookup("gone.test", "public", probe::LookupStatus::nxdomain, std::nullopt)});
    report.observations.http = {request("https://coder.test/healthz", probe::Via::dns, false),
                                request("https://coder.test/healthz", probe::Via::dns, true),
                                request("https://coder.test/healthz", probe::Via::pinned, true)};
    report.findings = {{.code = analysis::Code::external_dns_mismatch,
                        .severity = analysis::Severity::error,
                        .summary = "",
                        .evidence = {},
                        .remediation = ""}};
    report.verdict = analysis::Verdict::broken;
    report.observations.cycle_ms = 12;
    metrics.record_cycle(report, std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000)));
    std::string text = metrics.render();

    CHECK(has(text, R"(coder_dns_doctor_dns_answer_match{family="A",host="coder.test",resolver="cluster"} 0)"));
    CHECK(has(text, R"(coder_dns_doctor_dns_answer_match{family="A",host="coder.test",resolver="cluster/search"} 0)"));
    CHECK(has(text, R"(coder_dns_doctor_dns_answer_match{family="A",host="coder.test",resolver="public"} 1)"));
    CHECK(text.find(R"(dns_answer_match{family="A",host="other.test")") == std::string::npos); // no truth: absent
    CHECK(has(text, R"(coder_dns_doctor_dns_lookup_success{family="A",host="gone.test",resolver="public"} 0)"));
    CHECK(has(text, R"(coder_dns_doctor_dns_mismatch_total{host="coder.test",resolver="cluster"} 1)"));
    CHECK(has(text, R"(coder_dns_doctor_dns_mismatch_total{host="coder.test",resolver="public"} 0)"));
    CHECK(has(text, R"(coder_dns_doctor_http_up{url="https://coder.test/healthz",via="dns"} 0)"));
    CHECK(has(text, R"(coder_dns_doctor_http_up{url="https://coder.test/healthz",via="pinned"} 1)"));
    CHECK(has(text, R"(coder_dns_doctor_finding{code="EXTERNAL_DNS_MISMATCH",severity="error"} 1)"));
    CHECK(has(text, R"(coder_dns_doctor_build_info{revision="abc",version="1.2.3"} 1)"));
    CHECK(has(text, R"(coder_dns_doctor_last_cycle_timestamp_seconds 1700000000)"));
    CHECK(has(text, R"(coder_dns_doctor_cycle_duration_seconds 0.012)"));
    CHECK(text.find("192.0.2.9") == std::string::npos);

    SUBCASE("the next cycle keeps counting and drops series that went away") {
      report.observations.dns.pop_back(); // gone.test is no longer configured
      report.annotations.pop_back();
      report.findings.clear();
      report.verdict = analysis::Verdict::healthy;
      metrics.record_cycle(report, std::chrono::system_clock::now());
      text = metrics.render();
      CHECK(has(text, R"(coder_dns_doctor_dns_mismatch_total{host="coder.test",resolver="cluster"} 2)"));
      CHECK(text.find(R"(dns_lookup_success{family="A",host="gone.test")") == std::string::npos);
      CHECK(text.find("coder_dns_doctor_finding{") == std::string::npos);
      CHECK(has(text, R"(coder_dns_doctor_verdict{verdict="healthy"} 1)"));
      CHECK(text.find(R"(verdict="broken")") == std::string::npos);
      CHECK(has(text, "coder_dns_doctor_cycles_total 2"));
    }
  }

  TEST_CASE("--metrics minimal exposes only the minimal families; full exposes every one") {
    daemon::Metrics metrics("1.2.3", "abc");
    report::Report report;
    set_dns(report, {lookup("coder.test", "cluster", probe::LookupStatus::ok, true)});
    report.observations.http = {request("https://coder.test/healthz", probe::Via::dns, true)};
    report.verdict = analysis::Verdict::healthy;
    metrics.record_cycle(report, std::chrono::system_clock::now());
    std::string full = metrics.render();
    CHECK(full.find("coder_dns_doctor_dns_lookup_duration_seconds_bucket") != std::string::npos);
    CHECK(full.find("coder_dns_doctor_build_info{") != std::string::npos);

    metrics.set_metric_set(daemon::MetricSet::minimal);
    std::string minimal = metrics.render();
    std::set<std::string> allowed;
    for (const auto& family : daemon::family_table())
      if (family.minimal)
        allowed.emplace(family.name);
    std::istringstream lines(minimal);
    std::string line;
    std::size_t series = 0;
    while (std::getline(lines, line)) {
      if (line.empty() || line.starts_with("#"))
        continue;
      ++series;
      std::string name = line.substr(0, line.find_first_of("{ "));
      CHECK_MESSAGE(allowed.contains(name), line);
    }
    // One lookup, one path, healthy: success + match + health + verdict + timestamp + interval + reload.
    CHECK(series == 6);
    CHECK(has(minimal, R"(coder_dns_doctor_dns_answer_match{family="A",host="coder.test",resolver="cluster"} 1)"));
    CHECK(has(minimal, R"(coder_dns_doctor_verdict{verdict="healthy"} 1)"));

    metrics.set_metric_set(daemon::MetricSet::full);
    CHECK(metrics.render().find("_bucket{") != std::string::npos);
  }

  TEST_CASE("every family an alert rule reads is in the minimal set (CoderTransportCutByProxy fires on its finding)") {
    std::ifstream in(std::string(CDD_TEST_DATA_DIR) + "/../charts/coder-dns-doctor/files/alerts.yaml");
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    std::string rules = text.str();
    std::size_t checked = 0;
    for (const auto& family : daemon::family_table()) {
      if (rules.find(std::string(family.name)) == std::string::npos)
        continue;
      ++checked;
      if (family.name == "coder_dns_doctor_transport_closes_total")
        continue; // its rule is `(closes rising and the finding) or the finding`
      CHECK_MESSAGE(family.minimal, family.name);
    }
    CHECK(checked >= 9);
    std::size_t alone = rules.find("or on (job, instance)");
    REQUIRE(alone != std::string::npos);
    std::size_t finding = rules.find(R"((coder_dns_doctor_finding{code="TRANSPORT_CUT_BY_PROXY"} == 1))", alone);
    CHECK(finding - alone < 40); // the finding alone is the `or` branch
  }

  TEST_CASE("metric sets by name") {
    CHECK(daemon::parse_metric_set("minimal") == daemon::MetricSet::minimal);
    CHECK(daemon::parse_metric_set("full") == daemon::MetricSet::full);
    CHECK_FALSE(daemon::parse_metric_set("some").has_value());
    CHECK(daemon::to_string(daemon::MetricSet::minimal) == "minimal");
  }

  TEST_CASE("reloads are counted by result") {
    daemon::Metrics metrics("v", "r");
    metrics.record_reload(false);
    std::string text = metrics.render();
    CHECK(has(text, R"(coder_dns_doctor_config_reloads_total{result="failure"} 1)"));
    CHECK(has(text, "coder_dns_doctor_config_last_reload_success 0"));
  }
}

TEST_SUITE("daemon::Logger") {
  TEST_CASE("text and json lines") {
    nlohmann::json fields{{"cycle", 3}, {"error", "a b"}};
    CHECK(daemon::format_line(daemon::LogFormat::text, "T", daemon::LogLevel::warn, "hello", fields) ==
          R"(T warn  hello cycle=3 error="a b")");
    auto line = nlohmann::json::parse(
        daemon::format_line(daemon::LogFormat::json, "T", daemon::LogLevel::info, "hello", fields));
    CHECK(line["msg"] == "hello");
    CHECK(line["level"] == "info");
    CHECK(line["cycle"] == 3);
  }
}

TEST_SUITE("daemon::Holder") {
  TEST_CASE("close_cause: held connections by lifetime, failed attempts by their status") {
    using std::chrono::milliseconds;
    CHECK(daemon::close_cause(3.0, "closed_early", milliseconds(75'000)) == "closed_early");
    CHECK(daemon::close_cause(3.0, "error", milliseconds(75'000)) == "closed_early"); // a reset while held
    CHECK(daemon::close_cause(80.0, "closed_early", milliseconds(75'000)) == "closed");
    CHECK(daemon::close_cause(std::nullopt, "refused", milliseconds(75'000)) == "refused");
    CHECK(daemon::close_cause(std::nullopt, "not_upgraded", milliseconds(75'000)) == "not_upgraded");
  }

  TEST_CASE("metrics: age per (url, via), the youngest address; closes_total from the holder's totals") {
    daemon::Metrics metrics("1.2.3", "abc");
    daemon::HeldStats a{.base_url = "https://c.test",
                        .via = probe::Via::dns,
                        .address = test::ip("127.0.0.1"),
                        .age_s = 12.5,
                        .closes = {},
                        .early_closes_s = {},
                        .last_detail = std::nullopt};
    daemon::HeldStats b = a;
    b.address = test::ip("127.0.0.2");
    b.age_s = 2.0;
    daemon::HeldStats internal = a;
    internal.base_url = "http://c.internal";
    internal.via = probe::Via::internal;
    internal.age_s.reset();
    daemon::CloseTotals totals{{{"https://c.test", "dns", "closed_early"}, 3},
                               {{"https://c.test", "dns", "refused"}, 1}};
    metrics.record_held({a, b, internal}, totals);
    std::string text = metrics.render();
    CHECK(has(text, R"(coder_dns_doctor_transport_connection_age_seconds{url="https://c.test",via="dns"} 2)"));
    CHECK(has(text, R"(coder_dns_doctor_transport_connection_age_seconds{url="http://c.internal",via="internal"} 0)"));
    CHECK(
        has(text, R"(coder_dns_doctor_transport_closes_total{cause="closed_early",url="https://c.test",via="dns"} 3)"));
    CHECK(has(text, R"(coder_dns_doctor_transport_closes_total{cause="refused",url="https://c.test",via="dns"} 1)"));
    CHECK(has(
        text,
        R"(coder_dns_doctor_transport_closes_total{cause="closed_early",url="http://c.internal",via="internal"} 0)"));
    CHECK(text.find("127.0.0.1") == std::string::npos); // never an address
    // Scraped again: the counter follows the totals, it does not add them twice; a path gone loses its age.
    totals[{"https://c.test", "dns", "closed_early"}] = 4;
    metrics.record_held({internal}, totals);
    text = metrics.render();
    CHECK(
        has(text, R"(coder_dns_doctor_transport_closes_total{cause="closed_early",url="https://c.test",via="dns"} 4)"));
    CHECK(text.find(R"(connection_age_seconds{url="https://c.test")") == std::string::npos);
  }

  TEST_CASE("a path whose connects are refused: counted as refused, retried with backoff, stop() is quick") {
    int probe_socket = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    REQUIRE(bind(probe_socket, reinterpret_cast<sockaddr*>(&address), length) == 0);
    REQUIRE(getsockname(probe_socket, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    int port = ntohs(address.sin_port);
    close(probe_socket); // nothing listens there now
    std::string base = "http://held.test:" + std::to_string(port);
    daemon::Holder holder({.hold_min = std::chrono::milliseconds(4000),
                           .max_paths = 16,
                           .backoff_min = std::chrono::milliseconds(100),
                           .backoff_max = std::chrono::milliseconds(200),
                           .recent = std::chrono::minutes(15),
                           .recent_max = 32});
    holder.update({{.base_url = base,
                    .via = probe::Via::pinned,
                    .address = test::ip("127.0.0.1"),
                    .url = base + "/derp",
                    .host_header = "held.test:" + std::to_string(port),
                    .path = "/derp",
                    .timeout = std::chrono::milliseconds(500),
                    .ca_file = "",
                    .passed = true}});
    std::uint64_t refused = 0;
    for (int i = 0; i < 50 && refused < 2; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      auto stats = holder.snapshot();
      if (stats.empty())
        continue; // the update is not applied yet
      REQUIRE(stats.size() == 1);
      refused = stats.front().closes["refused"];
      CHECK_FALSE(stats.front().age_s);
    }
    CHECK(refused >= 2);
    CHECK(holder.close_totals()[{base, "pinned", "refused"}] == refused);
    CHECK(holder.facts().front().early_closes_s.empty());
    holder.update({}); // the path went: forgotten
    for (int i = 0; i < 20 && !holder.snapshot().empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(holder.snapshot().empty());
    auto started = std::chrono::steady_clock::now();
    holder.stop();
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(1500));
  }
}
