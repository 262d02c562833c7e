// Directory scanning for patch (see locate.hpp).
#include <coder_dns_doctor/patch/locate.hpp>
#include <coder_dns_doctor/util/bounded_read.hpp>

#include <algorithm>
#include <cstdint>

namespace coder_dns_doctor::patch {

std::vector<std::filesystem::path> find_files(const std::filesystem::path& repo,
                                              std::initializer_list<std::string_view> extensions) {
  namespace fs = std::filesystem;
  std::vector<fs::path> found;
  std::error_code error;
  fs::recursive_directory_iterator it(repo, fs::directory_options::skip_permission_denied, error);
  for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    const fs::path& path = it->path();
    std::string name = path.filename().string();
    if (it->is_directory(error) && !it->is_symlink(error)) {
      if (name.starts_with('.') || name == "node_modules" || name == ".terraform")
        it.disable_recursion_pending();
      continue;
    }
    // A FIFO, a device or a socket named x.yaml is not a manifest (reading it could block or never
    // end), nor is a file larger than any manifest or template: the scan skips both. A file given
    // with --configmap/--template is read as it is, and refused with one line.
    if (!it->is_regular_file(error))
      continue;
    if (std::uintmax_t size = it->file_size(error); error || size > util::k_source_file_limit)
      continue;
    for (std::string_view extension : extensions)
      if (path.extension() == extension) {
        found.push_back(path);
        break;
      }
  }
  std::sort(found.begin(), found.end());
  return found;
}

std::string display_path(const std::filesystem::path& path, const std::filesystem::path& repo) {
  std::filesystem::path relative = path.lexically_normal().lexically_relative(repo.lexically_normal());
  // Outside the repo when the first element climbs out ("../x"), not when a name starts with ".."
  if (relative.empty() || *relative.begin() == "..")
    return path.string();
  return relative.string();
}

} // namespace coder_dns_doctor::patch
