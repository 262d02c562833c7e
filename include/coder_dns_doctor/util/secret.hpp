// Layer 1 (util): credentials read from files (a Kubernetes service-account token, a Coder session
// token). The caller never prints them; no message built here holds any of their bytes.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace coder_dns_doctor::util {

// Overwrite `secret` before its memory is released, then empty it.
void wipe(std::string& secret);

// Read the token in the file `path` (at most 64 KiB), without surrounding whitespace. `what` names
// it in messages ("token file", "Coder token file"). Fails, with one line that names the file, when
// it cannot be read, is empty or holds control characters.
[[nodiscard]] std::expected<std::string, std::string> read_token_file(const std::string& path,
                                                                      std::string_view what = "token file");

// Return `text` on one line (newlines and tabs become spaces), cut to `limit` bytes with "...":
// for server messages quoted in findings, never a body dump.
[[nodiscard]] std::string one_line(std::string_view text, std::size_t limit = 300);

} // namespace coder_dns_doctor::util
