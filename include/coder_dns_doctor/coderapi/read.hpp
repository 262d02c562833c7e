// Layer 4 (coderapi): one check's reads of coderd's API: who the token is, every workspace's
// agents (paged, bounded), coderd's own health report. Never throws for failures of the world:
// each becomes a CoderProblem and the rest is read when it can be.
#pragma once

#include <coder_dns_doctor/coderapi/client.hpp>
#include <coder_dns_doctor/coderapi/facts.hpp>

#include <cstddef>
#include <expected>
#include <functional>
#include <string>

namespace coder_dns_doctor::coderapi {

struct ReadLimits {
  std::size_t page_size = 100; // workspaces asked per request (`limit`)
  std::size_t max_pages = 20;  // beyond page_size x max_pages workspaces the rest is not read
};

[[nodiscard]] CoderFacts read_coder(Client& client, const ReadLimits& limits = {});

// How far a paged read got: the rows read, and whether `limits.max_pages` stopped it first.
struct Paging {
  std::size_t rows = 0;
  bool truncated = false;
};

// Read GET /api/v2/workspaces page by page within `limits`, handing each answer to `page`, which
// reads it (read_workspace_page: its rows and coderd's `count`) or says why it is malformed. The
// one paging loop of every workspace reader: the check's agents, rollout's rebuilds.
[[nodiscard]] std::expected<Paging, CoderProblem>
page_workspaces(Client& client, const ReadLimits& limits,
                const std::function<std::expected<WorkspacePage, std::string>(const nlohmann::json&)>& page);

// The problem an API error stands for.
[[nodiscard]] CoderProblem problem_of(const ApiError& error);

} // namespace coder_dns_doctor::coderapi
