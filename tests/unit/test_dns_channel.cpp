// dns::Channel kept across cycles: abandon() drops what is pending without running it, closes the
// sockets, and leaves the channel answering the next query. probe::ChannelCache: one channel per
// (servers, budget, occurrence), kept until a sweep finds it unused. The "server" is a UDP socket
// of the test's own on 127.0.0.1 that answers only when told to.
#include <coder_dns_doctor/dns/channel.hpp>
#include <coder_dns_doctor/probe/channel_cache.hpp>

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

using namespace coder_dns_doctor;
using namespace std::chrono_literals;

namespace {

// A UDP socket on 127.0.0.1 that receives queries and answers them when asked.
class LoopbackServer {
public:
  LoopbackServer() {
    m_fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    socklen_t length = sizeof(address);
    ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&address), &length);
    m_port = ntohs(address.sin_port);
  }
  ~LoopbackServer() { ::close(m_fd); }
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  [[nodiscard]] util::Endpoint endpoint() const { return {*util::parse_ip("127.0.0.1"), m_port}; }
  [[nodiscard]] int fd() const { return m_fd; }

  // Take one query (the socket is readable); remember who sent it.
  void receive() {
    std::array<unsigned char, 512> buffer{};
    m_peer_length = sizeof(m_peer);
    ssize_t n = ::recvfrom(m_fd, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&m_peer), &m_peer_length);
    REQUIRE(n > 12);
    m_query.assign(buffer.begin(), buffer.begin() + n);
    ++received;
  }

  // Answer the last query with one A record, `a.b.c.d`, TTL 60.
  void answer(std::array<unsigned char, 4> address) {
    std::vector<unsigned char> reply = m_query;
    reply[2] |= 0x80; // QR: a response
    reply[3] = 0x80;  // RA, RCODE 0
    reply[7] = 1;     // ANCOUNT 1
    std::vector<unsigned char> record{0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4};
    reply.insert(reply.end(), record.begin(), record.end());
    reply.insert(reply.end(), address.begin(), address.end());
    ::sendto(m_fd, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&m_peer), m_peer_length);
  }

  int received = 0;

private:
  int m_fd = -1;
  std::uint16_t m_port = 0;
  std::vector<unsigned char> m_query;
  sockaddr_in m_peer{};
  socklen_t m_peer_length = 0;
};

// One turn of an event loop over the channel's sockets and the server's; `serve` runs when the
// server has a query waiting.
template <typename OnQuery> void turn(dns::Channel& channel, LoopbackServer& server, OnQuery serve) {
  std::vector<pollfd> fds{{server.fd(), POLLIN, 0}};
  for (const auto& socket : channel.sockets())
    fds.push_back({socket.fd, static_cast<short>((socket.read ? POLLIN : 0) | (socket.write ? POLLOUT : 0)), 0});
  ::poll(fds.data(), fds.size(), 20);
  if ((fds[0].revents & POLLIN) != 0) {
    server.receive();
    serve();
  }
  for (std::size_t i = 1; i < fds.size(); ++i)
    if (fds[i].revents != 0)
      channel.process(fds[i].fd, (fds[i].revents & ~POLLOUT) != 0, (fds[i].revents & POLLOUT) != 0);
  channel.process_timeouts();
}

// A channel to `server` with one query the server received and never answered, then abandoned;
// `called` is set if that query's callback ever runs.
std::unique_ptr<dns::Channel> abandoned_query(LoopbackServer& server, bool& called) {
  auto made = dns::Channel::create({.servers = {server.endpoint()}, .timeout = 2000ms});
  REQUIRE(made);
  (*made)->query("first.test", dns::Family::a, [&called](const dns::Answer&) { called = true; });
  for (int i = 0; i < 50 && server.received == 0; ++i)
    turn(**made, server, [] {}); // the query arrives; the server stays silent
  REQUIRE(server.received == 1);
  REQUIRE_FALSE((*made)->sockets().empty());
  (*made)->abandon();
  return std::move(*made);
}

// Ask `channel` a question that `server` answers with `address`; the answer, once it came.
std::optional<dns::Answer> answered_query(dns::Channel& channel, LoopbackServer& server,
                                          std::array<unsigned char, 4> address) {
  std::optional<dns::Answer> answer;
  channel.query("second.test", dns::Family::a, [&answer](dns::Answer got) { answer = std::move(got); });
  for (int i = 0; i < 100 && !answer; ++i)
    turn(channel, server, [&] { server.answer(address); });
  return answer;
}

} // namespace

TEST_CASE("an abandoned query's callback never runs and its socket closes") {
  LoopbackServer server;
  bool called = false;
  auto channel = abandoned_query(server, called);
  CHECK(channel->pending() == 0);
  CHECK(channel->sockets().empty()); // no query left: c-ares closed the socket
  CHECK_FALSE(channel->next_timeout().has_value());
  for (int i = 0; i < 5; ++i)
    turn(*channel, server, [] {});
  CHECK_FALSE(called);
}

TEST_CASE("an abandoned channel answers the next query on a fresh socket") {
  LoopbackServer server;
  bool called = false;
  auto channel = abandoned_query(server, called);
  std::optional<dns::Answer> second = answered_query(*channel, server, {127, 0, 0, 9});
  REQUIRE(second.has_value());
  CHECK(server.received == 2);
  CHECK(second->status == dns::LookupStatus::ok);
  REQUIRE(second->addresses.size() == 1);
  CHECK(second->addresses[0].text == "127.0.0.9");
  CHECK_FALSE(called);
  CHECK(channel->pending() == 0);
}

TEST_CASE("the channel cache keeps one channel per servers, budget and occurrence until a sweep finds it unused") {
  auto one = util::Endpoint{*util::parse_ip("127.0.0.1"), 5301};
  auto two = util::Endpoint{*util::parse_ip("127.0.0.2"), 5301};
  probe::ChannelCache cache;
  auto first = cache.channel_for({one}, 500ms, 0);
  REQUIRE(first);
  CHECK(*cache.channel_for({one}, 500ms, 0) == *first); // the next cycle gets the same channel
  CHECK(*cache.channel_for({one}, 500ms, 1) != *first); // a second resolver asking the same servers
  CHECK(*cache.channel_for({one}, 800ms, 0) != *first); // another time budget
  auto other = cache.channel_for({two}, 500ms, 0);
  REQUIRE(other);
  CHECK(cache.size() == 4);

  cache.sweep(); // every entry was used since the start: all stay, none is used now
  CHECK(cache.size() == 4);
  CHECK(*cache.channel_for({one}, 500ms, 0) == *first);
  cache.sweep(); // only that one was asked for again
  CHECK(cache.size() == 1);
  CHECK(*cache.channel_for({one}, 500ms, 0) == *first);

  auto none = cache.channel_for({}, 500ms, 0);
  REQUIRE_FALSE(none); // no server: the channel's own error, and nothing kept
  CHECK(cache.size() == 1);
}
