// truth::merge and the Truth queries: --expect entries replace what Kubernetes said for their host,
// every other entry stays, and each override leaves a note naming what it replaced.
#include <coder_dns_doctor/truth/truth.hpp>

#include <doctest/doctest.h>

#include "addresses.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace truth = coder_dns_doctor::truth;
namespace util = coder_dns_doctor::util;
namespace test = coder_dns_doctor::test;

namespace {

using Strings = std::vector<std::string>;

// The only places that know TruthEntry's and Truth's fields.
truth::TruthEntry entry(std::string host, Strings addresses, std::string source) {
  truth::TruthEntry made;
  made.host = std::move(host);
  made.addresses = test::ips(addresses); // in the order given
  made.source = std::move(source);
  return made;
}

truth::TruthEntry expect(std::string host, Strings addresses) {
  return entry(std::move(host), std::move(addresses), "static");
}

truth::Truth discovered(std::vector<truth::TruthEntry> entries, Strings notes = {}) {
  truth::Truth made;
  made.entries = std::move(entries);
  made.notes = std::move(notes);
  return made;
}

// "host source addr,addr" per entry, in order: compares whole entries in one CHECK.
Strings lines(const truth::Truth& merged) {
  Strings out;
  for (const auto& e : merged.entries) {
    std::string line = e.host + " " + e.source + " ";
    for (std::size_t i = 0; i < e.addresses.size(); ++i)
      line += (i ? "," : "") + e.addresses[i].text;
    out.push_back(line);
  }
  return out;
}

// The truth set of `host`, as canonical texts.
Strings addresses_for(const truth::Truth& merged, std::string_view host) {
  return util::texts(merged.addresses_for(host));
}

const char* const k_ingress = "kubernetes:ingress/coder/coder";
const char* const k_service = "kubernetes:service/coder/coder";
const char* const k_lb = "kubernetes:service/coder/coder-lb";

} // namespace

