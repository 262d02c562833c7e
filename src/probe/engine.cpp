#include <coder_dns_doctor/probe/engine.hpp>

#include <coder_dns_doctor/dns/channel.hpp>
#include <coder_dns_doctor/http/client.hpp>
#include <coder_dns_doctor/transport/session.hpp>
#include <coder_dns_doctor/util/strings.hpp>

#include <curl/curl.h>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <tuple>

namespace coder_dns_doctor::probe {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds k_max_wait{250};
// Queries outstanding per server list at once (resolvers that ask the same servers share it). A burst of thousands of
// UDP queries overflows the server's receive buffer (about 250 packets on Linux loopback by default) and turns into
// timeouts that say nothing about DNS; a window keeps the server busy without dropping.
constexpr std::size_t k_max_in_flight = 128;
// Slack after a check's own time budget before the cycle gives up on it.
constexpr std::chrono::milliseconds k_deadline_slack{500};

// Judge an HTTP response for `endpoint` and copy what buildinfo says into `observation`.
void judge(Endpoint endpoint, const http::Response& response, HttpObservation& observation) {
  observation.status_code = response.status_code;
  observation.duration_ms = response.duration_ms;
  observation.coderd_version = response.header(transport::k_build_version_header);
  http::Outcome outcome{.curl_code = response.curl_code,
                        .os_errno = response.os_errno,
                        .http_code = response.status_code,
                        .too_large = response.too_large};
  if (response.error) {
    observation.error = response.error;
  } else if (response.status_code != 200) {
    observation.error = fmt::format("HTTP {}", response.status_code.value_or(0));
  } else if (endpoint == Endpoint::healthz) {
    outcome.body_matches = util::trim(response.body) == "OK";
    if (!outcome.body_matches)
      observation.error = "body is not OK";
  } else {
    auto document = nlohmann::json::parse(response.body, nullptr, false);
    outcome.body_matches =
        document.is_object() && document.contains("deployment_id") && document["deployment_id"].is_string();
    if (outcome.body_matches) {
      observation.deployment_id = document["deployment_id"].get<std::string>();
      if (document.contains("version") && document["version"].is_string())
        observation.version = document["version"].get<std::string>();
    } else {
      observation.error = "buildinfo is not a JSON object with a deployment_id";
    }
  }
  observation.status = http::classify(outcome);
  observation.ok = observation.status == http::Status::ok;
}

class Cycle {
public:
  Cycle(const Plan& plan, const truth::Truth& truth, ChannelCache& channels)
      : m_plan(plan), m_truth(truth), m_channel_cache(channels) {}
  // The cache outlives the cycle: whatever the cycle left unanswered is dropped here, however it
  // ended (their slots already say "timeout"), so no callback into this cycle is left behind.
  ~Cycle() {
    for (auto* channel : m_channels)
      if (channel != nullptr)
        channel->abandon();
  }
  Cycle(const Cycle&) = delete;
  Cycle& operator=(const Cycle&) = delete;

  Observations run(const std::atomic<bool>* cancel) {
    auto started = Clock::now();
    // A lookup may take `timeout`, then its HTTP check another `timeout`: past that plus slack
    // after the last lookup was sent (dispatch() moves it), whatever is pending counts as timed out.
    m_deadline = started + 2 * m_plan.timeout + k_deadline_slack;
    open_channels();
    if (m_plan.checks.dns)
      start_lookups();
    if (m_plan.checks.http)
      start_pinned_and_literal();
    loop(cancel);
    m_sessions.clear(); // an undecided transport check keeps its "timeout" slot
    m_observations.cycle_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    sort_http();
    return std::move(m_observations);
  }

private:
  // A search-list lookup: every candidate name asked at once; the libc answer is the first
  // candidate, in order, that returns addresses.
  struct SearchState {
    std::size_t slot = 0;
    std::vector<std::string> candidates;
    std::vector<std::optional<dns::Answer>> answers;
    std::size_t remaining = 0;
  };

  struct QueuedQuery {
    std::size_t resolver = 0;
    std::string name;
    Family family;
    dns::Channel::Callback done;
  };

  // Lookups waiting for room in the window of one server list.
  struct Window {
    std::vector<std::size_t> resolvers; // indices of the resolvers asking these servers
    std::deque<QueuedQuery> queue;
  };

