// Whole-file reads and atomic replacement with POSIX calls (see atomic_file.hpp).
#include <coder_dns_doctor/util/atomic_file.hpp>
#include <coder_dns_doctor/util/bounded_read.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace coder_dns_doctor::util {
namespace {

// Owns a file descriptor; closes it once.
class FileDescriptor {
public:
  explicit FileDescriptor(int fd) : m_fd(fd) {}
  ~FileDescriptor() {
    if (m_fd >= 0)
      ::close(m_fd);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return m_fd; }
  // Close now and report the error close() returns (a late write error surfaces here).
  int close() {
    int result = ::close(m_fd);
    m_fd = -1;
    return result;
  }

private:
  int m_fd;
};

std::string system_error(std::string_view what, const std::filesystem::path& path) {
  return fmt::format("{}: {}: {}", path.string(), what, std::strerror(errno));
}

} // namespace

std::expected<std::string, std::string> read_file(const std::filesystem::path& path) {
  auto bytes = read_bounded(path.string(), k_source_file_limit);
  if (!bytes)
    return std::unexpected(std::move(bytes.error().message));
  return std::move(*bytes);
}

std::expected<void, std::string> check_replaceable(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0)
    return std::unexpected(system_error("cannot stat", path));
  if (!S_ISREG(info.st_mode))
    return std::unexpected(fmt::format("{}: not a regular file", path.string()));
  if ((info.st_mode & S_IWUSR) == 0 || ::access(path.c_str(), W_OK) != 0)
    return std::unexpected(fmt::format("{}: file is read-only (mode {:04o}); make it writable or run without --write",
                                       path.string(), info.st_mode & 07777));
  std::filesystem::path directory = path.parent_path().empty() ? "." : path.parent_path();
  if (::access(directory.c_str(), W_OK) != 0)
    return std::unexpected(system_error("directory is not writable", directory));
  return {};
}

std::expected<void, std::string> write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  std::filesystem::path directory = path.parent_path().empty() ? "." : path.parent_path();
  struct stat info {};
  mode_t mode = 0644;
  if (::stat(path.c_str(), &info) == 0)
    mode = info.st_mode & 07777;

  std::string temp_name = (directory / ("." + path.filename().string() + ".cdd-XXXXXX")).string();
  FileDescriptor fd(::mkstemp(temp_name.data()));
  if (fd.get() < 0)
    return std::unexpected(system_error("cannot create a temporary file", directory));
  auto fail = [&](std::string_view what) {
    std::string message = system_error(what, temp_name);
    ::unlink(temp_name.c_str());
    return std::unexpected(message);
  };
  std::size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return fail("cannot write");
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd.get(), mode) != 0)
    return fail("cannot set the mode");
  if (::fsync(fd.get()) != 0)
    return fail("cannot fsync");
  if (fd.close() != 0)
    return fail("cannot close");
  if (::rename(temp_name.c_str(), path.c_str()) != 0)
    return fail("cannot rename over the target");
  // Make the rename itself durable.
  FileDescriptor dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY));
  if (dir.get() >= 0)
    ::fsync(dir.get());
  return {};
}

bool resolves_inside(const std::filesystem::path& path, const std::filesystem::path& root) {
  std::error_code error;
  std::filesystem::path resolved = std::filesystem::weakly_canonical(path, error);
  if (error)
    return false;
  std::filesystem::path resolved_root = std::filesystem::weakly_canonical(root, error);
  if (error)
    return false;
  auto [root_end, ignored] =
      std::mismatch(resolved_root.begin(), resolved_root.end(), resolved.begin(), resolved.end());
  return root_end == resolved_root.end();
}

} // namespace coder_dns_doctor::util
