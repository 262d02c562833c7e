// gzip (RFC 1952) of a response body, with zlib.
#pragma once

#include <string>
#include <string_view>

namespace coder_dns_doctor::daemon {

// The gzip member holding `data` (default compression level); empty only if zlib fails.
[[nodiscard]] std::string gzip(std::string_view data);

} // namespace coder_dns_doctor::daemon