  void open_channels() {
    std::map<std::vector<std::string>, std::size_t> window_of_servers;
    for (std::size_t r = 0; r < m_plan.resolvers.size(); ++r) {
      const ResolverPlan& resolver = m_plan.resolvers[r];
      auto [it, added] = window_of_servers.emplace(server_texts(resolver), m_windows.size());
      if (added)
        m_windows.emplace_back();
      Window& window = m_windows[it->second];
      // The n-th resolver asking these servers gets the cache's n-th channel for them: one each.
      auto channel = m_channel_cache.channel_for(resolver.servers, m_plan.timeout, window.resolvers.size());
      m_channel_errors.push_back(channel ? std::string{} : channel.error());
      m_channels.push_back(channel ? *channel : nullptr);
      window.resolvers.push_back(r);
      m_window_of.push_back(it->second);
    }
  }

  // Ask `name` through resolver `r` now, or as soon as its servers' window has room.
  void submit(std::size_t r, std::string name, Family family, dns::Channel::Callback done) {
    m_windows[m_window_of[r]].queue.push_back({r, std::move(name), family, std::move(done)});
    dispatch(m_window_of[r]);
  }

  std::size_t in_flight(const Window& window) const {
    std::size_t total = 0;
    for (std::size_t r : window.resolvers)
      if (m_channels[r])
        total += m_channels[r]->pending();
    return total;
  }

  void dispatch(std::size_t w) {
    Window& window = m_windows[w];
    while (!window.queue.empty() && in_flight(window) < k_max_in_flight) {
      QueuedQuery next = std::move(window.queue.front());
      window.queue.pop_front();
      m_deadline = std::max(m_deadline, Clock::now() + 2 * m_plan.timeout + k_deadline_slack);
      m_channels[next.resolver]->query(next.name, next.family,
                                       [this, w, done = std::move(next.done)](dns::Answer answer) {
                                         done(std::move(answer));
                                         dispatch(w);
                                       });
    }
  }

  std::vector<std::string> server_texts(const ResolverPlan& resolver) const {
    std::vector<std::string> out;
    for (const auto& server : resolver.servers)
      out.push_back(server.to_string());
    return out;
  }

  std::size_t add_dns_slot(const HostPlan& host, const ResolverPlan& resolver, Family family, QueryMode mode,
                           std::string name) {
    DnsObservation observation;
    observation.host = host.host;
    observation.name = std::move(name);
    observation.resolver = resolver.label;
    observation.servers = server_texts(resolver);
    observation.family = family;
    observation.mode = mode;
    observation.outside_scope = !resolver.cluster_scoped() && m_plan.is_cluster_only(host);
    observation.status = LookupStatus::timeout;
    observation.detail = "no answer within the cycle deadline";
    observation.duration_ms = static_cast<double>(m_plan.timeout.count());
    m_observations.dns.push_back(std::move(observation));
    return m_observations.dns.size() - 1;
  }

  void fill(std::size_t slot, const dns::Answer& answer, std::string name) {
    DnsObservation& observation = m_observations.dns[slot];
    observation.name = std::move(name);
    observation.status = answer.status;
    observation.detail = answer.detail;
    observation.addresses = answer.addresses;
    observation.ttl = answer.ttl;
    observation.cname_chain = answer.cname_chain;
    observation.duration_ms = answer.duration_ms;
    observation.responded = answer.responded;
  }

  // Whether `resolver` is asked about `host`: a cluster-only name goes to cluster-scoped resolvers
  // only, unless there is none (then to all; analysis excuses the ones that cannot know it).
  bool asks(const ResolverPlan& resolver, const HostPlan& host) const {
    return resolver.cluster_scoped() || !m_plan.is_cluster_only(host) || !m_plan.has_cluster_resolver();
  }

  // The hosts file's answer for `host`, as libc gives it before asking DNS: every address of the
  // entries naming it, per family; a family without one is nodata (Go and glibc's getaddrinfo do
  // not fall through to DNS once the file named the host). No entry: no observation, DNS decides.
  void look_up_hosts_file(const HostPlan& host, const ResolverPlan& resolver) {
    auto entries = resolver.hosts->file.entries_for(host.host);
    if (entries.empty())
      return;
    std::vector<std::string> lines;
    for (const dns::HostsEntry* entry : entries)
      lines.push_back(fmt::format("{}:{}", resolver.hosts->file.path, entry->line));
    for (Family family : m_plan.families) {
      std::size_t slot = add_dns_slot(host, resolver, family, QueryMode::hosts, host.host);
      DnsObservation& observation = m_observations.dns[slot];
      for (const dns::HostsEntry* entry : entries)
        if (dns::family_of(entry->address) == family)
          observation.addresses.push_back(entry->address);
      util::sort_unique(observation.addresses);
      observation.status = observation.addresses.empty() ? LookupStatus::nodata : LookupStatus::ok;
      observation.detail = util::join(lines, ", ");
      observation.servers.clear(); // no DNS server was asked
      observation.duration_ms = 0;
      observation.responded = true;
      on_addresses(host, resolver.label + "/hosts", observation.addresses);
    }
  }

