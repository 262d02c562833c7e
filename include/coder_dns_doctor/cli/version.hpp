// The build's version and git revision (also exported as the build_info metric).
#pragma once

#include <string_view>

namespace coder_dns_doctor::cli {

[[nodiscard]] std::string_view version();
[[nodiscard]] std::string_view revision();

} // namespace coder_dns_doctor::cli
