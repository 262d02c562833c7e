// The transport findings, from observations built by hand: each code fires in its world and stays
// silent in the worlds next to it.
#include <coder_dns_doctor/analysis/evaluate.hpp>
#include <coder_dns_doctor/analysis/transport_findings.hpp>

#include "addresses.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace coder_dns_doctor;
using analysis::Code;
using probe::Check;
using probe::TransportStatus;
using probe::Via;

namespace {

const std::string k_external = "https://coder.example.test:18443";
const std::string k_internal = "http://coder.coder.svc.cluster.local:18080";

probe::Plan plan() {
  probe::Plan plan;
  plan.urls = {{*util::parse_url(k_external), probe::HostRole::external},
               {*util::parse_url(k_internal), probe::HostRole::internal}};
  return plan;
}

probe::HttpObservation healthz(const std::string& base, Via via, const std::string& address, long code,
                               bool coderd = true) {
  probe::HttpObservation o;
  o.base_url = base;
  o.url = base + "/healthz";
  o.via = via;
  o.address = test::ip(address);
  o.status_code = code;
  o.ok = code == 200 && coderd;
  o.status = o.ok ? http::Status::ok : http::Status::http_error;
  if (coderd)
    o.coderd_version = "v2.18.0";
  return o;
}

probe::TransportObservation check(const std::string& base, Via via, const std::string& address, Check which,
                                  TransportStatus status, std::optional<long> code, bool coderd = true) {
  probe::TransportObservation o;
  o.base_url = base;
  o.url = base + transport::path_of(which, "amd64");
  o.check = which;
  o.via = via;
  o.address = test::ip(address);
  o.status = status;
  o.ok = status == TransportStatus::ok;
  o.status_code = code;
  if (coderd && code)
    o.coderd_version = "v2.18.0";
  return o;
}

// One path where everything coderd sends came back: 101s, then 200 and 401 for the routes.
void add_healthy_path(probe::Observations& o, const std::string& base, Via via, const std::string& address) {
  o.http.push_back(healthz(base, via, address, 200));
  o.transport.push_back(check(base, via, address, Check::derp_map_websocket, TransportStatus::ok, 101));
  o.transport.push_back(check(base, via, address, Check::derp_websocket, TransportStatus::ok, 101));
  auto raw = check(base, via, address, Check::derp_upgrade, TransportStatus::ok, 101, false); // no header on it
  o.transport.push_back(raw);
  o.transport.push_back(check(base, via, address, Check::agent_binary, TransportStatus::ok, 200));
  o.transport.push_back(check(base, via, address, Check::agent_api, TransportStatus::ok, 401));
}

probe::Observations healthy() {
  probe::Observations o;
  add_healthy_path(o, k_external, Via::dns, "127.0.50.101");
  add_healthy_path(o, k_external, Via::pinned, "127.0.50.101");
  add_healthy_path(o, k_internal, Via::internal, "127.0.209.202");
  return o;
}

probe::TransportObservation& find(probe::Observations& o, const std::string& base, Via via, Check which) {
  auto it = std::find_if(o.transport.begin(), o.transport.end(), [&](const probe::TransportObservation& t) {
    return t.base_url == base && t.via == via && t.check == which;
  });
  REQUIRE(it != o.transport.end());
  return *it;
}

std::vector<Code> codes(const std::vector<analysis::Finding>& findings) {
  std::vector<Code> out;
  for (const auto& f : findings)
    out.push_back(f.code);
  return out;
}

void refuse_upgrade(probe::Observations& o, const std::string& base, Via via, Check which, long code) {
  auto& t = find(o, base, via, which);
  t.status = TransportStatus::not_upgraded;
  t.ok = false;
  t.status_code = code;
  t.detail = fmt::format("HTTP {} instead of 101", code);
}

} // namespace

TEST_CASE("the healthy world has no transport finding, and a slim build is no failure") {
  auto o = healthy();
  CHECK(analysis::check_transport(plan(), o).empty());
  auto& binary = find(o, k_external, Via::dns, Check::agent_binary);
  binary.status = TransportStatus::not_bundled;
  binary.status_code = 404;
  CHECK(analysis::check_transport(plan(), o).empty());
}

