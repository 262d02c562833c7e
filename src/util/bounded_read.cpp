// Bounded reads of input files (see bounded_read.hpp).
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

std::string_view kind_of(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISSOCK(mode))
    return "a socket";
  return "not a plain file";
}

// Closes the descriptor on every path out of read_bounded.
struct OpenFile {
  int fd = -1;
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  explicit OpenFile(int descriptor) : fd(descriptor) {}
  ~OpenFile() {
    if (fd >= 0)
      ::close(fd);
  }
};

FileError error_of(FileProblem problem, std::string message) {
  return FileError{problem, std::move(message)};
}

} // namespace

std::expected<std::string, FileError> read_bounded(const std::string& path, std::size_t limit) {
  if (path.empty())
    return std::unexpected(error_of(FileProblem::missing, "an empty file name (expected a path)"));
  OpenFile file(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (file.fd < 0) {
    int error = errno;
    if (error == ENOENT || error == ENOTDIR)
      return std::unexpected(error_of(FileProblem::missing, fmt::format("'{}' does not exist", path)));
    if (error == EISDIR)
      return std::unexpected(
          error_of(FileProblem::not_regular, fmt::format("'{}' is not a regular file (a directory)", path)));
    return std::unexpected(
        error_of(FileProblem::unreadable, fmt::format("'{}' cannot be read: {}", path, std::strerror(error))));
  }
  struct stat info {};
  if (::fstat(file.fd, &info) != 0)
    return std::unexpected(
        error_of(FileProblem::unreadable, fmt::format("'{}' cannot be read: {}", path, std::strerror(errno))));
  if (!S_ISREG(info.st_mode))
    return std::unexpected(error_of(FileProblem::not_regular,
                                    fmt::format("'{}' is not a regular file ({})", path, kind_of(info.st_mode))));
  auto too_large = [&] {
    return std::unexpected(error_of(
        FileProblem::too_large, fmt::format("'{}' is larger than {} bytes (expected a small text file)", path, limit)));
  };
  if (static_cast<std::size_t>(info.st_size) > limit)
    return too_large();
  // A regular file may still grow while it is read (a log, a file being written): read at most
  // `limit` + 1 bytes whatever fstat said.
  std::string bytes;
  bytes.resize(static_cast<std::size_t>(info.st_size) + 1);
  std::size_t used = 0;
  while (true) {
    if (used == bytes.size()) {
      if (bytes.size() > limit)
        return too_large();
      bytes.resize(std::min(limit + 1, bytes.size() * 2 + 4096));
    }
    ssize_t n = ::read(file.fd, bytes.data() + used, bytes.size() - used);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return std::unexpected(
          error_of(FileProblem::unreadable, fmt::format("'{}' cannot be read: {}", path, std::strerror(errno))));
    }
    if (n == 0)
      break;
    used += static_cast<std::size_t>(n);
  }
  if (used > limit)
    return too_large();
  bytes.resize(used);
  return bytes;
}

} // namespace coder_dns_doctor::util