  void start_lookups() {
    for (const auto& host : m_plan.hosts) {
      if (util::parse_ip(host.host))
        continue; // a literal needs no lookup
      for (std::size_t r = 0; r < m_plan.resolvers.size(); ++r) {
        const ResolverPlan& resolver = m_plan.resolvers[r];
        if (!asks(resolver, host))
          continue;
        if (resolver.hosts)
          look_up_hosts_file(host, resolver);
        for (Family family : m_plan.families) {
          std::string absolute = host.host + ".";
          std::size_t slot = add_dns_slot(host, resolver, family, QueryMode::absolute, absolute);
          if (!m_channels[r]) {
            m_observations.dns[slot].status = LookupStatus::error;
            m_observations.dns[slot].detail = m_channel_errors[r];
            m_observations.dns[slot].duration_ms = 0;
            continue;
          }
          submit(r, absolute, family, [this, slot, absolute, &resolver, &host](dns::Answer answer) {
            fill(slot, answer, absolute);
            on_addresses(host, resolver.label, answer.addresses);
          });
          if (resolver.system)
            start_search(host, resolver, r, family);
        }
      }
    }
  }

  void start_search(const HostPlan& host, const ResolverPlan& resolver, std::size_t r, Family family) {
    auto state = std::make_shared<SearchState>();
    state->candidates = dns::search_candidates(*resolver.system, host.host);
    state->answers.resize(state->candidates.size());
    state->remaining = state->candidates.size();
    state->slot = add_dns_slot(host, resolver, family, QueryMode::search, state->candidates.front());
    for (std::size_t i = 0; i < state->candidates.size(); ++i) {
      submit(r, state->candidates[i], family, [this, state, i, &resolver, &host](dns::Answer answer) {
        state->answers[i] = std::move(answer);
        if (--state->remaining == 0)
          finish_search(*state, host, resolver);
      });
    }
  }

  void finish_search(const SearchState& state, const HostPlan& host, const ResolverPlan& resolver) {
    std::size_t chosen = state.candidates.size();
    for (std::size_t i = 0; i < state.candidates.size(); ++i)
      if (state.answers[i]->status == LookupStatus::ok) {
        chosen = i;
        break;
      }
    if (chosen == state.candidates.size()) {
      // No candidate answered: libc reports the failure of the name as given.
      std::string absolute = host.host + ".";
      auto it = std::find(state.candidates.begin(), state.candidates.end(), absolute);
      chosen = it == state.candidates.end() ? state.candidates.size() - 1
                                            : static_cast<std::size_t>(it - state.candidates.begin());
    }
    const dns::Answer& answer = *state.answers[chosen];
    fill(state.slot, answer, state.candidates[chosen]);
    double slowest = 0;
    for (const auto& each : state.answers)
      slowest = std::max(slowest, each->duration_ms);
    m_observations.dns[state.slot].duration_ms = slowest;
    on_addresses(host, resolver.label + "/search", answer.addresses);
  }

  // A resolver answered `host` with `addresses`: check every URL on that host through them.
  void on_addresses(const HostPlan& host, const std::string& resolver_label,
                    const std::vector<util::IpAddress>& addresses) {
    if (!m_plan.checks.http)
      return;
    for (const auto& url : m_plan.urls) {
      if (url.url.host != host.host)
        continue;
      Via via = url.role == HostRole::internal ? Via::internal : Via::dns;
      for (const auto& address : addresses)
        request(url, via, address, resolver_label);
    }
  }

  void start_pinned_and_literal() {
    for (const auto& url : m_plan.urls) {
      if (auto literal = util::parse_ip(url.url.host)) {
        request(url, url.role == HostRole::internal ? Via::internal : Via::dns, *literal, "literal");
        continue;
      }
      for (const auto& address : m_truth.addresses_for(url.url.host)) {
        bool wanted = std::any_of(m_plan.families.begin(), m_plan.families.end(),
                                  [&](Family family) { return dns::family_of(address) == family; });
        if (wanted)
          request(url, Via::pinned, address, "");
      }
    }
  }

