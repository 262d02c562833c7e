// Whole-file reads and crash-safe whole-file replacement (temp file, fsync, rename).
#pragma once

#include <expected>
#include <filesystem>
#include <string>
#include <string_view>

namespace coder_dns_doctor::util {

// Return the bytes of `path` (read_bounded with k_source_file_limit: a regular file of at most
// 16 MiB), or its one-line message naming the file and what is wrong with it.
std::expected<std::string, std::string> read_file(const std::filesystem::path& path);

// Succeed when `path` may be replaced (a regular file whose owner-write bit is set and that the
// caller may write), else fail with a message saying why not. The bit is checked explicitly
// because a rename replaces a read-only file and root passes every access() check.
std::expected<void, std::string> check_replaceable(const std::filesystem::path& path);

// Replace the contents of `path` with `content` so that readers see the old or the new bytes,
// never a mix: write a temporary file in the same directory, copy the mode of the existing file,
// fsync it, rename it over `path`, fsync the directory. On failure `path` is untouched and the
// temporary file is removed; the message names the step that failed.
std::expected<void, std::string> write_file_atomically(const std::filesystem::path& path, std::string_view content);

// Return whether `path`, with every symlink resolved, lies inside `root` (also resolved).
bool resolves_inside(const std::filesystem::path& path, const std::filesystem::path& root);

} // namespace coder_dns_doctor::util
