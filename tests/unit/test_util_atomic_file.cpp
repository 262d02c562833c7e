// util::atomic_file: whole-file reads, the replaceability check, atomic replacement (temp file in the
// same directory, mode kept, rename) that leaves nothing behind when it fails, and resolves_inside.
#include <coder_dns_doctor/util/atomic_file.hpp>
#include <coder_dns_doctor/util/bounded_read.hpp>

#include <doctest/doctest.h>

#include "temp_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

using namespace coder_dns_doctor;
namespace fs = std::filesystem;
using coder_dns_doctor::testing::TempDir;

namespace {

// The names in `dir`, sorted: shows a temporary file left behind.
std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string slurp(const fs::path& path) {
  auto bytes = util::read_file(path);
  REQUIRE_MESSAGE(bytes, bytes.error());
  return *bytes;
}

mode_t mode_of(const fs::path& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

ino_t inode_of(const fs::path& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_ino;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// check_replaceable's answer as text: empty when `path` may be replaced, else why not.
std::string why_not(const fs::path& path) {
  auto replaceable = util::check_replaceable(path);
  return replaceable ? std::string() : replaceable.error();
}

// Sets the process umask for one test and restores it.
struct Umask {
  mode_t old;
  explicit Umask(mode_t mask) : old(::umask(mask)) {}
  ~Umask() { ::umask(old); }
  Umask(const Umask&) = delete;
  Umask& operator=(const Umask&) = delete;
};

// Runs one test in `dir` and goes back.
struct InDirectory {
  fs::path old = fs::current_path();
  explicit InDirectory(const fs::path& dir) { fs::current_path(dir); }
  ~InDirectory() { fs::current_path(old); }
  InDirectory(const InDirectory&) = delete;
  InDirectory& operator=(const InDirectory&) = delete;
};

} // namespace

TEST_SUITE("util::write_file_atomically") {
  TEST_CASE("creates a missing file with the whole content, mode 0644 whatever the umask") {
    TempDir dir("cdd-atomic");
    Umask mask(077);
    fs::path target = dir.path / "configmap.yaml";
    std::string content = "data:\n  coder_url: http://coder.coder.svc.cluster.local:80\n";
    REQUIRE(util::write_file_atomically(target, content));
    CHECK(slurp(target) == content);
    CHECK(mode_of(target) == 0644);
    CHECK(listing(dir.path) == std::vector<std::string>{"configmap.yaml"});
  }

  TEST_CASE("replaces an existing file by rename: a reader that opened the old file keeps the old bytes") {
    TempDir dir("cdd-atomic");
    fs::path target = dir.write("main.tf", "old bytes\n");
    ino_t before = inode_of(target);
    int reader = ::open(target.c_str(), O_RDONLY);
    REQUIRE(reader >= 0);

    REQUIRE(util::write_file_atomically(target, "new\n"));
    CHECK(slurp(target) == "new\n");
    CHECK(inode_of(target) != before); // a new file took the name; the old one was not rewritten

    char buffer[64] = {};
    ssize_t n = ::pread(reader, buffer, sizeof buffer, 0);
    ::close(reader);
    CHECK(std::string(buffer, n > 0 ? static_cast<std::size_t>(n) : 0) == "old bytes\n");
    CHECK(listing(dir.path) == std::vector<std::string>{"main.tf"});
  }

  TEST_CASE("a shorter content leaves nothing of the longer old one") {
    TempDir dir("cdd-atomic");
    fs::path target = dir.write("x.yaml", std::string(4096, 'o'));
    REQUIRE(util::write_file_atomically(target, "ab"));
    CHECK(slurp(target) == "ab");
    CHECK(fs::file_size(target) == 2);
  }

  TEST_CASE("writes empty, binary and large content byte for byte") {
    TempDir dir("cdd-atomic");
    fs::path target = dir.path / "blob";
    REQUIRE(util::write_file_atomically(target, ""));
    CHECK(fs::file_size(target) == 0);

    std::string binary;
    for (int i = 0; i < 256; ++i)
      binary += static_cast<char>(i);
    binary += "\r\n\xc3\xa9";
    REQUIRE(util::write_file_atomically(target, binary));
    CHECK(slurp(target) == binary);

    std::string large(3U << 20, '\0');
    for (std::size_t i = 0; i < large.size(); ++i)
      large[i] = static_cast<char>('a' + i % 26);
    REQUIRE(util::write_file_atomically(target, large));
    CHECK(slurp(target) == large);
    CHECK(listing(dir.path) == std::vector<std::string>{"blob"});
  }

  TEST_CASE("keeps the mode of the file it replaces") {
    TempDir dir("cdd-atomic");
    for (mode_t mode : {mode_t{0600}, mode_t{0640}, mode_t{0755}, mode_t{0444}}) {
      CAPTURE(mode);
      fs::path target = dir.write("f", "before");
      REQUIRE(::chmod(target.c_str(), mode) == 0);
      // Even 0444: the directory is writable, so a rename replaces it (check_replaceable refuses it).
      auto written = util::write_file_atomically(target, "after");
      REQUIRE_MESSAGE(written, written.error());
      CHECK(slurp(target) == "after");
      CHECK(mode_of(target) == mode);
    }
  }

  TEST_CASE("a symlink is replaced by a regular file, its target keeps its bytes (callers pass resolved paths)") {
    TempDir dir("cdd-atomic");
    fs::path target = dir.write("real.yaml", "real");
    fs::create_symlink(target, dir.path / "link.yaml");
    REQUIRE(util::write_file_atomically(dir.path / "link.yaml", "new"));
    CHECK_FALSE(fs::is_symlink(dir.path / "link.yaml"));
    CHECK(slurp(dir.path / "link.yaml") == "new");
    CHECK(slurp(target) == "real");
  }

  TEST_CASE("a relative name without directory is written in the current directory") {
    TempDir dir("cdd-atomic");
    InDirectory here(dir.path);
    REQUIRE(util::write_file_atomically("plain.yaml", "x: 1\n"));
    CHECK(slurp(dir.path / "plain.yaml") == "x: 1\n");
    CHECK(listing(dir.path) == std::vector<std::string>{"plain.yaml"});
  }

  TEST_CASE("a directory in the way: error names the rename, the directory and its content stay, no temp file") {
    TempDir dir("cdd-atomic");
    fs::create_directory(dir.path / "target.yaml");
    std::string inside = dir.write("target.yaml/keep", "kept");
    auto written = util::write_file_atomically(dir.path / "target.yaml", "content");
    REQUIRE_FALSE(written);
    CHECK(contains(written.error(), "cannot rename over the target"));
    CHECK(fs::is_directory(dir.path / "target.yaml"));
    CHECK(slurp(inside) == "kept");
    CHECK(listing(dir.path) == std::vector<std::string>{"target.yaml"});
  }

  TEST_CASE("a missing directory: error names the temporary file step and the directory; nothing is created") {
    TempDir dir("cdd-atomic");
    fs::path target = dir.path / "missing" / "x.yaml";
    auto written = util::write_file_atomically(target, "content");
    REQUIRE_FALSE(written);
    CHECK(contains(written.error(), "cannot create a temporary file"));
    CHECK(contains(written.error(), (dir.path / "missing").string()));
    CHECK(written.error().find('\n') == std::string::npos);
    CHECK(listing(dir.path).empty());
  }

  TEST_CASE("a parent that is a file: the write fails and the file is unchanged") {
    TempDir dir("cdd-atomic");
    fs::path file = dir.write("not-a-dir", "bytes");
    auto written = util::write_file_atomically(file / "x.yaml", "content");
    REQUIRE_FALSE(written);
    CHECK(contains(written.error(), "cannot create a temporary file"));
    CHECK(slurp(file) == "bytes");
    CHECK(listing(dir.path) == std::vector<std::string>{"not-a-dir"});
  }

  TEST_CASE("a directory the caller may not write: the old file stays, no temp file (not as root)") {
    if (::geteuid() == 0) {
      MESSAGE("skipped: root writes into a read-only directory");
      return;
    }
    TempDir dir("cdd-atomic");
    fs::path sub = dir.path / "ro";
    fs::create_directory(sub);
    fs::path target = sub / "x.yaml";
    REQUIRE(util::write_file_atomically(target, "old"));
    REQUIRE(::chmod(sub.c_str(), 0555) == 0);
    auto written = util::write_file_atomically(target, "new");
    ::chmod(sub.c_str(), 0755);
    REQUIRE_FALSE(written);
    CHECK(contains(written.error(), "cannot create a temporary file"));
    CHECK(slurp(target) == "old");
    CHECK(listing(sub) == std::vector<std::string>{"x.yaml"});
  }
}

TEST_SUITE("util::check_replaceable") {
  TEST_CASE("a writable regular file may be replaced") {
    TempDir dir("cdd-atomic");
    CHECK(why_not(dir.write("x.yaml", "a")) == "");
  }

  TEST_CASE("a missing path, a directory and a FIFO are refused, each naming the path") {
    TempDir dir("cdd-atomic");
    std::string missing = (dir.path / "missing.yaml").string();
    std::string why = why_not(missing);
    CHECK(contains(why, missing));
    CHECK(contains(why, "cannot stat"));

    std::string directory = (dir.path / "d").string();
    fs::create_directory(directory);
    CHECK(why_not(directory) == directory + ": not a regular file");
    std::string fifo = dir.fifo("pipe.yaml");
    CHECK(why_not(fifo) == fifo + ": not a regular file");
  }

  TEST_CASE("a file without the owner-write bit is read-only, even for root, and the mode is named") {
    TempDir dir("cdd-atomic");
    std::string path = dir.write("x.tf", "a");
    for (mode_t mode : {mode_t{0444}, mode_t{0555}, mode_t{0077}}) {
      CAPTURE(mode);
      REQUIRE(::chmod(path.c_str(), mode) == 0);
      std::string why = why_not(path);
      CHECK(contains(why, path + ": file is read-only (mode "));
      char octal[8];
      std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
      CHECK(contains(why, std::string("(mode ") + octal + ")"));
    }
    REQUIRE(::chmod(path.c_str(), 0200) == 0); // write-only is still replaceable
    CHECK(why_not(path) == "");
  }

  TEST_CASE("a relative name is checked against the current directory") {
    TempDir dir("cdd-atomic");
    InDirectory here(dir.path);
    (void)dir.write("rel.yaml", "a");
    CHECK(why_not("rel.yaml") == "");
    CHECK(contains(why_not("other.yaml"), "other.yaml: cannot stat"));
  }
}

TEST_SUITE("util::read_file") {
  TEST_CASE("reads a whole file; refuses a missing file, a directory and more than 16 MiB, naming it") {
    TempDir dir("cdd-atomic");
    CHECK(slurp(dir.write("ok", std::string("a\0b", 3))) == std::string("a\0b", 3));

    std::string missing = (dir.path / "missing").string();
    auto absent = util::read_file(missing);
    REQUIRE_FALSE(absent);
    CHECK(contains(absent.error(), missing));

    auto directory = util::read_file(dir.path);
    REQUIRE_FALSE(directory);
    CHECK(contains(directory.error(), dir.path.string()));

    std::string big = dir.write("big", "");
    fs::resize_file(big, util::k_source_file_limit);
    auto at_limit = util::read_file(big);
    REQUIRE(at_limit);
    CHECK(at_limit->size() == util::k_source_file_limit);
    fs::resize_file(big, util::k_source_file_limit + 1);
    auto over = util::read_file(big);
    REQUIRE_FALSE(over);
    CHECK(contains(over.error(), big));
  }
}

TEST_SUITE("util::resolves_inside") {
  TEST_CASE("paths under the root, the root itself and missing files under it are inside") {
    TempDir dir("cdd-atomic");
    fs::create_directories(dir.path / "repo" / "apps");
    fs::path repo = dir.path / "repo";
    CHECK(util::resolves_inside(repo / "apps" / "x.yaml", repo));
    CHECK(util::resolves_inside(repo / "not" / "yet.yaml", repo));
    CHECK(util::resolves_inside(repo, repo));
    CHECK(util::resolves_inside(repo / "apps" / ".." / "y.tf", repo));
  }

  TEST_CASE("siblings that share a prefix, parents and '..' escapes are outside") {
    TempDir dir("cdd-atomic");
    fs::create_directories(dir.path / "repo");
    fs::create_directories(dir.path / "repo-other");
    fs::path repo = dir.path / "repo";
    CHECK_FALSE(util::resolves_inside(dir.path / "repo-other" / "x.yaml", repo));
    CHECK_FALSE(util::resolves_inside(dir.path / "repox", repo));
    CHECK_FALSE(util::resolves_inside(dir.path, repo));
    CHECK_FALSE(util::resolves_inside(repo / ".." / "repo-other" / "x", repo));
  }

  TEST_CASE("symlinks are resolved on both sides") {
    TempDir dir("cdd-atomic");
    fs::create_directories(dir.path / "repo" / "apps");
    fs::create_directories(dir.path / "outside");
    fs::path repo = dir.path / "repo";
    (void)dir.write("outside/secret.yaml", "s");
    (void)dir.write("repo/apps/x.yaml", "x");
    fs::create_symlink(dir.path / "outside" / "secret.yaml", repo / "apps" / "link.yaml");
    fs::create_directory_symlink(dir.path / "outside", repo / "escape");
    fs::create_directory_symlink(repo, dir.path / "repo-link");

    CHECK_FALSE(util::resolves_inside(repo / "apps" / "link.yaml", repo));
    CHECK_FALSE(util::resolves_inside(repo / "escape" / "secret.yaml", repo));
    CHECK(util::resolves_inside(dir.path / "repo-link" / "apps" / "x.yaml", repo));
    CHECK(util::resolves_inside(repo / "apps" / "x.yaml", dir.path / "repo-link"));
  }
}