  // Check `url` pinned to `address`, once per (url, route, address): /healthz on a fresh
  // connection, then /api/v2/buildinfo on the same one (one TLS handshake per path, not two).
  // Later resolvers that return the same address are added to the existing observations.
  void request(const UrlPlan& url, Via via, const util::IpAddress& address, const std::string& resolver_label) {
    auto key = std::make_tuple(url.url.to_string(), via, address.text);
    if (auto existing = m_requested.find(key); existing != m_requested.end()) {
      if (resolver_label.empty())
        return;
      for (std::size_t index : existing->second.http)
        m_observations.http[index].resolvers.push_back(resolver_label);
      for (std::size_t index : existing->second.transport)
        m_observations.transport[index].resolvers.push_back(resolver_label);
      return;
    }
    std::vector<std::size_t> indices;
    for (Endpoint endpoint : {Endpoint::healthz, Endpoint::buildinfo}) {
      HttpObservation observation;
      observation.url = url.url.join(to_string(endpoint));
      observation.base_url = url.url.to_string();
      observation.endpoint = endpoint;
      observation.via = via;
      observation.address = address;
      if (!resolver_label.empty())
        observation.resolvers.push_back(resolver_label);
      observation.status = http::Status::timeout;
      observation.error = "no response within the cycle deadline";
      m_observations.http.push_back(std::move(observation));
      indices.push_back(m_observations.http.size() - 1);
    }
    std::vector<std::size_t> transports = add_transport_slots(url, via, address, resolver_label);
    m_requested.emplace(key, PathChecks{indices, transports});
    send(indices[0], http::Connection::fresh, [this, first = indices[0], next = indices[1]] {
      const HttpObservation& healthz = m_observations.http[first];
      if (!healthz.status_code) {
        // No HTTP answer on this path at all: a second request would only wait for the same fault.
        m_observations.http[next].status = http::Status::not_sent;
        m_observations.http[next].error = "not sent: " + healthz.error.value_or("/healthz failed on this path");
        return;
      }
      send(next, http::Connection::reuse, {});
    });
    // The transport checks go out beside /healthz, each on its own connection: the path's chain is
    // then lookup + the slower of the two, not their sum.
    for (std::size_t index : transports)
      start_transport(index);
  }

  // One transport observation per check for the path.
  std::vector<std::size_t> add_transport_slots(const UrlPlan& url, Via via, const util::IpAddress& address,
                                               const std::string& resolver_label) {
    std::vector<std::size_t> indices;
    if (!m_plan.checks.transport)
      return indices;
    for (Check check : transport::all_checks()) {
      TransportObservation observation;
      observation.url = url.url.join(transport::path_of(check, m_plan.agent_arch));
      observation.base_url = url.url.to_string();
      observation.check = check;
      observation.via = via;
      observation.address = address;
      if (!resolver_label.empty())
        observation.resolvers.push_back(resolver_label);
      observation.status = TransportStatus::timeout;
      observation.detail = "no answer within the cycle deadline";
      m_observations.transport.push_back(std::move(observation));
      indices.push_back(m_observations.transport.size() - 1);
      // The Host header names the port only when the URL does, as curl's own requests do.
      m_targets.push_back({url.url.authority(), url.url.path + transport::path_of(check, m_plan.agent_arch)});
    }
    return indices;
  }

  void start_transport(std::size_t index) {
    const TransportObservation& observation = m_observations.transport[index];
    auto started = Clock::now();
    std::chrono::milliseconds hold =
        observation.check == Check::derp_websocket ? m_plan.hold : std::chrono::milliseconds(0);
    m_deadline = std::max(m_deadline, started + m_plan.timeout + hold + k_deadline_slack);
    if (!transport::is_upgrade(observation.check)) {
      http::Request request = transport::http_request(observation.check, observation.url);
      request.connect_to = observation.address;
      request.timeout = m_plan.timeout;
      request.ca_file = m_plan.ca_file;
      m_http.get(request, [this, index](http::Response response) {
        record(index, transport::judge_http(m_observations.transport[index].check, response), response.duration_ms);
      });
      return;
    }
    http::Request request{.url = observation.url,
                          .connect_to = observation.address,
                          .timeout = m_plan.timeout,
                          .ca_file = m_plan.ca_file};
    m_http.connect(request, [this, index, started, hold](http::Response response,
                                                         std::unique_ptr<http::Stream> stream) {
      if (!stream) {
        transport::Result failed = transport::judge_http(m_observations.transport[index].check, response);
        record(index, std::move(failed), response.duration_ms);
        return;
      }
      const Target& target = m_targets[index];
      transport::SessionOptions options{.check = m_observations.transport[index].check,
                                        .host_header = target.host_header,
                                        .path = target.path,
                                        .timeout = m_plan.timeout,
                                        .hold = hold};
      m_sessions.push_back(
          {index, started, std::make_unique<transport::Session>(std::move(options), std::move(stream), Clock::now())});
    });
  }

