// Finding the files of a GitOps checkout that patch reads.
#pragma once

#include <filesystem>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace coder_dns_doctor::patch {

// Return the regular files (symlinks included, as their link path) under `repo` whose names end
// in one of `extensions`, sorted, skipping hidden directories, node_modules and .terraform, and
// files larger than util::k_source_file_limit. FIFOs, devices and sockets are never returned.
std::vector<std::filesystem::path> find_files(const std::filesystem::path& repo,
                                              std::initializer_list<std::string_view> extensions);

// Return `path` relative to `repo` for messages ("apps/x.yaml"), without resolving symlinks.
std::string display_path(const std::filesystem::path& path, const std::filesystem::path& repo);

} // namespace coder_dns_doctor::patch
