#include <coder_dns_doctor/coderapi/read.hpp>

#include <fmt/core.h>
#include <fmt/ranges.h>

namespace coder_dns_doctor::coderapi {
namespace {

using http::ApiErrorKind;

bool stops_everything(CoderFailure failure) {
  return failure == CoderFailure::credentials || failure == CoderFailure::unauthorized ||
         failure == CoderFailure::unreachable;
}

CoderProblem malformed(std::string_view request, const std::string& why) {
  return {CoderFailure::malformed, fmt::format("{}: the answer is not what coderd sends ({})", request, why)};
}

// Read every page of /api/v2/workspaces; false when a request failed (the problem is recorded).
bool read_workspaces(Client& client, const ReadLimits& limits, CoderFacts& facts) {
  std::vector<Agent> agents;
  auto paged = page_workspaces(client, limits, [&agents](const nlohmann::json& answer) {
    auto read = read_workspace_page(answer);
    if (read)
      agents.insert(agents.end(), read->agents.begin(), read->agents.end());
    return read;
  });
  if (!paged) {
    facts.problems.push_back(std::move(paged.error()));
    return false;
  }
  facts.workspaces = paged->rows;
  facts.truncated = paged->truncated;
  facts.agents = std::move(agents);
  if (facts.truncated)
    facts.problems.push_back({CoderFailure::partial_view,
                              fmt::format("GET /api/v2/workspaces: more than {} workspaces; agents after the first {} "
                                          "are not checked",
                                          limits.page_size * limits.max_pages, paged->rows)});
  return true;
}

void read_user_into(Client& client, CoderFacts& facts) {
  auto answer = client.get("/api/v2/users/me");
  if (!answer) {
    facts.problems.push_back(problem_of(answer.error()));
    return;
  }
  auto user = read_user(*answer);
  if (!user) {
    facts.problems.push_back(malformed("GET /api/v2/users/me", user.error()));
    return;
  }
  if (!user->sees_all_workspaces())
    facts.problems.push_back(
        {CoderFailure::partial_view,
         fmt::format("the Coder token belongs to {} (roles: {}), who sees only their own workspaces: other users' "
                     "agents are not checked (an Owner or Auditor token sees them all)",
                     user->username,
                     user->roles.empty() ? std::string("member") : fmt::format("{}", fmt::join(user->roles, ", ")))});
  facts.user = std::move(*user);
}

void read_health_into(Client& client, CoderFacts& facts) {
  auto answer = client.get("/api/v2/debug/health");
  if (!answer) {
    facts.problems.push_back(problem_of(answer.error()));
    return;
  }
  auto health = read_health(*answer);
  if (!health) {
    facts.problems.push_back(malformed("GET /api/v2/debug/health", health.error()));
    return;
  }
  facts.health = std::move(*health);
}

} // namespace

CoderProblem problem_of(const ApiError& error) {
  CoderFailure failure = CoderFailure::server;
  switch (error.failure.kind) {
  case ApiErrorKind::credentials: failure = CoderFailure::credentials; break;
  case ApiErrorKind::unauthorized: failure = CoderFailure::unauthorized; break;
  case ApiErrorKind::forbidden:
  case ApiErrorKind::not_found: failure = CoderFailure::forbidden; break;
  case ApiErrorKind::server_error:
  case ApiErrorKind::conflict:
  case ApiErrorKind::http_error: failure = CoderFailure::server; break;
  case ApiErrorKind::malformed:
  case ApiErrorKind::too_large: failure = CoderFailure::malformed; break;
  case ApiErrorKind::timeout:
  case ApiErrorKind::transport:
  case ApiErrorKind::skipped: failure = CoderFailure::unreachable; break;
  }
  return {failure, error.describe()};
}

std::expected<Paging, CoderProblem>
page_workspaces(Client& client, const ReadLimits& limits,
                const std::function<std::expected<WorkspacePage, std::string>(const nlohmann::json&)>& page) {
  Paging paging;
  for (std::size_t pages = 0;; ++pages) {
    if (pages == limits.max_pages) {
      paging.truncated = true;
      return paging;
    }
    auto answer = client.get(fmt::format("/api/v2/workspaces?limit={}&offset={}", limits.page_size, paging.rows));
    if (!answer)
      return std::unexpected(problem_of(answer.error()));
    auto read = page(*answer);
    if (!read)
      return std::unexpected(malformed("GET /api/v2/workspaces", read.error()));
    paging.rows += read->rows;
    if (read->rows == 0 || paging.rows >= read->count)
      return paging;
  }
}

CoderFacts read_coder(Client& client, const ReadLimits& limits) {
  CoderFacts facts;
  facts.base_url = client.connection().base_url;
  read_user_into(client, facts);
  if (!facts.problems.empty() && stops_everything(facts.problems.back().failure))
    return facts;
  read_workspaces(client, limits, facts);
  if (!facts.problems.empty() && stops_everything(facts.problems.back().failure))
    return facts;
  read_health_into(client, facts);
  return facts;
}

} // namespace coder_dns_doctor::coderapi
