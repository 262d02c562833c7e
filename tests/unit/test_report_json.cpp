// report::to_json is a contract (CONTRACTS.md, README "JSON report"): every section's field names and
// JSON types, for a report that fills every field and for an empty one, plus the enum spellings.
// Adding a field on purpose means adding it to the shapes below; renaming one must fail here.
#include <coder_dns_doctor/report/report.hpp>

#include <doctest/doctest.h>

#include "addresses.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace coder_dns_doctor;
using nlohmann::json;

namespace {

// ---- JSON shapes -------------------------------------------------------------------------------

enum class Kind { string, integer, number, boolean, null, strings, array, object };
using Shape = std::map<std::string, Kind>;

const char* name_of(Kind kind) {
  switch (kind) {
  case Kind::string: return "string";
  case Kind::integer: return "integer";
  case Kind::number: return "number";
  case Kind::boolean: return "boolean";
  case Kind::null: return "null";
  case Kind::strings: return "array of strings";
  case Kind::array: return "array";
  case Kind::object: return "object";
  }
  return "?";
}

bool is(const json& value, Kind kind) {
  switch (kind) {
  case Kind::string: return value.is_string();
  case Kind::integer: return value.is_number_integer();
  case Kind::number: return value.is_number();
  case Kind::boolean: return value.is_boolean();
  case Kind::null: return value.is_null();
  case Kind::array: return value.is_array();
  case Kind::object: return value.is_object();
  case Kind::strings:
    if (!value.is_array())
      return false;
    for (const auto& element : value)
      if (!element.is_string())
        return false;
    return true;
  }
  return false;
}

// `object` has exactly the keys of `shape`, each of its kind.
void check_shape(const json& object, const Shape& shape, const std::string& where) {
  CAPTURE(where);
  REQUIRE(object.is_object());
  std::set<std::string> keys;
  for (const auto& [key, value] : object.items()) {
    keys.insert(key);
    CHECK_MESSAGE(shape.contains(key),
                  where << ": unexpected field '" << key << "' (renamed, or new and not in this test)");
  }
  for (const auto& [key, kind] : shape) {
    CHECK_MESSAGE(keys.contains(key), where << ": field '" << key << "' is missing");
    if (keys.contains(key))
      CHECK_MESSAGE(is(object.at(key), kind),
                    where << "." << key << " should be " << name_of(kind) << ", is " << object.at(key).dump());
  }
}

// Replace the kinds of `nullable` keys by null: the same entry with its optional fields unset.
Shape with_nulls(Shape shape, std::initializer_list<const char*> nullable) {
  for (const char* key : nullable) {
    REQUIRE(shape.contains(key));
    shape[key] = Kind::null;
  }
  return shape;
}

const Shape k_top{{"verdict", Kind::string},  {"generated_at", Kind::string}, {"duration_ms", Kind::number},
                  {"findings", Kind::array},  {"truth", Kind::array},         {"truth_notes", Kind::strings},
                  {"resolvers", Kind::array}, {"dns", Kind::array},           {"http", Kind::array},
                  {"transport", Kind::array}, {"workspaces", Kind::array}};

const Shape k_finding{{"code", Kind::string},
                      {"severity", Kind::string},
                      {"summary", Kind::string},
                      {"evidence", Kind::strings},
                      {"remediation", Kind::string}};

const Shape k_truth{{"host", Kind::string}, {"addresses", Kind::strings}, {"source", Kind::string}};

const Shape k_resolver{{"label", Kind::string},
                       {"spec", Kind::string},
                       {"servers", Kind::strings},
                       {"scope", Kind::string},
                       {"scope_reason", Kind::string}};

// A `system` resolver adds its search list and ndots, and its hosts file when it reads one first.
Shape system_resolver_shape() {
  Shape shape = k_resolver;
  shape["search"] = Kind::strings;
  shape["ndots"] = Kind::integer;
  shape["hosts_file"] = Kind::string;
  shape["hosts_order"] = Kind::string;
  return shape;
}

const Shape k_dns{{"host", Kind::string},           {"name", Kind::string},         {"resolver", Kind::string},
                  {"servers", Kind::strings},       {"family", Kind::string},       {"query", Kind::string},
                  {"status", Kind::string},         {"detail", Kind::string},       {"addresses", Kind::strings},
                  {"ttl", Kind::integer},           {"cname_chain", Kind::strings}, {"responded", Kind::boolean},
                  {"outside_scope", Kind::boolean}, {"duration_ms", Kind::number},  {"expected", Kind::strings},
                  {"match", Kind::boolean}};

const Shape k_http{{"url", Kind::string},
                   {"base_url", Kind::string},
                   {"endpoint", Kind::string},
                   {"via", Kind::string},
                   {"address", Kind::string},
                   {"resolvers", Kind::strings},
                   {"status_code", Kind::integer},
                   {"status", Kind::string},
                   {"ok", Kind::boolean},
                   {"error", Kind::string},
                   {"deployment_id", Kind::string},
                   {"version", Kind::string},
                   {"coderd_version", Kind::string},
                   {"duration_ms", Kind::number}};

const Shape k_transport{{"url", Kind::string},          {"base_url", Kind::string},
                        {"check", Kind::string},        {"via", Kind::string},
                        {"address", Kind::string},      {"resolvers", Kind::strings},
                        {"ok", Kind::boolean},          {"status", Kind::string},
                        {"status_code", Kind::integer}, {"coderd_version", Kind::string},
                        {"detail", Kind::string},       {"duration_ms", Kind::number},
                        {"held_s", Kind::number}};

const Shape k_workspace{{"pod", Kind::string},
                        {"agent_host", Kind::string},
                        {"target", Kind::string},
                        {"origin", Kind::string},
                        {"host_aliases", Kind::array}};

const Shape k_host_alias{{"ip", Kind::string}, {"hostnames", Kind::strings}};

// ---- Domain objects: the only places that know the structs' fields -----------------------------

util::Endpoint endpoint(const char* ip, std::uint16_t port) {
  auto parsed = util::parse_ip(ip);
  REQUIRE(parsed);
  util::Endpoint made;
  made.address = *parsed;
  made.port = port;
  return made;
}

analysis::Finding finding() {
  analysis::Finding made;
  made.code = analysis::Code::external_dns_mismatch;
  made.severity = analysis::Severity::error;
  made.summary = "coder.example.test resolves to 127.0.50.100 via cluster, outside its truth";
  made.evidence = {"cluster A: 127.0.50.100", "truth: 127.0.50.101 (kubernetes:ingress/coder/coder)"};
  made.remediation = "fix the cluster DNS record";
  return made;
}

truth::TruthEntry truth_entry(std::string host, std::vector<std::string> addresses, std::string source) {
  truth::TruthEntry made;
  made.host = std::move(host);
  made.addresses = test::ips(addresses);
  made.source = std::move(source);
  return made;
}

truth::Truth truth_with_note() {
  truth::Truth made;
  made.entries = {truth_entry("coder.example.test", {"127.0.50.101"}, "kubernetes:ingress/coder/coder"),
                  truth_entry("coder.coder.svc.cluster.local", {"127.0.209.202", "::1"}, "static")};
  made.notes = {"--expect for coder.coder.svc.cluster.local overrides kubernetes:service/coder/coder (127.0.209.9)"};
  return made;
}

probe::ResolverPlan system_resolver() {
  probe::ResolverPlan made;
  made.label = "cluster";
  made.spec = "system";
  made.servers = {endpoint("127.0.0.10", 53)};
  dns::ResolvConf conf;
  conf.nameservers = made.servers;
  conf.search = {"coder.svc.cluster.local", "svc.cluster.local"};
  conf.ndots = 5;
  made.system = conf;
  probe::HostsLookup hosts;
  hosts.file.path = "/etc/hosts";
  hosts.order = "hosts: files dns";
  made.hosts = hosts;
  made.scope = probe::ResolverScope::cluster;
  made.scope_reason = "the pod's resolv.conf";
  return made;
}

probe::ResolverPlan server_list_resolver() {
  probe::ResolverPlan made;
  made.label = "public";
  made.spec = "127.0.52.53,[::1]:5353";
  made.servers = {endpoint("127.0.52.53", 53), endpoint("::1", 5353)};
  made.scope = probe::ResolverScope::external;
  made.scope_reason = "declared";
  return made;
}

// A DNS observation with every optional field set.
probe::DnsObservation full_lookup() {
  probe::DnsObservation made;
  made.host = "coder.example.test";
  made.name = "coder.example.test.";
  made.resolver = "cluster";
  made.servers = {"127.0.0.10:53"};
  made.family = probe::Family::a;
  made.mode = probe::QueryMode::hosts;
  made.status = probe::LookupStatus::ok;
  made.detail = "/etc/hosts:3";
  made.addresses = test::ips({"127.0.50.100"});
  made.ttl = 30;
  made.cname_chain = {"ingress.example.test"};
  made.duration_ms = 0.86;
  made.responded = true;
  made.outside_scope = false;
  return made;
}

// A DNS observation with nothing but defaults: no detail or ttl.
probe::DnsObservation bare_lookup() {
  return probe::DnsObservation{};
}

// What analysis concluded about one DNS answer.
analysis::Annotation annotation(std::vector<std::string> expected, std::optional<bool> match) {
  analysis::Annotation made;
  made.expected = test::ips(expected);
  made.match = match;
  return made;
}

// Add a DNS observation and its annotation (the report keeps them in two lists of the same order).
void add_lookup(report::Report& report, probe::DnsObservation lookup, analysis::Annotation note) {
  report.observations.dns.push_back(std::move(lookup));
  report.annotations.push_back(std::move(note));
}

probe::HttpObservation full_request() {
  probe::HttpObservation made;
  made.url = "https://coder.example.test:18443/api/v2/buildinfo";
  made.base_url = "https://coder.example.test:18443";
  made.endpoint = probe::Endpoint::buildinfo;
  made.via = probe::Via::pinned;
  made.address = test::ip("127.0.50.101");
  made.resolvers = {"cluster", "cluster/search"};
  made.status_code = 200;
  made.status = http::Status::ok;
  made.ok = true;
  made.error = "none";
  made.deployment_id = "deployment-1";
  made.version = "v2.17.0";
  made.coderd_version = "v2.17.0";
  made.duration_ms = 3.14;
  return made;
}

probe::TransportObservation full_transport() {
  probe::TransportObservation made;
  made.url = "https://coder.example.test:18443/derp";
  made.base_url = "https://coder.example.test:18443";
  made.check = probe::Check::derp_websocket;
  made.via = probe::Via::dns;
  made.address = test::ip("127.0.50.101");
  made.resolvers = {"cluster"};
  made.ok = false;
  made.status = probe::TransportStatus::closed_early;
  made.status_code = 101;
  made.coderd_version = "v2.17.0";
  made.detail = "closed after 3.0 s of a 90.0 s hold";
  made.duration_ms = 3004.2;
  made.held_s = 3.0;
  return made;
}

probe::HttpObservation bare_request() {
  return probe::HttpObservation{};
}

analysis::WorkspaceAgent full_agent() {
  analysis::WorkspaceAgent made;
  made.pod = "coder-workspace/ws-1";
  made.host = "coder.example.test";
  made.origin = "command";
  made.target = analysis::AgentTarget::external;
  analysis::HostAlias alias;
  alias.address = "127.0.50.100";
  alias.hostnames = {"coder.example.test", "www.example.test"};
  made.host_aliases = {alias};
  return made;
}

analysis::WorkspaceAgent bare_agent() {
  analysis::WorkspaceAgent made;
  made.pod = "coder-workspace/ws-2";
  return made;
}

report::Report full_report() {
  report::Report made;
  made.verdict = analysis::Verdict::broken;
  made.findings = {finding()};
  made.truth = truth_with_note();
  add_lookup(made, full_lookup(), annotation({"127.0.50.101"}, false));
  made.observations.http = {full_request()};
  made.observations.transport = {full_transport()};
  made.observations.cycle_ms = 12.34;
  made.resolvers = {system_resolver(), server_list_resolver()};
  made.workspaces = {full_agent()};
  made.generated_at = "2026-12-02T13:00:00Z";
  return made;
}

json only(const json& array) {
  REQUIRE(array.is_array());
  REQUIRE(array.size() == 1);
  return array[0];
}

} // namespace

