// The remediation sentence of every finding code, in one table. Each sentence is rendered from a
// Subject whose parts may all be empty: a missing name becomes a phrase that still reads ("the
// resolvers named in the evidence"), never an empty slot, so no remediation says "Make resolver(s)
// serve ..." with nothing between the words (a unit test renders every code with empty inputs).
#pragma once

#include <coder_dns_doctor/analysis/findings.hpp>

#include <string>
#include <vector>

namespace coder_dns_doctor::analysis {

// What a remediation names. Which parts a code uses is written at each case of remediation().
struct Subject {
  std::string host;               // the Coder host the finding is about
  std::vector<std::string> wrong; // resolvers, addresses, entries or steps that are wrong
  std::vector<std::string> right; // resolvers or addresses that are right
  std::string url;                // a base URL (the internal URL for agent fixes)
  std::string name;               // a query name (shadowing) or a file
  std::string suffix;             // a search suffix (shadowing)
  bool nxdomain = false;          // dns_lookup_failed: the name does not exist (vs. no answer)
  bool internal_works = false;    // healthz_down: the internal URL answers, the ingress does not
};

// Return the remediation for `code` about `subject`: one or more sentences, none with an empty slot.
[[nodiscard]] std::string remediation(Code code, const Subject& subject);

// Return `items` joined with ", ", or `fallback` when there are none.
[[nodiscard]] std::string names_or(const std::vector<std::string>& items, std::string_view fallback);

} // namespace coder_dns_doctor::analysis
