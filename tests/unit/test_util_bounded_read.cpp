// Bounded reads of input files: regular files up to the limit are read, anything else is refused
// at once with a typed problem and one line naming the file.
#include <coder_dns_doctor/util/bounded_read.hpp>

#include <doctest/doctest.h>

#include "temp_dir.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

using namespace coder_dns_doctor;
namespace fs = std::filesystem;

namespace {

using coder_dns_doctor::testing::TempDir;

// A read that blocks would hang the whole unit-test binary: SIGALRM ends it instead, and a read
// that merely takes long fails the time check.
struct Deadline {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  Deadline() { ::alarm(10); }
  ~Deadline() { ::alarm(0); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
  [[nodiscard]] bool quick() const { return std::chrono::steady_clock::now() - start < std::chrono::seconds(2); }
};

void check_one_line_naming(const util::FileError& error, const std::string& path) {
  CHECK(error.message.find(path) != std::string::npos);
  CHECK(error.message.find('\n') == std::string::npos);
}

} // namespace

TEST_SUITE("util::read_bounded") {
  TEST_CASE("a regular file is read whole, bytes unchanged") {
    TempDir dir("cdd-bounded-read");
    using namespace std::string_literals;
    std::string bytes = "nameserver 127.0.0.53\r\n\0tail"s; // NUL and CR kept
    auto read = util::read_bounded(dir.write("resolv.conf", bytes), util::k_small_file_limit);
    REQUIRE(read.has_value());
    CHECK(*read == bytes);
  }

  TEST_CASE("an empty file is an empty string, not an error") {
    TempDir dir("cdd-bounded-read");
    auto read = util::read_bounded(dir.write("empty", ""), util::k_small_file_limit);
    REQUIRE(read.has_value());
    CHECK(read->empty());
  }

  TEST_CASE("exactly the limit is read; one byte more is too large") {
    TempDir dir("cdd-bounded-read");
    constexpr std::size_t limit = 4096;
    auto at_limit = util::read_bounded(dir.write("at", std::string(limit, 'a')), limit);
    REQUIRE(at_limit.has_value());
    CHECK(at_limit->size() == limit);

    std::string over = dir.write("over", std::string(limit + 1, 'b'));
    auto over_limit = util::read_bounded(over, limit);
    REQUIRE_FALSE(over_limit.has_value());
    CHECK(over_limit.error().problem == util::FileProblem::too_large);
    check_one_line_naming(over_limit.error(), over);
    // the message says how large, never what the file holds
    CHECK(over_limit.error().message.find("bbbb") == std::string::npos);
  }

  TEST_CASE("a missing path, or an empty one, is missing") {
    TempDir dir("cdd-bounded-read");
    std::string missing = (dir.path / "no-such-file").string();
    auto read = util::read_bounded(missing, util::k_small_file_limit);
    REQUIRE_FALSE(read.has_value());
    CHECK(read.error().problem == util::FileProblem::missing);
    check_one_line_naming(read.error(), missing);

    std::string under_a_file = dir.write("plain", "x") + "/child"; // ENOTDIR
    auto below = util::read_bounded(under_a_file, util::k_small_file_limit);
    REQUIRE_FALSE(below.has_value());
    CHECK(below.error().problem == util::FileProblem::missing);

    auto empty = util::read_bounded("", util::k_small_file_limit);
    REQUIRE_FALSE(empty.has_value());
    CHECK(empty.error().problem == util::FileProblem::missing);
  }

  TEST_CASE("a directory is not a regular file") {
    TempDir dir("cdd-bounded-read");
    auto read = util::read_bounded(dir.path.string(), util::k_small_file_limit);
    REQUIRE_FALSE(read.has_value());
    CHECK(read.error().problem == util::FileProblem::not_regular);
    check_one_line_naming(read.error(), dir.path.string());
  }

  TEST_CASE("/dev/zero (a character device) is refused at once, not read forever") {
    REQUIRE(fs::exists("/dev/zero"));
    Deadline deadline;
    auto read = util::read_bounded("/dev/zero", util::k_small_file_limit);
    CHECK(deadline.quick());
    REQUIRE_FALSE(read.has_value());
    CHECK(read.error().problem == util::FileProblem::not_regular);
    check_one_line_naming(read.error(), "/dev/zero");
  }

  TEST_CASE("a FIFO without a writer is refused at once") {
    TempDir dir("cdd-bounded-read");
    std::string fifo = (dir.path / "fifo").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    Deadline deadline;
    auto read = util::read_bounded(fifo, util::k_small_file_limit);
    CHECK(deadline.quick());
    REQUIRE_FALSE(read.has_value());
    CHECK(read.error().problem == util::FileProblem::not_regular);
    check_one_line_naming(read.error(), fifo);
  }

  TEST_CASE("a symlink to a regular file is read; a symlink to a FIFO is refused") {
    TempDir dir("cdd-bounded-read");
    std::string target = dir.write("target", "token-bytes\n");
    fs::path link = dir.path / "link";
    fs::create_symlink(target, link);
    auto read = util::read_bounded(link.string(), util::k_small_file_limit);
    REQUIRE(read.has_value());
    CHECK(*read == "token-bytes\n");

    std::string fifo = (dir.path / "fifo").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    fs::path fifo_link = dir.path / "fifo-link";
    fs::create_symlink(fifo, fifo_link);
    Deadline deadline;
    auto refused = util::read_bounded(fifo_link.string(), util::k_small_file_limit);
    CHECK(deadline.quick());
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().problem == util::FileProblem::not_regular);
  }

  TEST_CASE("a file without read permission is unreadable") {
    if (::geteuid() == 0)
      return; // root reads it anyway
    TempDir dir("cdd-bounded-read");
    std::string secret = dir.write("secret", "x");
    REQUIRE(::chmod(secret.c_str(), 0) == 0);
    auto read = util::read_bounded(secret, util::k_small_file_limit);
    REQUIRE_FALSE(read.has_value());
    CHECK(read.error().problem == util::FileProblem::unreadable);
    check_one_line_naming(read.error(), secret);
  }
}
