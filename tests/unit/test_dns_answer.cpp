#include <coder_dns_doctor/dns/answer.hpp>

#include "addresses.hpp"
#include <ares.h>

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace coder_dns_doctor;
using dns::decode_answer;
using dns::Family;
using dns::LookupStatus;

namespace {

using Bytes = std::vector<unsigned char>;
constexpr std::uint16_t k_a = 1;
constexpr std::uint16_t k_aaaa = 28;
constexpr std::uint16_t k_cname = 5;

void put16(Bytes& out, unsigned value) {
  out.push_back(static_cast<unsigned char>(value >> 8));
  out.push_back(static_cast<unsigned char>(value));
}

void put32(Bytes& out, std::uint32_t value) {
  put16(out, value >> 16);
  put16(out, value & 0xffff);
}

Bytes wire_name(std::string_view name) {
  Bytes out;
  while (!name.empty()) {
    auto dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    out.push_back(static_cast<unsigned char>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  }
  out.push_back(0);
  return out;
}

struct Record {
  std::string owner; // empty: a compression pointer to the question name
  std::uint16_t type = k_a;
  std::uint32_t ttl = 60;
  Bytes data;
};

Record a(std::uint32_t ttl, Bytes ip, std::string owner = "") {
  return {std::move(owner), k_a, ttl, std::move(ip)};
}
Record cname(std::string owner, std::string_view target) {
  return {std::move(owner), k_cname, 300, wire_name(target)};
}

// A reply to `qname`/`qtype` with `records` in the answer section.
Bytes reply(std::string_view qname, std::uint16_t qtype, const std::vector<Record>& records, unsigned rcode = 0) {
  Bytes out;
  put16(out, 0x1234);
  put16(out, 0x8180 | rcode);
  put16(out, 1);
  put16(out, static_cast<unsigned>(records.size()));
  put16(out, 0);
  put16(out, 0);
  Bytes question = wire_name(qname);
  out.insert(out.end(), question.begin(), question.end());
  put16(out, qtype);
  put16(out, 1);
  for (const Record& record : records) {
    if (record.owner.empty()) {
      out.push_back(0xc0);
      out.push_back(0x0c);
    } else {
      Bytes owner = wire_name(record.owner);
      out.insert(out.end(), owner.begin(), owner.end());
    }
    put16(out, record.type);
    put16(out, 1);
    put32(out, record.ttl);
    put16(out, static_cast<unsigned>(record.data.size()));
    out.insert(out.end(), record.data.begin(), record.data.end());
  }
  return out;
}

dns::Answer decode(const Bytes& bytes, Family family) {
  return decode_answer(ARES_SUCCESS, bytes.data(), static_cast<int>(bytes.size()), family);
}

} // namespace

TEST_SUITE("dns::answer") {
  TEST_CASE("A records give sorted unique addresses and the minimum TTL") {
    auto answer = decode(reply("coder.example.test", k_a,
                               {a(30, {127, 0, 50, 102}), a(10, {127, 0, 50, 101}), a(20, {127, 0, 50, 102})}),
                         Family::a);
    CHECK(answer.status == LookupStatus::ok);
    CHECK(util::texts(answer.addresses) == std::vector<std::string>{"127.0.50.101", "127.0.50.102"});
    REQUIRE(answer.ttl);
    CHECK(*answer.ttl == 10);
    CHECK(answer.cname_chain.empty());
    CHECK(answer.responded);
  }

  TEST_CASE("AAAA records come out in canonical text") {
    Bytes loopback(16, 0);
    loopback[15] = 1;
    Bytes doc{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    auto answer =
        decode(reply("coder.example.test", k_aaaa, {{"", k_aaaa, 60, doc}, {"", k_aaaa, 45, loopback}}), Family::aaaa);
    CHECK(answer.status == LookupStatus::ok);
    CHECK(util::texts(answer.addresses) == std::vector<std::string>{"2001:db8::1", "::1"});
    REQUIRE(answer.ttl);
    CHECK(*answer.ttl == 45);
  }

  TEST_CASE("a CNAME chain of two hops is followed to its addresses and recorded in lower case") {
    // c-ares' hostent names only the first hop of such a chain; reading it as the chain once
    // reported this ordinary answer as a CNAME loop.
    auto answer = decode(reply("www.example.test", k_a,
                               {cname("", "a.example.test"), cname("a.example.test", "B.Example.Test"),
                                a(5, {127, 0, 0, 5}, "b.example.test")}),
                         Family::a);
    CHECK(answer.status == LookupStatus::ok);
    CHECK(util::texts(answer.addresses) == std::vector<std::string>{"127.0.0.5"});
    CHECK(answer.cname_chain == std::vector<std::string>{"www.example.test", "a.example.test", "b.example.test"});
  }

  TEST_CASE("a single CNAME gives the name and its target") {
    auto answer =
        decode(reply("coder.example.test", k_a, {cname("", "lb.example.net"), a(7, {127, 0, 0, 9}, "lb.example.net")}),
               Family::a);
    CHECK(answer.status == LookupStatus::ok);
    CHECK(answer.cname_chain == std::vector<std::string>{"coder.example.test", "lb.example.net"});
    REQUIRE(answer.ttl);
    CHECK(*answer.ttl == 7);
  }

  TEST_CASE("a CNAME loop is an error that names the loop, not an empty answer") {
    auto answer = decode(
        reply("loop.example.test", k_a, {cname("", "loop.fault.test"), cname("loop.fault.test", "loop.example.test")}),
        Family::a);
    CHECK(answer.status == LookupStatus::error);
    CHECK(answer.detail == "CNAME loop through loop.example.test, loop.fault.test");
    CHECK(answer.addresses.empty());
    CHECK_FALSE(answer.ttl);
  }

  TEST_CASE("no records of the asked type is NODATA") {
    SUBCASE("an empty answer section") {
      auto answer = decode(reply("coder.example.test", k_aaaa, {}), Family::aaaa);
      CHECK(answer.status == LookupStatus::nodata);
    }
    SUBCASE("records of another type only") {
      auto answer = decode(reply("coder.example.test", k_aaaa, {a(30, {127, 0, 0, 1})}), Family::aaaa);
      CHECK(answer.status == LookupStatus::nodata);
      CHECK(answer.addresses.empty());
    }
  }

  TEST_CASE("garbage and cut replies are unreadable answers, not crashes") {
    SUBCASE("random bytes") {
      Bytes garbage;
      for (int i = 7; i < 90; i += 3)
        garbage.push_back(static_cast<unsigned char>(i));
      auto answer = decode(garbage, Family::a);
      CHECK(answer.status == LookupStatus::error);
      CHECK(answer.detail.find("unreadable answer") != std::string::npos);
    }
    SUBCASE("a reply cut inside its record") {
      Bytes cut = reply("coder.example.test", k_a, {a(30, {127, 0, 0, 1})});
      cut.resize(cut.size() - 3);
      auto answer = decode(cut, Family::a);
      CHECK(answer.status == LookupStatus::error);
      CHECK(answer.addresses.empty());
    }
    SUBCASE("nothing at all") {
      auto answer = decode_answer(ARES_SUCCESS, nullptr, 0, Family::a);
      CHECK(answer.status == LookupStatus::error);
    }
  }

  TEST_CASE("c-ares failures map to statuses, and silence is told apart") {
    struct Case {
      int status;
      LookupStatus expected;
      bool responded;
    };
    for (const Case& c :
         {Case{ARES_ENOTFOUND, LookupStatus::nxdomain, true}, Case{ARES_ENODATA, LookupStatus::nodata, true},
          Case{ARES_ESERVFAIL, LookupStatus::servfail, true}, Case{ARES_EREFUSED, LookupStatus::refused, true},
          Case{ARES_ETIMEOUT, LookupStatus::timeout, false}, Case{ARES_ECONNREFUSED, LookupStatus::error, false},
          Case{ARES_EBADRESP, LookupStatus::error, true}}) {
      CAPTURE(c.status);
      auto answer = decode_answer(c.status, nullptr, 0, Family::a);
      CHECK(answer.status == c.expected);
      CHECK(answer.responded == c.responded);
      CHECK(answer.addresses.empty());
      CHECK_FALSE(answer.detail.empty());
    }
  }
}
