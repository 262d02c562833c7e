// Layer 0 (core): the build's version and git revision (`version`, the build_info metric, the
// User-Agent of every request).
#pragma once

#include <string_view>

namespace coder_dns_doctor::core {

[[nodiscard]] std::string_view version();
[[nodiscard]] std::string_view revision();

} // namespace coder_dns_doctor::core