TEST_CASE("AGENT_TRANSPORT_BLOCKED: /healthz works but the WebSockets get 426 through the ingress") {
  auto o = healthy();
  for (Via via : {Via::dns, Via::pinned}) {
    refuse_upgrade(o, k_external, via, Check::derp_map_websocket, 426);
    refuse_upgrade(o, k_external, via, Check::derp_websocket, 426);
    refuse_upgrade(o, k_external, via, Check::derp_upgrade, 426);
  }
  auto findings = analysis::check_transport(plan(), o);
  REQUIRE(codes(findings) == std::vector<Code>{Code::agent_transport_blocked});
  const auto& blocked = findings.front();
  CHECK(blocked.severity == analysis::Severity::error);
  CHECK(blocked.summary.starts_with(k_external));
  CHECK(blocked.evidence.size() == 4); // two checks on two paths; the internal URL is fine
  CHECK(blocked.evidence.front().find("HTTP 426") != std::string::npos);
  CHECK(blocked.remediation.find(k_internal) != std::string::npos);
  // DERP_UPGRADE_BLOCKED stays silent: the DERP WebSocket does not work either.
}

TEST_CASE("AGENT_TRANSPORT_BLOCKED stays silent when /healthz fails too (a 502, or nothing listening)") {
  auto o = healthy();
  for (auto& h : o.http)
    if (h.base_url == k_external) {
      h.ok = false;
      h.status_code = 502;
      h.coderd_version.reset();
    }
  for (auto& t : o.transport)
    if (t.base_url == k_external && transport::is_upgrade(t.check)) {
      t.status = TransportStatus::not_upgraded;
      t.status_code = 502;
      t.coderd_version.reset();
    }
  CHECK(codes(analysis::check_transport(plan(), o)).empty());

  auto dead = healthy(); // nothing listens: every check refused, /healthz too
  for (auto& h : dead.http)
    if (h.base_url == k_external) {
      h.ok = false;
      h.status_code.reset();
      h.coderd_version.reset();
    }
  for (auto& t : dead.transport)
    if (t.base_url == k_external) {
      t.status = TransportStatus::refused;
      t.status_code.reset();
      t.coderd_version.reset();
    }
  CHECK(codes(analysis::check_transport(plan(), dead)).empty());
}

TEST_CASE("DERP_UPGRADE_BLOCKED: Upgrade: DERP refused where the DERP WebSocket works") {
  auto o = healthy();
  refuse_upgrade(o, k_external, Via::dns, Check::derp_upgrade, 426);
  auto findings = analysis::check_transport(plan(), o);
  REQUIRE(codes(findings) == std::vector<Code>{Code::derp_upgrade_blocked});
  CHECK(findings.front().severity == analysis::Severity::warning);
  CHECK(findings.front().evidence.size() == 1);
}

TEST_CASE("TRANSPORT_CUT_BY_PROXY: a held DERP WebSocket closed early; a full hold is fine") {
  auto o = healthy();
  auto& held = find(o, k_external, Via::dns, Check::derp_websocket);
  held.held_s = 90.0;
  CHECK(analysis::check_transport(plan(), o).empty());
  held.status = TransportStatus::closed_early;
  held.ok = false;
  held.held_s = 3.0;
  held.detail = "closed after 3.0 s of a 90.0 s hold";
  auto findings = analysis::check_transport(plan(), o);
  REQUIRE(codes(findings) == std::vector<Code>{Code::transport_cut_by_proxy});
  CHECK(findings.front().evidence.front().find("closed after 3.0 s") != std::string::npos);
  // A close before the first frame (no hold began) is not an idle cut.
  held.held_s.reset();
  CHECK(codes(analysis::check_transport(plan(), o)) == std::vector<Code>{Code::agent_transport_blocked});
}