  void record(std::size_t index, transport::Result result, double duration_ms) {
    TransportObservation& observation = m_observations.transport[index];
    observation.status = result.status;
    observation.ok = result.status == TransportStatus::ok;
    observation.status_code = result.status_code;
    observation.coderd_version = std::move(result.coderd_version);
    observation.detail = std::move(result.detail);
    observation.held_s = result.held_s;
    observation.duration_ms = duration_ms;
  }

  // Advance every open transport session; record and drop the decided ones.
  void step_sessions() {
    auto now = Clock::now();
    for (auto it = m_sessions.begin(); it != m_sessions.end();) {
      if (!it->session->step(now)) {
        ++it;
        continue;
      }
      double ms = std::chrono::duration<double, std::milli>(now - it->started).count();
      record(it->index, it->session->result(), ms);
      it = m_sessions.erase(it);
    }
  }

  // Send the request of observation `index`; run `then` once it has finished.
  void send(std::size_t index, http::Connection connection, std::function<void()> then) {
    const HttpObservation& observation = m_observations.http[index];
    http::Request request{.url = observation.url,
                          .connect_to = observation.address,
                          .connection = connection,
                          .timeout = m_plan.timeout,
                          .ca_file = m_plan.ca_file};
    request.capture_headers = {std::string(transport::k_build_version_header)};
    m_http.get(request, [this, index, then = std::move(then)](http::Response response) {
      HttpObservation& finished = m_observations.http[index];
      finished.error.reset();
      judge(finished.endpoint, response, finished);
      if (then)
        then();
    });
  }

  std::size_t pending_dns() const {
    std::size_t total = 0;
    for (const auto& channel : m_channels)
      if (channel)
        total += channel->pending();
    for (const auto& window : m_windows)
      total += window.queue.size();
    return total;
  }

  void loop(const std::atomic<bool>* cancel) {
    while (pending_dns() + m_http.pending() + m_sessions.size() > 0) {
      auto now = Clock::now();
      if (now >= m_deadline || (cancel != nullptr && cancel->load()))
        return;
      Waits waits =
          dns_waits(std::min(k_max_wait, std::chrono::duration_cast<std::chrono::milliseconds>(m_deadline - now)));
      add_session_waits(waits, now);
      if (auto next = m_http.next_timeout())
        waits.timeout = std::min(waits.timeout, *next);
      m_http.poll(waits.fds, std::max(waits.timeout, std::chrono::milliseconds(0)));
      process_dns(waits);
      m_http.perform();
      step_sessions();
    }
  }

  // The c-ares sockets to poll beside curl's, which channel owns each, and how long to wait.
  struct Waits {
    std::vector<http::WaitDescriptor> fds;
    std::vector<std::size_t> owner; // channel index of fds[i]
    std::chrono::milliseconds timeout{0};
  };

  Waits dns_waits(std::chrono::milliseconds longest) const {
    Waits waits{.fds = {}, .owner = {}, .timeout = longest};
    for (std::size_t c = 0; c < m_channels.size(); ++c) {
      if (!m_channels[c])
        continue;
      for (const auto& socket : m_channels[c]->sockets()) {
        short events =
            static_cast<short>((socket.read ? CURL_WAIT_POLLIN : 0) | (socket.write ? CURL_WAIT_POLLOUT : 0));
        waits.fds.push_back({socket.fd, events, 0});
        waits.owner.push_back(c);
      }
      if (auto next = m_channels[c]->next_timeout())
        waits.timeout = std::min(waits.timeout, *next);
    }
    return waits;
  }

