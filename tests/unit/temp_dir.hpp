// A fresh directory under $TMPDIR for one test, removed with everything in it.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>

namespace coder_dns_doctor::testing {

struct TempDir {
  std::filesystem::path path;

  explicit TempDir(const std::string& prefix = "cdd-test") {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Write `bytes` to `name` inside the directory; return the file's path.
  [[nodiscard]] std::string write(const std::string& name, const std::string& bytes) const {
    std::filesystem::path file = path / name;
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << bytes;
    out.close();
    REQUIRE(out.good());
    return file.string();
  }

  // Make a FIFO `name` (no writer: a blocking open of it would hang); return its path.
  [[nodiscard]] std::string fifo(const std::string& name) const {
    std::string where = (path / name).string();
    REQUIRE(::mkfifo(where.c_str(), 0600) == 0);
    return where;
  }
};

} // namespace coder_dns_doctor::testing