TEST_SUITE("truth::merge") {
  TEST_CASE("nothing in, nothing out") {
    truth::Truth merged = truth::merge(discovered({}), {});
    CHECK(merged.entries.empty());
    CHECK(merged.notes.empty());
    CHECK_FALSE(merged.knows("coder.example.test"));
    CHECK(addresses_for(merged, "coder.example.test").empty());
  }

  TEST_CASE("without --expect the discovered truth comes back unchanged, notes included") {
    truth::Truth merged =
        truth::merge(discovered({entry("coder.example.test", {"127.0.50.101"}, k_ingress),
                                 entry("coder.coder.svc.cluster.local", {"127.0.209.202"}, k_service)},
                                {"an earlier note"}),
                     {});
    CHECK(lines(merged) == Strings{"coder.example.test kubernetes:ingress/coder/coder 127.0.50.101",
                                   "coder.coder.svc.cluster.local kubernetes:service/coder/coder 127.0.209.202"});
    CHECK(merged.notes == Strings{"an earlier note"});
  }

  TEST_CASE("with nothing discovered the --expect entries are the truth, and nothing is noted") {
    truth::Truth merged = truth::merge(
        discovered({}), {expect("coder.example.test", {"127.0.50.101"}), expect("other.example.test", {"::1"})});
    CHECK(lines(merged) == Strings{"coder.example.test static 127.0.50.101", "other.example.test static ::1"});
    CHECK(merged.notes.empty());
  }

  TEST_CASE("--expect replaces every discovered entry of its host and notes each one") {
    truth::Truth merged =
        truth::merge(discovered({entry("coder.example.test", {"127.0.50.101"}, k_ingress),
                                 entry("coder.example.test", {"127.0.50.102", "127.0.50.103"}, k_lb)}),
                     {expect("coder.example.test", {"127.0.52.34"})});
    CHECK(lines(merged) == Strings{"coder.example.test static 127.0.52.34"});
    CHECK(addresses_for(merged, "coder.example.test") == Strings{"127.0.52.34"});
    REQUIRE(merged.notes.size() == 2);
    CHECK(merged.notes[0] == "--expect for coder.example.test overrides kubernetes:ingress/coder/coder (127.0.50.101)");
    CHECK(merged.notes[1] ==
          "--expect for coder.example.test overrides kubernetes:service/coder/coder-lb (127.0.50.102,127.0.50.103)");
  }

  // A regression: the note was built from the elements std::remove_if had left moved-from, so it
  // named an empty source and no addresses whenever a kept entry followed the overridden one.
  TEST_CASE("the note names what was overridden when other hosts' entries follow it") {
    truth::Truth merged =
        truth::merge(discovered({entry("coder.example.test", {"127.0.50.101"}, k_ingress),
                                 entry("coder.coder.svc.cluster.local", {"127.0.209.202"}, k_service)}),
                     {expect("coder.example.test", {"127.0.52.34"})});
    CHECK(lines(merged) == Strings{"coder.coder.svc.cluster.local kubernetes:service/coder/coder 127.0.209.202",
                                   "coder.example.test static 127.0.52.34"});
    REQUIRE(merged.notes.size() == 1);
    CHECK(merged.notes[0] == "--expect for coder.example.test overrides kubernetes:ingress/coder/coder (127.0.50.101)");
  }

  TEST_CASE("other hosts keep their discovered entries, in order, and the --expect entries come last") {
    truth::Truth merged =
        truth::merge(discovered({entry("a.example.test", {"127.0.0.1"}, k_ingress),
                                 entry("coder.example.test", {"127.0.50.101"}, k_ingress),
                                 entry("b.example.test", {"127.0.0.2"}, k_service)},
                                {"kept"}),
                     {expect("new.example.test", {"127.0.0.9"}), expect("coder.example.test", {"127.0.0.8"})});
    Strings got = lines(merged);
    CHECK(got == Strings{"a.example.test kubernetes:ingress/coder/coder 127.0.0.1",
                         "b.example.test kubernetes:service/coder/coder 127.0.0.2", "new.example.test static 127.0.0.9",
                         "coder.example.test static 127.0.0.8"});
    // The discovered notes stay first; a host only --expect knows (new.example.test) overrides nothing.
    REQUIRE(merged.notes.size() == 2);
    CHECK(merged.notes[0] == "kept");
    CHECK(merged.notes[1].starts_with("--expect for coder.example.test overrides "));
  }

  TEST_CASE("two --expect entries for one host are both kept; their addresses add up") {
    truth::Truth merged = truth::merge(
        discovered({entry("coder.example.test", {"127.0.50.101"}, k_ingress)}),
        {expect("coder.example.test", {"127.0.0.2"}), expect("coder.example.test", {"127.0.0.1", "127.0.0.2"})});
    CHECK(lines(merged) ==
          Strings{"coder.example.test static 127.0.0.2", "coder.example.test static 127.0.0.1,127.0.0.2"});
    CHECK(addresses_for(merged, "coder.example.test") == Strings{"127.0.0.1", "127.0.0.2"});
    // The discovered entry was overridden once, by the first claim: one note, not one per claim.
    CHECK(merged.notes.size() == 1);
  }

  TEST_CASE("two discovered entries for one host both stay without --expect; the truth set is their union") {
    truth::Truth merged =
        truth::merge(discovered({entry("coder.example.test", {"127.0.50.101", "127.0.50.102"}, k_ingress),
                                 entry("coder.example.test", {"127.0.50.102", "127.0.50.100"}, k_lb)}),
                     {});
    CHECK(merged.entries.size() == 2);
    CHECK(addresses_for(merged, "coder.example.test") == Strings{"127.0.50.100", "127.0.50.101", "127.0.50.102"});
  }

  TEST_CASE("the override is per host, not per family: an IPv4-only --expect drops the discovered IPv6") {
    truth::Truth merged = truth::merge(discovered({entry("coder.example.test", {"127.0.50.101", "::1"}, k_ingress)}),
                                       {expect("coder.example.test", {"127.0.0.1"})});
    CHECK(addresses_for(merged, "coder.example.test") == Strings{"127.0.0.1"});
    REQUIRE(merged.notes.size() == 1);
    CHECK(merged.notes[0] ==
          "--expect for coder.example.test overrides kubernetes:ingress/coder/coder (127.0.50.101,::1)");
  }

  TEST_CASE("both families of one host are one truth set, sorted as text") {
    truth::Truth merged = truth::merge(discovered({entry("coder.example.test", {"::1"}, k_ingress),
                                                   entry("coder.example.test", {"127.0.0.9", "127.0.0.10"}, k_lb)}),
                                       {});
    // Text order, not numeric: "127.0.0.10" < "127.0.0.9" < "::1".
    CHECK(addresses_for(merged, "coder.example.test") == Strings{"127.0.0.10", "127.0.0.9", "::1"});
  }

  TEST_CASE("an --expect with no addresses still overrides: the host is known, with an empty truth set") {
    truth::Truth merged = truth::merge(discovered({entry("coder.example.test", {"127.0.50.101"}, k_ingress)}),
                                       {expect("coder.example.test", {})});
    CHECK(merged.knows("coder.example.test"));
    CHECK(addresses_for(merged, "coder.example.test").empty());
    REQUIRE(merged.notes.size() == 1);
    CHECK(merged.notes[0] == "--expect for coder.example.test overrides kubernetes:ingress/coder/coder (127.0.50.101)");
  }

  TEST_CASE("hosts are compared exactly as given (callers lower-case them, without trailing dot)") {
    truth::Truth merged =
        truth::merge(discovered({entry("coder.example.test", {"127.0.50.101"}, k_ingress)}),
                     {expect("Coder.Example.Test", {"127.0.0.1"}), expect("coder.example.test.", {"127.0.0.2"})});
    CHECK(merged.entries.size() == 3);
    CHECK(merged.notes.empty());
    CHECK(addresses_for(merged, "coder.example.test") == Strings{"127.0.50.101"});
    CHECK(addresses_for(merged, "Coder.Example.Test") == Strings{"127.0.0.1"});
  }

  TEST_CASE("knows and addresses_for answer only for the host asked") {
    truth::Truth merged = truth::merge(discovered({entry("coder.example.test", {"127.0.50.101"}, k_ingress)}),
                                       {expect("other.example.test", {"127.0.0.1"})});
    CHECK(merged.knows("coder.example.test"));
    CHECK(merged.knows("other.example.test"));
    CHECK_FALSE(merged.knows("example.test"));
    CHECK_FALSE(merged.knows("coder.example.tes"));
    CHECK_FALSE(merged.knows(""));
    CHECK(addresses_for(merged, "other.example.test") == Strings{"127.0.0.1"});
    CHECK(addresses_for(merged, "example.test").empty());
  }
}
