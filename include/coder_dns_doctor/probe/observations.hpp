// What one probe cycle saw: DNS answers, HTTP and transport results, as plain values (no handles, no I/O).
#pragma once

#include <coder_dns_doctor/dns/lookup.hpp>
#include <coder_dns_doctor/http/status.hpp>
#include <coder_dns_doctor/transport/check.hpp>
#include <coder_dns_doctor/util/address.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::probe {

// The lookup vocabulary is the dns module's; the engine speaks it unqualified.
using dns::Family;
using dns::LookupStatus;
using dns::to_string;
// `absolute` asks the exact name (trailing dot); `search` is what a libc stub resolver returns
// for the relative name after applying the resolv.conf search list and ndots; `hosts` is the
// hosts file's answer, which libc and Go's resolver use before DNS (nsswitch `hosts: files dns`).
enum class QueryMode { absolute, search, hosts };
enum class Via { dns, pinned, internal };
enum class Endpoint { healthz, buildinfo };

[[nodiscard]] std::string_view to_string(QueryMode mode);
[[nodiscard]] std::string_view to_string(Via via);
[[nodiscard]] std::string_view to_string(Endpoint endpoint); // "/healthz" | "/api/v2/buildinfo"

struct DnsObservation {
  std::string host;                 // as configured, lower case, no trailing dot
  std::string name;                 // the query name that produced this answer
  std::string resolver;             // resolver label
  std::vector<std::string> servers; // "ip:port" of the servers this resolver asks
  Family family = Family::a;
  QueryMode mode = QueryMode::absolute;
  LookupStatus status = LookupStatus::error;
  std::string detail;                     // library message when status is not ok; `path:line` for hosts
  std::vector<util::IpAddress> addresses; // sorted, unique
  std::optional<std::uint32_t> ttl;       // minimum TTL of the address records
  std::vector<std::string> cname_chain;
  double duration_ms = 0;
  bool responded = false; // a server sent something (even garbage); false: silence or unreachable
  // The resolver cannot know this name (a cluster-only name asked of an external-scope resolver,
  // which happens only when no resolver is cluster-scoped): its NXDOMAIN/REFUSED/NODATA is neither
  // a failure nor an opinion (analysis reports it as info; metrics leave it out).
  bool outside_scope = false;
  // What analysis concludes about the answer (expected addresses, match) is analysis::Annotation.
};

struct HttpObservation {
  std::string url;      // full URL requested, e.g. https://coder.example.test:18443/healthz
  std::string base_url; // the configured external or internal URL it belongs to
  Endpoint endpoint = Endpoint::healthz;
  Via via = Via::dns;
  util::IpAddress address;            // the IP the connection was pinned to
  std::vector<std::string> resolvers; // via dns: the resolvers whose answer held `address`
  std::optional<long> status_code;
  bool ok = false;                           // status == http::Status::ok
  http::Status status = http::Status::error; // the typed outcome; `error` says it in words
  std::optional<std::string> error;
  std::optional<std::string> deployment_id;  // buildinfo only
  std::optional<std::string> version;        // buildinfo only
  std::optional<std::string> coderd_version; // the answer's X-Coder-Build-Version: it came from coderd
  double duration_ms = 0;
};

using transport::Check;
using TransportStatus = transport::Status;

// One transport check (WebSocket, DERP, the agent's HTTP routes) on one path: the same URL, route
// and pinned address as the /healthz check it follows.
struct TransportObservation {
  std::string url;      // full URL requested, e.g. https://coder.example.test:18443/derp
  std::string base_url; // the configured external or internal URL it belongs to
  Check check = Check::derp_websocket;
  Via via = Via::dns;
  util::IpAddress address;
  std::vector<std::string> resolvers; // via dns: the resolvers whose answer held `address`
  bool ok = false;                    // status == ok
  TransportStatus status = TransportStatus::timeout;
  std::optional<long> status_code;
  std::optional<std::string> coderd_version;
  std::string detail;
  double duration_ms = 0;
  std::optional<double> held_s; // how long a held connection lived (diagnose --hold, serve)
};

struct Observations {
  std::vector<DnsObservation> dns;
  std::vector<HttpObservation> http;
  std::vector<TransportObservation> transport;
  double cycle_ms = 0;
};

} // namespace coder_dns_doctor::probe