TEST_SUITE("report::to_json") {
  TEST_CASE("a report that fills every section: the name and type of every field") {
    json document = report::to_json(full_report());
    check_shape(document, k_top, "report");

    REQUIRE(document["findings"].size() == 1);
    check_shape(document["findings"][0], k_finding, "findings[0]");
    REQUIRE(document["truth"].size() == 2);
    check_shape(document["truth"][0], k_truth, "truth[0]");
    check_shape(document["truth"][1], k_truth, "truth[1]");
    REQUIRE(document["resolvers"].size() == 2);
    check_shape(document["resolvers"][0], system_resolver_shape(), "resolvers[0] (system)");
    check_shape(document["resolvers"][1], k_resolver, "resolvers[1] (server list)");
    check_shape(only(document["dns"]), k_dns, "dns[0]");
    check_shape(only(document["http"]), k_http, "http[0]");
    check_shape(only(document["transport"]), k_transport, "transport[0]");
    json workspace = only(document["workspaces"]);
    check_shape(workspace, k_workspace, "workspaces[0]");
    check_shape(only(workspace["host_aliases"]), k_host_alias, "workspaces[0].host_aliases[0]");
  }

  TEST_CASE("a report that fills every section: the values, as the report holds them") {
    json document = report::to_json(full_report());
    CHECK(document["verdict"] == "broken");
    CHECK(document["generated_at"] == "2026-12-02T13:00:00Z");
    CHECK(document["duration_ms"].get<double>() == doctest::Approx(12.3)); // rounded to 0.1 ms

    json finding = document["findings"][0];
    CHECK(finding["code"] == "EXTERNAL_DNS_MISMATCH");
    CHECK(finding["severity"] == "error");
    CHECK(finding["summary"] == "coder.example.test resolves to 127.0.50.100 via cluster, outside its truth");
    CHECK(finding["evidence"] ==
          json{"cluster A: 127.0.50.100", "truth: 127.0.50.101 (kubernetes:ingress/coder/coder)"});
    CHECK(finding["remediation"] == "fix the cluster DNS record");

    CHECK(document["truth"][0] == json{{"host", "coder.example.test"},
                                       {"addresses", {"127.0.50.101"}},
                                       {"source", "kubernetes:ingress/coder/coder"}});
    CHECK(document["truth"][1]["addresses"] == json{"127.0.209.202", "::1"});
    CHECK(document["truth_notes"] ==
          json{"--expect for coder.coder.svc.cluster.local overrides kubernetes:service/coder/coder (127.0.209.9)"});

    json system = document["resolvers"][0];
    CHECK(system["label"] == "cluster");
    CHECK(system["spec"] == "system");
    CHECK(system["servers"] == json{"127.0.0.10:53"});
    CHECK(system["scope"] == "cluster");
    CHECK(system["scope_reason"] == "the pod's resolv.conf");
    CHECK(system["search"] == json{"coder.svc.cluster.local", "svc.cluster.local"});
    CHECK(system["ndots"] == 5);
    CHECK(system["hosts_file"] == "/etc/hosts");
    CHECK(system["hosts_order"] == "hosts: files dns");
    json list = document["resolvers"][1];
    CHECK(list["servers"] == json{"127.0.52.53:53", "[::1]:5353"}); // "ip:port", IPv6 in brackets
    CHECK(list["scope"] == "external");
    CHECK(list["scope_reason"] == "declared");

    json dns = document["dns"][0];
    CHECK(dns["host"] == "coder.example.test");
    CHECK(dns["name"] == "coder.example.test.");
    CHECK(dns["resolver"] == "cluster");
    CHECK(dns["servers"] == json{"127.0.0.10:53"});
    CHECK(dns["family"] == "A");
    CHECK(dns["query"] == "hosts");
    CHECK(dns["status"] == "ok");
    CHECK(dns["detail"] == "/etc/hosts:3");
    CHECK(dns["addresses"] == json{"127.0.50.100"});
    CHECK(dns["ttl"] == 30);
    CHECK(dns["cname_chain"] == json{"ingress.example.test"});
    CHECK(dns["responded"] == true);
    CHECK(dns["outside_scope"] == false);
    CHECK(dns["duration_ms"].get<double>() == doctest::Approx(0.9));
    CHECK(dns["expected"] == json{"127.0.50.101"});
    CHECK(dns["match"] == false);

    json http = document["http"][0];
    CHECK(http["url"] == "https://coder.example.test:18443/api/v2/buildinfo");
    CHECK(http["base_url"] == "https://coder.example.test:18443");
    CHECK(http["endpoint"] == "/api/v2/buildinfo");
    CHECK(http["via"] == "pinned");
    CHECK(http["address"] == "127.0.50.101");
    CHECK(http["resolvers"] == json{"cluster", "cluster/search"});
    CHECK(http["status_code"] == 200);
    CHECK(http["status"] == "ok");
    CHECK(http["ok"] == true);
    CHECK(http["error"] == "none");
    CHECK(http["deployment_id"] == "deployment-1");
    CHECK(http["version"] == "v2.17.0");
    CHECK(http["coderd_version"] == "v2.17.0");
    CHECK(http["duration_ms"].get<double>() == doctest::Approx(3.1));

    json transport = document["transport"][0];
    CHECK(transport["url"] == "https://coder.example.test:18443/derp");
    CHECK(transport["base_url"] == "https://coder.example.test:18443");
    CHECK(transport["check"] == "derp-websocket");
    CHECK(transport["via"] == "dns");
    CHECK(transport["address"] == "127.0.50.101");
    CHECK(transport["resolvers"] == json{"cluster"});
    CHECK(transport["ok"] == false);
    CHECK(transport["status"] == "closed_early");
    CHECK(transport["status_code"] == 101);
    CHECK(transport["coderd_version"] == "v2.17.0");
    CHECK(transport["detail"] == "closed after 3.0 s of a 90.0 s hold");
    CHECK(transport["duration_ms"].get<double>() == doctest::Approx(3004.2));
    CHECK(transport["held_s"].get<double>() == doctest::Approx(3.0));

    json workspace = document["workspaces"][0];
    CHECK(workspace["pod"] == "coder-workspace/ws-1");
    CHECK(workspace["agent_host"] == "coder.example.test");
    CHECK(workspace["target"] == "external");
    CHECK(workspace["origin"] == "command");
    CHECK(workspace["host_aliases"] ==
          json::array({{{"ip", "127.0.50.100"}, {"hostnames", {"coder.example.test", "www.example.test"}}}}));
  }

  TEST_CASE("an empty report: every top-level field is there, every list an empty array") {
    json document = report::to_json(report::Report{});
    check_shape(document, k_top, "empty report");
    CHECK(document["verdict"] == "healthy");
    CHECK(document["generated_at"] == "");
    CHECK(document["duration_ms"] == 0);
    for (const char* list :
         {"findings", "truth", "truth_notes", "resolvers", "dns", "http", "transport", "workspaces"}) {
      CAPTURE(list);
      CHECK(document[list] == json::array());
    }
  }

  TEST_CASE("entries with nothing optional set: the same fields, optional ones null, lists empty arrays") {
    report::Report bare;
    bare.observations.dns = {bare_lookup()}; // and no annotation for it: no expectation, no match
    bare.observations.http = {bare_request()};
    bare.observations.transport = {probe::TransportObservation{}};
    bare.workspaces = {bare_agent()};
    bare.findings = {analysis::Finding{}};
    bare.truth.entries = {truth_entry("coder.example.test", {}, "static")};
    probe::ResolverPlan resolver;
    resolver.label = "empty";
    bare.resolvers = {resolver};
    json document = report::to_json(bare);

    check_shape(only(document["dns"]), with_nulls(k_dns, {"detail", "ttl", "match"}), "bare dns[0]");
    check_shape(only(document["http"]),
                with_nulls(k_http, {"status_code", "error", "deployment_id", "version", "coderd_version"}),
                "bare http[0]");
    check_shape(only(document["transport"]), with_nulls(k_transport, {"status_code", "coderd_version", "held_s"}),
                "bare transport[0]");
    json workspace = only(document["workspaces"]);
    check_shape(workspace, with_nulls(k_workspace, {"agent_host"}), "bare workspaces[0]");
    CHECK(workspace["host_aliases"] == json::array());
    check_shape(only(document["findings"]), k_finding, "bare findings[0]");
    check_shape(only(document["truth"]), k_truth, "bare truth[0]");
    check_shape(only(document["resolvers"]), k_resolver, "bare resolvers[0]"); // no search/ndots/hosts_*

    json dns = only(document["dns"]);
    for (const char* list : {"servers", "addresses", "cname_chain", "expected"}) {
      CAPTURE(list);
      CHECK(dns[list] == json::array());
    }
    CHECK(dns["status"] == "error"); // the default outcome is a failure, never a silent ok
    CHECK(dns["responded"] == false);
    CHECK(only(document["http"])["ok"] == false);
    CHECK(only(document["http"])["status"] == "error");
    CHECK(only(document["http"])["resolvers"] == json::array());
    CHECK(workspace["target"] == "unknown");
  }

  TEST_CASE("a system resolver without a hosts file has search and ndots but no hosts_* fields") {
    report::Report made;
    probe::ResolverPlan resolver = system_resolver();
    resolver.hosts.reset();
    made.resolvers = {resolver};
    Shape shape = system_resolver_shape();
    shape.erase("hosts_file");
    shape.erase("hosts_order");
    check_shape(only(report::to_json(made)["resolvers"]), shape, "resolvers[0] (system, no hosts file)");
  }

  TEST_CASE("match is true, false or null; expected comes from the annotation; ttl 0 is a number") {
    report::Report made;
    probe::DnsObservation zero_ttl = full_lookup();
    zero_ttl.ttl = 0;
    add_lookup(made, zero_ttl, annotation({"127.0.50.100"}, true));
    add_lookup(made, full_lookup(), annotation({"127.0.50.101", "127.0.50.102"}, false));
    add_lookup(made, full_lookup(), annotation({}, std::nullopt));
    json dns = report::to_json(made)["dns"];
    REQUIRE(dns.size() == 3);
    CHECK(dns[0]["match"] == true);
    CHECK(dns[0]["expected"] == json{"127.0.50.100"});
    CHECK(dns[0]["ttl"].is_number_integer());
    CHECK(dns[0]["ttl"] == 0);
    CHECK(dns[1]["match"] == false);
    CHECK(dns[1]["expected"] == json{"127.0.50.101", "127.0.50.102"});
    CHECK(dns[2]["match"].is_null());
    CHECK(dns[2]["expected"] == json::array());
  }

  TEST_CASE("an observation beyond the annotations gets no expectation and a null match") {
    report::Report made;
    add_lookup(made, full_lookup(), annotation({"127.0.50.101"}, true));
    made.observations.dns.push_back(full_lookup());
    json dns = report::to_json(made)["dns"];
    REQUIRE(dns.size() == 2);
    CHECK(dns[0]["match"] == true);
    check_shape(dns[1], with_nulls(k_dns, {"match"}), "dns[1] (no annotation)");
    CHECK(dns[1]["expected"] == json::array());
  }

  TEST_CASE("durations are milliseconds rounded to 0.1") {
    report::Report made;
    probe::DnsObservation lookup = full_lookup();
    lookup.duration_ms = 1.26;
    probe::HttpObservation request = full_request();
    request.duration_ms = 1999.94;
    made.observations.dns = {lookup};
    made.observations.http = {request};
    made.observations.cycle_ms = 0.04;
    json document = report::to_json(made);
    CHECK(document["duration_ms"].get<double>() == doctest::Approx(0.0));
    CHECK(document["dns"][0]["duration_ms"].get<double>() == doctest::Approx(1.3));
    CHECK(document["http"][0]["duration_ms"].get<double>() == doctest::Approx(1999.9));
  }

  TEST_CASE("dns[]: family, query and status spell the contract's values") {
    const std::vector<std::pair<probe::Family, const char*>> families{{probe::Family::a, "A"},
                                                                      {probe::Family::aaaa, "AAAA"}};
    const std::vector<std::pair<probe::QueryMode, const char*>> modes{{probe::QueryMode::absolute, "absolute"},
                                                                      {probe::QueryMode::search, "search"},
                                                                      {probe::QueryMode::hosts, "hosts"}};
    const std::vector<std::pair<probe::LookupStatus, const char*>> statuses{
        {probe::LookupStatus::ok, "ok"},           {probe::LookupStatus::nxdomain, "nxdomain"},
        {probe::LookupStatus::nodata, "nodata"},   {probe::LookupStatus::servfail, "servfail"},
        {probe::LookupStatus::refused, "refused"}, {probe::LookupStatus::timeout, "timeout"},
        {probe::LookupStatus::error, "error"}};
    report::Report made;
    for (const auto& [family, ignored] : families)
      for (const auto& [mode, ignored2] : modes)
        for (const auto& [status, ignored3] : statuses) {
          probe::DnsObservation o = bare_lookup();
          o.family = family;
          o.mode = mode;
          o.status = status;
          made.observations.dns.push_back(o);
        }
    json dns = report::to_json(made)["dns"];
    REQUIRE(dns.size() == families.size() * modes.size() * statuses.size());
    std::size_t i = 0;
    for (const auto& [family, family_text] : families)
      for (const auto& [mode, mode_text] : modes)
        for (const auto& [status, status_text] : statuses) {
          CAPTURE(i);
          CHECK(dns[i]["family"] == family_text);
          CHECK(dns[i]["query"] == mode_text);
          CHECK(dns[i]["status"] == status_text);
          ++i;
        }
  }

  TEST_CASE("http[]: endpoint, via and status spell the contract's values") {
    const std::vector<std::pair<http::Status, const char*>> statuses{{http::Status::ok, "ok"},
                                                                     {http::Status::http_error, "http_error"},
                                                                     {http::Status::body_mismatch, "body_mismatch"},
                                                                     {http::Status::timeout, "timeout"},
                                                                     {http::Status::refused, "refused"},
                                                                     {http::Status::unreachable, "unreachable"},
                                                                     {http::Status::tls, "tls"},
                                                                     {http::Status::too_large, "too_large"},
                                                                     {http::Status::not_sent, "not_sent"},
                                                                     {http::Status::error, "error"}};
    const std::vector<std::pair<probe::Via, const char*>> vias{
        {probe::Via::dns, "dns"}, {probe::Via::pinned, "pinned"}, {probe::Via::internal, "internal"}};
    const std::vector<std::pair<probe::Endpoint, const char*>> endpoints{
        {probe::Endpoint::healthz, "/healthz"}, {probe::Endpoint::buildinfo, "/api/v2/buildinfo"}};
    report::Report made;
    for (const auto& [status, ignored] : statuses) {
      probe::HttpObservation o = bare_request();
      o.status = status;
      made.observations.http.push_back(o);
    }
    for (const auto& [via, ignored] : vias) {
      probe::HttpObservation o = bare_request();
      o.via = via;
      made.observations.http.push_back(o);
    }
    for (const auto& [where, ignored] : endpoints) {
      probe::HttpObservation o = bare_request();
      o.endpoint = where;
      made.observations.http.push_back(o);
    }
    json entries = report::to_json(made)["http"];
    REQUIRE(entries.size() == statuses.size() + vias.size() + endpoints.size());
    std::size_t i = 0;
    for (const auto& [status, text] : statuses)
      CHECK(entries[i++]["status"] == text);
    for (const auto& [via, text] : vias)
      CHECK(entries[i++]["via"] == text);
    for (const auto& [where, text] : endpoints)
      CHECK(entries[i++]["endpoint"] == text);
  }

  TEST_CASE("verdict, severity, scope and workspace target spell the contract's values") {
    for (const auto& [verdict, text] :
         std::vector<std::pair<analysis::Verdict, const char*>>{{analysis::Verdict::healthy, "healthy"},
                                                                {analysis::Verdict::degraded, "degraded"},
                                                                {analysis::Verdict::broken, "broken"}}) {
      report::Report made;
      made.verdict = verdict;
      CHECK(report::to_json(made)["verdict"] == text);
    }
    report::Report made;
    for (auto severity : {analysis::Severity::error, analysis::Severity::warning, analysis::Severity::info}) {
      analysis::Finding f = finding();
      f.severity = severity;
      made.findings.push_back(f);
    }
    for (auto target : {analysis::AgentTarget::external, analysis::AgentTarget::internal, analysis::AgentTarget::other,
                        analysis::AgentTarget::unknown}) {
      analysis::WorkspaceAgent agent = full_agent();
      agent.target = target;
      made.workspaces.push_back(agent);
    }
    made.resolvers = {system_resolver(), server_list_resolver()};
    json document = report::to_json(made);
    CHECK(document["findings"][0]["severity"] == "error");
    CHECK(document["findings"][1]["severity"] == "warning");
    CHECK(document["findings"][2]["severity"] == "info");
    CHECK(document["workspaces"][0]["target"] == "external");
    CHECK(document["workspaces"][1]["target"] == "internal");
    CHECK(document["workspaces"][2]["target"] == "other");
    CHECK(document["workspaces"][3]["target"] == "unknown");
    CHECK(document["resolvers"][0]["scope"] == "cluster");
    CHECK(document["resolvers"][1]["scope"] == "external");
  }

  TEST_CASE("every finding code is written by its contract name") {
    report::Report made;
    for (const auto& info : analysis::code_table()) {
      analysis::Finding f = finding();
      f.code = info.code;
      made.findings.push_back(f);
    }
    json findings = report::to_json(made)["findings"];
    REQUIRE(findings.size() == analysis::code_table().size());
    // The CONTRACTS.md / README codes, in contract order; none may be renamed.
    const std::vector<std::string> names{"EXTERNAL_DNS_MISMATCH",
                                         "INTERNAL_DNS_MISMATCH",
                                         "HOST_DNS_MISMATCH",
                                         "DNS_LOOKUP_FAILED",
                                         "RESOLVER_DISAGREEMENT",
                                         "SEARCH_SHADOWING",
                                         "HEALTHZ_FAILS_VIA_DNS",
                                         "HEALTHZ_DOWN",
                                         "DEPLOYMENT_MISMATCH",
                                         "AGENT_URL_EXTERNAL",
                                         "KUBERNETES_UNAVAILABLE",
                                         "HOSTS_FILE_OVERRIDE",
                                         "INGRESS_UNREACHABLE_IN_CLUSTER",
                                         "RESOLVER_OUT_OF_SCOPE"};
    std::set<std::string> written;
    for (const auto& f : findings)
      written.insert(f["code"].get<std::string>());
    for (const auto& name : names) {
      CAPTURE(name);
      CHECK(written.contains(name));
    }
  }

  TEST_CASE("entries keep the order of the report") {
    report::Report made;
    for (const char* host : {"b.example.test", "a.example.test", "c.example.test"}) {
      probe::DnsObservation o = bare_lookup();
      o.host = host;
      made.observations.dns.push_back(o);
    }
    json dns = report::to_json(made)["dns"];
    REQUIRE(dns.size() == 3);
    CHECK(dns[0]["host"] == "b.example.test");
    CHECK(dns[1]["host"] == "a.example.test");
    CHECK(dns[2]["host"] == "c.example.test");
  }
}