TEST_CASE("NOT_CODERD: a 200 OK site at a DNS address, without any truth; a proxy's 502 alone is silent") {
  auto o = healthy();
  const std::string stale = "127.0.50.100";
  o.http.push_back(healthz(k_external, Via::dns, stale, 200, false));
  for (Check which : transport::all_checks())
    o.transport.push_back(
        check(k_external, Via::dns, stale, which,
              transport::is_upgrade(which) ? TransportStatus::not_upgraded : TransportStatus::not_coderd, 200, false));
  auto findings = analysis::check_transport(plan(), o);
  auto found = codes(findings);
  REQUIRE(std::count(found.begin(), found.end(), Code::not_coderd) == 1);
  const auto& impostor = *std::find_if(findings.begin(), findings.end(),
                                       [](const analysis::Finding& f) { return f.code == Code::not_coderd; });
  CHECK(impostor.summary.find(stale) != std::string::npos);
  CHECK(impostor.summary.find("127.0.50.101") == std::string::npos); // the real coderd is not accused
  CHECK(impostor.remediation.find("127.0.50.101") != std::string::npos);

  auto gateway = healthy();
  gateway.http.push_back(healthz(k_external, Via::dns, stale, 502, false));
  CHECK(analysis::check_transport(plan(), gateway).empty());
}

TEST_CASE("evaluate() includes the transport findings and their verdict") {
  auto o = healthy();
  refuse_upgrade(o, k_external, Via::dns, Check::derp_upgrade, 426);
  auto evaluation = analysis::evaluate(plan(), o, truth::Truth{}, {});
  CHECK(evaluation.verdict == analysis::Verdict::degraded);
}

TEST_CASE("TRANSPORT_CUT_BY_PROXY from serve's held connections: repeated early closes; one, or none, is silent") {
  auto o = healthy();
  analysis::HeldConnection cut{.url = k_external,
                               .via = Via::dns,
                               .address = test::ip("127.0.50.101"),
                               .early_closes_s = {3.0},
                               .hold_min_s = 75};
  analysis::HeldConnection lasting{.url = k_internal,
                                   .via = Via::internal,
                                   .address = test::ip("127.0.50.102"),
                                   .early_closes_s = {},
                                   .hold_min_s = 75};
  // One early close may be a restart: silent. Long-lived connections: silent.
  CHECK(analysis::check_transport(plan(), o, {cut, lasting}).empty());
  CHECK_FALSE(analysis::held_cut_line(cut));
  cut.early_closes_s = {3.0, 3.02, 3.01};
  auto findings = analysis::check_transport(plan(), o, {cut, lasting});
  REQUIRE(codes(findings) == std::vector<Code>{Code::transport_cut_by_proxy});
  REQUIRE(findings.front().evidence.size() == 1);
  const std::string& line = findings.front().evidence.front();
  CHECK(line.find(k_external) != std::string::npos);
  CHECK(line.find("via dns at 127.0.50.101: closed after 3.0 s, 3 times") != std::string::npos);
  CHECK(line.find("--hold-min 75 s") != std::string::npos);
  CHECK(findings.front().summary.find(k_external) == 0);
  CHECK(findings.front().remediation.find("75 s") != std::string::npos);
  // Lifetimes that differ are given as a range.
  cut.early_closes_s = {2.0, 59.5};
  CHECK(analysis::held_cut_line(cut)->find("closed after 2.0-59.5 s, 2 times") != std::string::npos);

  // The same URL cut in diagnose's own hold and by serve's holder: one finding with both lines.
  auto& held = find(o, k_external, Via::pinned, Check::derp_websocket);
  held.status = TransportStatus::closed_early;
  held.ok = false;
  held.held_s = 3.0;
  auto both = analysis::check_transport(plan(), o, {cut});
  REQUIRE(codes(both) == std::vector<Code>{Code::transport_cut_by_proxy});
  CHECK(both.front().evidence.size() == 2);

  // evaluate passes them through and the verdict follows.
  auto evaluation = analysis::evaluate(plan(), healthy(), {}, {}, {cut});
  CHECK(evaluation.verdict == analysis::Verdict::broken);
}
