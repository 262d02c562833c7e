// Remediation sentences, one per code (see remedies.hpp).
#include <coder_dns_doctor/analysis/remedies.hpp>

#include <coder_dns_doctor/util/strings.hpp>

#include <fmt/core.h>

namespace coder_dns_doctor::analysis {
namespace {

std::string or_else(const std::string& value, std::string_view fallback) {
  return value.empty() ? std::string(fallback) : value;
}

// The remediations that start from coderd's view of its agents (agent_causes.cpp).
std::string agent_remediation(Code code, const Subject& s) {
  switch (code) {
  case Code::agent_disconnected: // wrong: workspaces with a cause; right: workspaces without one
    return fmt::format("Fix the findings named on each agent's line (their remediation says how), then rebuild those "
                       "workspaces ({}). Where no cause is found on the path: `coder ping <owner>/<workspace>` from a "
                       "client, and the agent's log /tmp/coder-agent.log in the workspace pod{}.",
                       names_or(s.wrong, "see WORKSPACE_REBUILD_NEEDED"),
                       s.right.empty() ? std::string() : " (" + util::join(s.right, ", ") + ")");
  case Code::coder_api_unavailable: // wrong: what failed (unauthorized, forbidden, partial_view, unreachable)
    return fmt::format("Give --coder-token-file a valid token of a user with the Owner role (Auditor reads workspaces "
                       "but not coderd's health report): `coder tokens create --name coder-dns-doctor --lifetime "
                       "720h` as that user, stored in a Secret mounted into the doctor's pod; check --coder-url "
                       "(default: the internal URL, so the token stays in the cluster){}.",
                       s.wrong.empty() ? std::string() : "; failed: " + util::join(s.wrong, ", "));
  case Code::coderd_reports_unhealthy: // wrong: the failing sections
    return fmt::format("Read coderd's health page (/health in the dashboard, or `coder support bundle`) for {}; where "
                       "it agrees with a finding of this report, fix that finding first. coderd checks from its own "
                       "pod with its own DNS, not the agents' path.",
                       names_or(s.wrong, "the failing sections"));
  case Code::workspace_rebuild_needed: // url: the internal URL
    return fmt::format("Rebuild each workspace listed with `coder update <owner>/<workspace>` (a new build from the "
                       "template's active version) once the template carries the fix (`coder-dns-doctor patch "
                       "--coder-url {}`, then `coder templates push`); `coder restart` keeps the old version.",
                       or_else(s.url, "<internal URL>"));
  default: return "See the evidence.";
  }
}

// The remediations of the agent's own connection (transport_findings.cpp).
std::string transport_remediation(Code code, const Subject& s) {
  std::string host = or_else(s.host, "the Coder host");
  switch (code) {
  case Code::agent_transport_blocked: // wrong: the failing paths; url: the internal URL
    return fmt::format("Make the proxy in front of coderd forward WebSocket upgrades for {} (nginx: "
                       "`proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "
                       "\"upgrade\";` — ingress-nginx does this by default; Traefik, HAProxy and cloud load balancers "
                       "have a WebSocket setting), or point agents at the internal URL with "
                       "`coder-dns-doctor patch --coder-url {}`.",
                       host, or_else(s.url, "<internal URL>"));
  case Code::derp_upgrade_blocked:
    return fmt::format("Agents still relay through DERP over WebSockets, more slowly. To restore `Upgrade: DERP` let "
                       "the proxy in front of {} pass any Upgrade value (not only `websocket`); or accept the fallback "
                       "and make it explicit with coderd's --derp-force-websockets.",
                       host);
  case Code::transport_cut_by_proxy: // wrong: the paths cut; url: the internal URL
    return fmt::format("Raise the idle/read timeout of the proxy in front of {} above 75 s (DERP keepalives come "
                       "every 60-65 s; ingress-nginx: annotations nginx.ingress.kubernetes.io/proxy-read-timeout and "
                       "proxy-send-timeout, e.g. \"3600\"; a cloud load balancer's idle timeout), or point agents at "
                       "the internal URL (`coder-dns-doctor patch --coder-url {}`).",
                       host, or_else(s.url, "<internal URL>"));
  case Code::not_coderd: // wrong: the addresses that are not coderd; right: addresses that are
    return fmt::format("Find what answers at {} and stop sending Coder's clients there: usually a stale DNS record "
                       "(fix it where the DNS findings point) or an old load balancer; confirm with "
                       "`curl -sI --resolve {}:443:ADDRESS https://{}/healthz | grep -i x-coder-build-version`{}.",
                       names_or(s.wrong, "the addresses in the evidence"), host, host,
                       s.right.empty() ? std::string() : "; coderd answers at " + util::join(s.right, ", "));
  default: return "See the evidence.";
  }
}

} // namespace

std::string names_or(const std::vector<std::string>& items, std::string_view fallback) {
  return items.empty() ? std::string(fallback) : util::join(items, ", ");
}

std::string remediation(Code code, const Subject& s) {
  std::string host = or_else(s.host, "the Coder host");
  switch (code) {
  case Code::external_dns_mismatch: // wrong: resolvers with the stale answer
    return fmt::format(
        "Fix or remove the stale record for {} on the DNS server behind {} (CoreDNS forwards it "
        "upstream), or point workspace agents at the internal URL with `coder-dns-doctor patch`.",
        host, s.wrong.empty() ? "the resolvers named in the evidence" : "resolver(s) " + util::join(s.wrong, ", "));
  case Code::internal_dns_mismatch:
    return fmt::format("Check the Coder Service and CoreDNS: {} must resolve to the Service's ClusterIP; look for a "
                       "stub domain, rewrite rule or hosts entry that overrides it.",
                       or_else(s.host, "the internal host"));
  case Code::host_dns_mismatch: // wrong: resolvers
    return fmt::format("Correct the record for {} on the DNS server behind {}.", or_else(s.host, "the host"),
                       s.wrong.empty() ? "the resolvers named in the evidence"
                                       : "resolver(s) " + util::join(s.wrong, ", "));
  case Code::dns_lookup_failed: // wrong: resolvers that failed
    if (s.nxdomain)
      return fmt::format("Create the record for {} (or fix the Service/Ingress name) on the authoritative server, "
                         "then check again after the negative-cache TTL.",
                         host);
    return fmt::format("Make the DNS servers of {} reachable and answering (check CoreDNS pods, NetworkPolicies and "
                       "the upstream in the Corefile's forward plugin).",
                       s.wrong.empty() ? "the resolvers named in the evidence"
                                       : "resolver(s) " + util::join(s.wrong, ", "));
  case Code::resolver_disagreement: // wrong: resolvers off the truth; right: resolvers on it
    if (s.wrong.empty())
      return fmt::format("Tell coder-dns-doctor the right addresses (--expect {}=ADDR or Kubernetes access) so it "
                         "can name the stale resolver.",
                         or_else(s.host, "HOST"));
    return fmt::format("Make resolver(s) {} serve what {} for {}.", util::join(s.wrong, ", "),
                       s.right.empty() ? std::string("the truth says") : util::join(s.right, ", ") + " serve(s)", host);
  case Code::search_shadowing: // name: the answering search name; suffix: its search domain
    return fmt::format("Remove the record (or wildcard) that answers {} under the search domain {}, or make "
                       "clients use the absolute name {} (trailing dot) or lower ndots.",
                       or_else(s.name, "the relative name"), or_else(s.suffix, "named in the evidence"),
                       s.host.empty() ? std::string("of the host") : s.host + ".");
  case Code::healthz_fails_via_dns: // right: the working address; wrong: the address DNS gives
    return fmt::format("DNS is the cause: the server is up at {} but clients are sent to {}. Fix the record for {} "
                       "or point agents at the internal URL (`coder-dns-doctor patch`).",
                       names_or(s.right, "the truth address"), names_or(s.wrong, "another address"), host);
  case Code::healthz_down:
    if (s.internal_works)
      return fmt::format("The Coder pods answer on the internal URL, but nothing answers /healthz with OK through "
                         "{}: check the ingress or load balancer in front of Coder (its backend Service and port, "
                         "its controller's logs).",
                         host);
    return fmt::format("Check the Coder pods and the ingress behind {}: no address answers /healthz with OK "
                       "(kubectl -n <coder namespace> get pods,endpoints; ingress controller logs).",
                       host);
  case Code::deployment_mismatch:
    return "Make the external and the internal URL reach the same coderd: check which Service the ingress backend "
           "names and whether an old deployment still answers at one of the addresses.";
  case Code::agent_url_external: // url: the internal URL
    return fmt::format("Point the workspace agents at the internal URL: run `coder-dns-doctor patch --repo <your "
                       "GitOps checkout> --coder-url {}` (rewrites CODER_AGENT_URL and the agent init script in the "
                       "template), apply it, and rebuild the workspaces.",
                       or_else(s.url, "<internal URL>"));
  case Code::kubernetes_unavailable: // wrong: the steps for each kind of failure
    return s.wrong.empty() ? std::string("Check the Kubernetes access named in the evidence (docs/kubernetes.md "
                                         "lists the modes and the minimal RBAC).")
                           : util::join(s.wrong, " ");
  case Code::hosts_file_override: // wrong: the entries (file:line or pod); right: the truth addresses
    return fmt::format("Remove the entry that pins {} ({}): edit the hosts file, or drop the `hostAliases` of the "
                       "workspace pods (the template's `host_aliases` block) and restart the workspaces. Agents read "
                       "the hosts file before DNS, so a correct DNS record does not help while it is there{}.",
                       host, names_or(s.wrong, "named in the evidence"),
                       s.right.empty() ? std::string() : "; the right address is " + util::join(s.right, ", "));
  case Code::ingress_unreachable_in_cluster: // url: the internal URL
    return fmt::format("Workspace agents inside the cluster cannot reach the ingress at its own address (no "
                       "hairpin): point them at the internal URL with `coder-dns-doctor patch --coder-url {}`, or let "
                       "pods reach the load balancer (hairpin NAT, externalTrafficPolicy: Cluster, MetalLB L2 "
                       "limits: pods on the announcing node), or serve {} in-cluster to the ingress controller's "
                       "ClusterIP.",
                       or_else(s.url, "<internal URL>"), host);
  case Code::resolver_out_of_scope: // wrong: the resolvers that cannot know cluster names
    return fmt::format("Nothing to fix: {} cannot know cluster names. To check {} as pods see it, add the cluster DNS "
                       "(--resolver cluster=system, or LABEL=cluster:<kube-dns ClusterIP>).",
                       s.wrong.empty() ? std::string("a LAN or public resolver") : util::join(s.wrong, ", "),
                       or_else(s.host, "cluster names"));
  case Code::agent_transport_blocked:
  case Code::derp_upgrade_blocked:
  case Code::transport_cut_by_proxy:
  case Code::not_coderd: return transport_remediation(code, s);
  case Code::agent_disconnected:
  case Code::coder_api_unavailable:
  case Code::coderd_reports_unhealthy:
  case Code::workspace_rebuild_needed: return agent_remediation(code, s);
  }
  return "See the evidence.";
}

} // namespace coder_dns_doctor::analysis
