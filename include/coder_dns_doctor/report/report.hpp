// Layer 6 (report; uses analysis, probe, truth; see README "Layers").
// The diagnose report: one value built after a cycle, rendered as JSON or as text tables.
#pragma once

#include <coder_dns_doctor/analysis/agent_audit.hpp>
#include <coder_dns_doctor/analysis/agent_causes.hpp>
#include <coder_dns_doctor/analysis/evaluate.hpp>
#include <coder_dns_doctor/analysis/findings.hpp>
#include <coder_dns_doctor/probe/observations.hpp>
#include <coder_dns_doctor/probe/plan.hpp>
#include <coder_dns_doctor/truth/truth.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace coder_dns_doctor::report {

struct Report {
  analysis::Verdict verdict = analysis::Verdict::healthy;
  std::vector<analysis::Finding> findings;
  truth::Truth truth;
  probe::Observations observations;
  std::vector<analysis::Annotation> annotations; // one per observations.dns entry, same order
  std::vector<probe::ResolverPlan> resolvers;
  std::vector<analysis::WorkspaceAgent> workspaces;        // the Kubernetes workspace-pod audit, when it ran
  std::optional<std::vector<analysis::AgentEntry>> agents; // coderd's agents with their causes; nullopt: no token
  std::string generated_at;                                // RFC 3339 UTC
};

// Return the annotation of `report.observations.dns[index]`; an empty one (no expectation, no
// match verdict) when the report carries none for it.
[[nodiscard]] const analysis::Annotation& annotation_of(const Report& report, std::size_t index);

// Assemble the report of one check from what it used, saw and concluded (analysis::evaluate).
[[nodiscard]] Report build(const probe::Plan& plan, probe::Observations observations, truth::Truth truth,
                           analysis::Evaluation evaluation, std::vector<analysis::WorkspaceAgent> workspaces = {});

// The JSON document of CONTRACTS.md (verdict, findings, truth, dns, http) plus resolvers and timing;
// `agents` only when the Coder API was asked (--coder-token-file).
[[nodiscard]] nlohmann::json to_json(const Report& report);

enum class Colour { yes, no };

struct TextOptions {
  Colour colour = Colour::no;
  // Fit every line into this many columns (0: no limit, `--wide`): tables drop timings first,
  // then shorten hosts, URLs and reasons with "…"; addresses, statuses and codes stay whole;
  // findings wrap. The full text of every cell is in the findings' evidence and in JSON.
  std::size_t width = 0;
  bool quiet = false; // the verdict and the findings only
};

// Text for a person: the verdict, the findings with their remediation, then the evidence tables
// (truth, resolvers, DNS, HTTP, transport, workspaces).
[[nodiscard]] std::string to_text(const Report& report, const TextOptions& options);

} // namespace coder_dns_doctor::report
