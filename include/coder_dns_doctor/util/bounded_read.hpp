// Bounded reads of input files: every file the tool reads goes through here, so a FIFO, a
// device (/dev/zero), a directory or a huge file is refused with one line instead of hanging.
#pragma once

#include <cstddef>
#include <expected>
#include <string>

namespace coder_dns_doctor::util {

// Why an input file could not be read. `message` is one line that names the file and what was
// expected, e.g. "'/dev/zero' is not a regular file (a character device)".
enum class FileProblem { missing, not_regular, too_large, unreadable };
struct FileError {
  FileProblem problem = FileProblem::unreadable;
  std::string message;
};

// Sizes used across the tool (an input larger than these is not what it claims to be).
inline constexpr std::size_t k_small_file_limit = 1U << 20;   // resolv.conf, hosts, nsswitch, tokens
inline constexpr std::size_t k_config_file_limit = 4U << 20;  // YAML config, CA bundles
inline constexpr std::size_t k_source_file_limit = 16U << 20; // patch inputs (manifests, templates)

// Return the bytes of the regular file `path`, at most `limit` of them. Opening never blocks
// (O_NONBLOCK: a FIFO without a writer does not stall the open), and anything that is not a
// regular file after open (fstat) is refused, so `/dev/zero` or a FIFO cannot make a read endless.
[[nodiscard]] std::expected<std::string, FileError> read_bounded(const std::string& path, std::size_t limit);

} // namespace coder_dns_doctor::util
