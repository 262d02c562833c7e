// Observations + truth -> findings. Pure: no I/O, no clock, so a table of cases tests every code.
#pragma once

#include <coder_dns_doctor/analysis/findings.hpp>
#include <coder_dns_doctor/probe/observations.hpp>
#include <coder_dns_doctor/probe/plan.hpp>
#include <coder_dns_doctor/truth/truth.hpp>

#include <vector>

namespace coder_dns_doctor::analysis {

// Return `observations` with `expected` and `match` filled in for every DNS answer: the answer
// matches when its address set is inside the truth set of its family (a nodata answer matches
// only when that family has no truth). `match` stays empty when the host has no truth or the
// lookup itself failed (timeout, servfail, refused, error).
[[nodiscard]] probe::Observations annotate(probe::Observations observations, const truth::Truth& truth);

// Return the findings for annotated `observations` of `plan`, errors first.
[[nodiscard]] std::vector<Finding> analyze(const probe::Plan& plan, const probe::Observations& observations,
                                           const truth::Truth& truth);

} // namespace coder_dns_doctor::analysis
