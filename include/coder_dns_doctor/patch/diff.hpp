// Unified diffs of whole files (computed with dtl), in the format `git apply` and `patch -p1` take.
#pragma once

#include <string>
#include <string_view>

namespace coder_dns_doctor::patch {

// Return the unified diff of `before` → `after` with 3 lines of context, headed
// `--- a/<name>` / `+++ b/<name>`; an empty string when they are equal.
std::string unified_diff(std::string_view name, std::string_view before, std::string_view after);

} // namespace coder_dns_doctor::patch