  // Poll each open session's socket too (after the DNS sockets), and wake for its deadline.
  void add_session_waits(Waits& waits, Clock::time_point now) const {
    for (const auto& open : m_sessions) {
      if (open.session->socket() < 0)
        continue;
      auto events = static_cast<short>(CURL_WAIT_POLLIN | (open.session->wants_write() ? CURL_WAIT_POLLOUT : 0));
      waits.fds.push_back({open.session->socket(), events, 0});
      auto left = std::chrono::ceil<std::chrono::milliseconds>(open.session->deadline() - now);
      waits.timeout = std::min(waits.timeout, std::max(left, std::chrono::milliseconds(0)));
    }
  }

  // Hand each ready socket to its channel, then let every channel whose timer is due retry or fail.
  void process_dns(const Waits& waits) {
    for (std::size_t i = 0; i < waits.owner.size(); ++i) {
      if (waits.fds[i].revents == 0)
        continue;
      bool writable = (waits.fds[i].revents & CURL_WAIT_POLLOUT) != 0;
      bool readable = (waits.fds[i].revents & ~CURL_WAIT_POLLOUT) != 0;
      m_channels[waits.owner[i]]->process(waits.fds[i].fd, readable, writable);
    }
    for (auto& channel : m_channels)
      if (channel) {
        auto next = channel->next_timeout();
        if (next && next->count() == 0)
          channel->process_timeouts();
      }
  }

  void sort_http() {
    auto rank = [](const HttpObservation& o) { return std::make_tuple(o.base_url, o.via, o.address, o.endpoint); };
    std::stable_sort(m_observations.http.begin(), m_observations.http.end(),
                     [&](const HttpObservation& a, const HttpObservation& b) { return rank(a) < rank(b); });
    for (auto& observation : m_observations.http)
      std::sort(observation.resolvers.begin(), observation.resolvers.end());
    auto transport_rank = [](const TransportObservation& o) {
      return std::make_tuple(o.base_url, o.via, o.address, o.check);
    };
    std::stable_sort(m_observations.transport.begin(), m_observations.transport.end(),
                     [&](const TransportObservation& a, const TransportObservation& b) {
                       return transport_rank(a) < transport_rank(b);
                     });
    for (auto& observation : m_observations.transport)
      std::sort(observation.resolvers.begin(), observation.resolvers.end());
  }

  const Plan& m_plan;
  const truth::Truth& m_truth;
  Observations m_observations;
  http::Client m_http;
  ChannelCache& m_channel_cache;
  std::vector<dns::Channel*> m_channels; // owned by m_channel_cache; null where none could be made
  std::vector<std::string> m_channel_errors;
  std::vector<Window> m_windows;
  std::vector<std::size_t> m_window_of; // resolver index -> window index
  Clock::time_point m_deadline;
  // The observations of one path (url, route, address): its HTTP checks and its transport checks.
  struct PathChecks {
    std::vector<std::size_t> http;
    std::vector<std::size_t> transport;
  };
  std::map<std::tuple<std::string, Via, std::string>, PathChecks> m_requested;
  struct OpenSession {
    std::size_t index = 0; // into m_observations.transport
    Clock::time_point started;
    std::unique_ptr<transport::Session> session;
  };
  // What an upgrade request of m_observations.transport[i] sends: its Host header and target.
  struct Target {
    std::string host_header;
    std::string path;
  };
  std::vector<Target> m_targets;
  // Declared after m_http: destroyed first, as a Stream must be.
  std::vector<OpenSession> m_sessions;
};

} // namespace

Observations run_cycle(const Plan& plan, const truth::Truth& truth, const std::atomic<bool>* cancel,
                       ChannelCache* channels) {
  ChannelCache one_cycle;
  Cycle cycle(plan, truth, channels != nullptr ? *channels : one_cycle);
  return cycle.run(cancel);
}

std::vector<DnsObservation> look_up_names(const Plan& plan, const std::vector<std::string>& names,
                                          const std::atomic<bool>* cancel) {
  Plan lookups;
  for (const auto& resolver : plan.resolvers) {
    if (resolver.servers.empty())
      continue;
    ResolverPlan absolute_only = resolver;
    absolute_only.system.reset();
    absolute_only.hosts.reset();
    lookups.resolvers.push_back(std::move(absolute_only));
  }
  for (const auto& name : names)
    lookups.hosts.push_back({name, HostRole::extra});
  lookups.families = plan.families;
  lookups.cluster_domain = plan.cluster_domain;
  lookups.timeout = plan.timeout;
  lookups.checks = {.dns = true, .http = false, .kube = false};
  const truth::Truth no_truth;
  return run_cycle(lookups, no_truth, cancel).dns;
}

} // namespace coder_dns_doctor::probe
