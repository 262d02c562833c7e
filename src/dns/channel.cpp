#include <coder_dns_doctor/dns/channel.hpp>

#include <coder_dns_doctor/dns/answer.hpp>
#include <coder_dns_doctor/util/strings.hpp>

#include <ares.h>
#include <fmt/core.h>

#include <algorithm>

namespace coder_dns_doctor::dns {

struct Channel::State {
  ares_channel channel = nullptr;
  std::map<int, SocketInterest> sockets;
};

struct QueryContext {
  Channel::Callback done;
  Family family = Family::a;
  std::chrono::steady_clock::time_point started;
};

namespace {

void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
  auto& sockets = *static_cast<std::map<int, SocketInterest>*>(data);
  if (!readable && !writable)
    sockets.erase(fd);
  else
    sockets[fd] = SocketInterest{fd, readable != 0, writable != 0};
}

void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* reply, int length) {
  std::unique_ptr<QueryContext> context(static_cast<QueryContext*>(arg));
  if (status == ARES_EDESTRUCTION)
    return; // the channel is being destroyed: its owner no longer waits for this answer
  Answer answer = decode_answer(status, reply, length, context->family);
  answer.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - context->started).count();
  context->done(std::move(answer));
}

} // namespace

Channel::Channel(std::unique_ptr<State> state) : m_state(std::move(state)) {}

Channel::~Channel() {
  if (m_state && m_state->channel != nullptr)
    ares_destroy(m_state->channel);
}

std::expected<std::unique_ptr<Channel>, std::string> Channel::create(const Options& options) {
  if (options.servers.empty())
    return std::unexpected(std::string("no DNS server to ask"));
  auto state = std::make_unique<State>();
  ares_options settings{};
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
  settings.sock_state_cb = on_socket_state;
  settings.sock_state_cb_data = &state->sockets;
  // Each server gets one try and an equal share of the lookup's time budget.
  auto share = options.timeout.count() / static_cast<long>(options.servers.size());
  settings.timeout = static_cast<int>(std::max<long>(1, share));
  settings.tries = 1;
  // NOCHECKRESP: report SERVFAIL/REFUSED as such instead of turning them into "could not contact".
  settings.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP;
  if (int rc = ares_init_options(&state->channel, &settings, mask); rc != ARES_SUCCESS)
    return std::unexpected(fmt::format("c-ares initialisation failed: {}", ares_strerror(rc)));
  std::vector<std::string> servers;
  for (const auto& server : options.servers)
    servers.push_back(server.to_string());
  std::string csv = util::join(servers, ",");
  if (int rc = ares_set_servers_ports_csv(state->channel, csv.c_str()); rc != ARES_SUCCESS) {
    ares_destroy(state->channel);
    return std::unexpected(fmt::format("c-ares rejected servers '{}': {}", csv, ares_strerror(rc)));
  }
  return std::unique_ptr<Channel>(new Channel(std::move(state)));
}

void Channel::query(const std::string& name, Family family, Callback done) {
  auto* context = new QueryContext{nullptr, family, std::chrono::steady_clock::now()};
  // Count the query as pending before c-ares may answer it synchronously (e.g. a bad name).
  ++m_pending;
  context->done = [this, generation = m_generation, done = std::move(done)](Answer answer) {
    if (generation != m_generation)
      return; // abandoned: its owner no longer waits, and m_pending no longer counts it
    --m_pending;
    done(std::move(answer));
  };
  int type = family == Family::a ? 1 /* A */ : 28 /* AAAA */;
  ares_query(m_state->channel, name.c_str(), 1 /* IN */, type, on_answer, context);
}

void Channel::abandon() {
  ++m_generation;
  m_pending = 0;
  ares_cancel(m_state->channel); // runs each callback with ARES_ECANCELLED: dropped (an older generation)
}

std::vector<SocketInterest> Channel::sockets() const {
  std::vector<SocketInterest> out;
  out.reserve(m_state->sockets.size());
  for (const auto& [fd, interest] : m_state->sockets)
    out.push_back(interest);
  return out;
}

void Channel::process(int fd, bool readable, bool writable) {
  ares_process_fd(m_state->channel, readable ? fd : ARES_SOCKET_BAD, writable ? fd : ARES_SOCKET_BAD);
}

void Channel::process_timeouts() {
  ares_process_fd(m_state->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

std::optional<std::chrono::milliseconds> Channel::next_timeout() const {
  if (m_pending == 0)
    return std::nullopt;
  timeval tv{};
  timeval* next = ares_timeout(m_state->channel, nullptr, &tv);
  if (next == nullptr)
    return std::nullopt;
  return std::chrono::milliseconds(next->tv_sec * 1000 + (next->tv_usec + 999) / 1000);
}

} // namespace coder_dns_doctor::dns
