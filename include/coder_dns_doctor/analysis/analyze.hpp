// Observations + truth -> findings. Pure: no I/O, no clock, so a table of cases tests every code.
#pragma once

#include <coder_dns_doctor/analysis/findings.hpp>
#include <coder_dns_doctor/probe/observations.hpp>
#include <coder_dns_doctor/probe/plan.hpp>
#include <coder_dns_doctor/truth/truth.hpp>

#include <optional>
#include <string>
#include <vector>

namespace coder_dns_doctor::analysis {

// What analysis concludes about one DNS answer: the truth addresses of its family, and whether
// the answer stays inside them (nullopt when no truth is known or the lookup itself failed).
struct Annotation {
  std::vector<util::IpAddress> expected;
  std::optional<bool> match;
};

// Return one annotation per entry of `observations.dns`, in the same order: the answer matches
// when its address set is inside the truth set of its family (a nodata answer matches only when
// that family has no truth). `match` stays empty when the host has no truth, the lookup itself
// failed (timeout, servfail, refused, error) or the resolver cannot know the name.
[[nodiscard]] std::vector<Annotation> annotate(const probe::Observations& observations, const truth::Truth& truth);

// Return the findings the DNS and HTTP observations of `plan` show, in check order (evaluate()
// sorts); `annotations` is annotate() of the same observations.
[[nodiscard]] std::vector<Finding> analyze(const probe::Plan& plan, const probe::Observations& observations,
                                           const std::vector<Annotation>& annotations, const truth::Truth& truth);

} // namespace coder_dns_doctor::analysis
