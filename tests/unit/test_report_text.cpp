// The text report of the field report's world, byte for byte at 80 and 120 columns (goldens in
// tests/unit/golden/), and its properties: no line wider than the width, findings before the
// tables, addresses and codes never cut, --wide and --quiet. The report is built by analysis from
// hand-made observations (no clock, no network), so the goldens change only when the text does.
// Regenerate after a deliberate change: CDD_UPDATE_GOLDEN=1 cdd_unit_tests -ts=report::to_text
#include <coder_dns_doctor/analysis/evaluate.hpp>
#include <coder_dns_doctor/report/report.hpp>
#include <coder_dns_doctor/util/table.hpp>

#include "addresses.hpp"
#include "observations.hpp"
#include "text_lines.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace coder_dns_doctor;

namespace {

const std::string k_external = "https://coder.example.test:18443";
const std::string k_internal = "http://coder.coder.svc.cluster.local:18080";
const std::string k_ext_host = "coder.example.test";
const std::string k_int_host = "coder.coder.svc.cluster.local";

probe::ResolverPlan resolver(const std::string& label, const std::string& server, probe::ResolverScope scope) {
  probe::ResolverPlan r;
  r.label = label;
  r.spec = label == "cluster" ? "system" : server;
  r.servers = {{test::ip(server), 53}};
  r.scope = scope;
  r.scope_reason = label == "cluster" ? "system resolver" : "not a cluster DNS server";
  return r;
}

probe::Plan plan() {
  probe::Plan plan;
  plan.resolvers = {resolver("cluster", "127.0.0.10", probe::ResolverScope::cluster),
                    resolver("upstream", "127.0.50.53", probe::ResolverScope::external),
                    resolver("public", "127.0.60.53", probe::ResolverScope::external)};
  plan.hosts = {{k_ext_host, probe::HostRole::external}, {k_int_host, probe::HostRole::internal}};
  plan.urls = {{*util::parse_url(k_external), probe::HostRole::external},
               {*util::parse_url(k_internal), probe::HostRole::internal}};
  return plan;
}

probe::DnsObservation answer(const std::string& host, const std::string& resolver, const std::string& server,
                             const std::string& address) {
  probe::DnsObservation o;
  o.host = host;
  o.name = host + ".";
  o.resolver = resolver;
  o.servers = {server + ":53"};
  o.status = dns::LookupStatus::ok;
  o.addresses = test::ips({address});
  o.ttl = 30;
  o.responded = true;
  o.duration_ms = 0.6;
  return o;
}

probe::HttpObservation healthz(const std::string& base, probe::Via via, const std::string& address,
                               std::vector<std::string> resolvers, bool ok) {
  probe::HttpObservation o = test::healthz(base, via, address, ok, std::move(resolvers));
  if (!ok)
    o.error = "Failed to connect to " + address + " port 18443 after 1 ms: Couldn't connect to server";
  o.duration_ms = 1.2;
  return o;
}

report::Report field_report() {
  probe::Observations observations;
  observations.dns = {answer(k_ext_host, "cluster", "127.0.0.10", "127.0.50.100"),
                      answer(k_ext_host, "upstream", "127.0.50.53", "127.0.50.100"),
                      answer(k_ext_host, "public", "127.0.60.53", "127.0.50.101"),
                      answer(k_int_host, "cluster", "127.0.0.10", "127.0.209.202")};
  observations.http = {healthz(k_external, probe::Via::dns, "127.0.50.100", {"cluster", "upstream"}, false),
                       healthz(k_external, probe::Via::dns, "127.0.50.101", {"public"}, true),
                       healthz(k_external, probe::Via::pinned, "127.0.50.101", {}, true),
                       healthz(k_internal, probe::Via::internal, "127.0.209.202", {"cluster"}, true)};
  observations.cycle_ms = 13;
  truth::Truth truth;
  truth.entries = {
      {.host = k_ext_host, .addresses = test::ips({"127.0.50.101"}), .source = "kubernetes:ingress/coder/coder"},
      {.host = k_int_host, .addresses = test::ips({"127.0.209.202"}), .source = "kubernetes:service/coder/coder"}};
  std::vector<analysis::WorkspaceAgent> pods{{.pod = "coder-workspace/coder-alice-dev",
                                              .host = k_ext_host,
                                              .origin = "ENVBUILDER_INIT_SCRIPT",
                                              .target = analysis::AgentTarget::external,
                                              .host_aliases = {},
                                              .labels = {}},
                                             {.pod = "coder-workspace/coder-bob-dev",
                                              .host = k_int_host,
                                              .origin = "command",
                                              .target = analysis::AgentTarget::internal,
                                              .host_aliases = {},
                                              .labels = {}}};
  probe::Plan p = plan();
  analysis::KubeFacts kube{.problems = {}, .agents = pods};
  analysis::Evaluation evaluation = analysis::evaluate(p, observations, truth, kube);
  report::Report report = report::build(p, std::move(observations), std::move(truth), std::move(evaluation), pods);
  report.generated_at = "2026-12-02T10:45:00Z";
  return report;
}

std::string golden_path(const std::string& name) {
  return std::string(CDD_TEST_DATA_DIR) + "/unit/golden/" + name;
}

// Compare `text` with the golden file `name`; with CDD_UPDATE_GOLDEN set, write it instead.
void check_golden(const std::string& name, const std::string& text) {
  if (std::getenv("CDD_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(golden_path(name), std::ios::binary) << text;
    MESSAGE("wrote " << golden_path(name));
    return;
  }
  std::ifstream in(golden_path(name), std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing golden ", golden_path(name), " (CDD_UPDATE_GOLDEN=1 writes it)");
  std::stringstream expected;
  expected << in.rdbuf();
  CHECK_MESSAGE(text == expected.str(), "the text report differs from ", golden_path(name),
                " (CDD_UPDATE_GOLDEN=1 rewrites it after a deliberate change)");
}

} // namespace

TEST_SUITE("report::to_text") {
  TEST_CASE("field report at 80 and 120 columns: golden, and no line wider than the terminal") {
    report::Report report = field_report();
    for (std::size_t width : {80U, 120U}) {
      CAPTURE(width);
      std::string text = report::to_text(report, {.colour = report::Colour::no, .width = width, .quiet = false});
      check_golden("field-report-" + std::to_string(width) + ".txt", text);
      for (const auto& line : test::lines_of(text)) {
        CAPTURE(line);
        CHECK(util::display_width(line) <= width);
      }
      // findings come first, the tables after them; what a person acts on is never cut
      CHECK(text.find("FINDINGS") < text.find("\nDNS"));
      CHECK(text.find("EXTERNAL_DNS_MISMATCH") != std::string::npos);
      CHECK(text.find("127.0.50.100") != std::string::npos);
      CHECK(text.find("127.0.50.101") != std::string::npos);
      CHECK(text.find("`coder-dns-doctor patch`") != std::string::npos);
    }
  }

  TEST_CASE("--wide prints every cell whole; --quiet only the verdict and findings") {
    report::Report report = field_report();
    std::string wide = report::to_text(report, {.colour = report::Colour::no, .width = 0, .quiet = false});
    CHECK(wide.find("…") == std::string::npos);
    CHECK(wide.find("Failed to connect to 127.0.50.100 port 18443 after 1 ms: Couldn't connect to server") !=
          std::string::npos);
    std::string quiet = report::to_text(report, {.colour = report::Colour::no, .width = 80, .quiet = true});
    CHECK(quiet.starts_with("coder-dns-doctor diagnose: broken"));
    CHECK(quiet.find("FINDINGS") != std::string::npos);
    CHECK(quiet.find("\nDNS") == std::string::npos);
    CHECK(quiet.find("\nHTTP") == std::string::npos);
  }
}
