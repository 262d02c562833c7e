// The template archive: what `coder templates push` keeps and leaves out, and ustar as written
// (checksums, sizes, prefix/name split, links, padding, end blocks), read back by a small reader
// here. The integration test reads the uploaded archive with python's tarfile as well.
#include <coder_dns_doctor/rollout/template_archive.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

using namespace coder_dns_doctor;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device random;
    path = fs::temp_directory_path() / ("cdd-archive-" + std::to_string(random()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  void write(const std::string& relative, const std::string& content) const {
    fs::create_directories((path / relative).parent_path());
    std::ofstream(path / relative, std::ios::binary) << content;
  }
};

struct Entry {
  char type = 0;
  std::string name;
  std::string link;
  std::string data;
  unsigned long mode = 0;
};

unsigned long octal(const std::string& bytes, std::size_t offset, std::size_t width) {
  return std::stoul(std::string(bytes.data() + offset, width - 1), nullptr, 8);
}

std::string field(const std::string& bytes, std::size_t offset, std::size_t width) {
  std::string text(bytes.data() + offset, width);
  return text.substr(0, text.find('\0'));
}

// Read `bytes` as ustar, checking every header's checksum and magic; fails the test otherwise.
std::map<std::string, Entry> read_ustar(const std::string& bytes) {
  std::map<std::string, Entry> entries;
  REQUIRE(bytes.size() % 512 == 0);
  std::size_t at = 0;
  while (at + 512 <= bytes.size()) {
    std::string header = bytes.substr(at, 512);
    if (std::all_of(header.begin(), header.end(), [](char c) { return c == '\0'; }))
      break;
    unsigned sum = 0;
    for (std::size_t i = 0; i < 512; ++i)
      sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(header[i]);
    CHECK(octal(header, 148, 7) == sum);
    CHECK(header.substr(257, 6) == std::string("ustar\0", 6));
    CHECK(header.substr(263, 2) == "00");
    Entry entry{.type = header[156],
                .name = field(header, 0, 100),
                .link = field(header, 157, 100),
                .data = {},
                .mode = octal(header, 100, 8)};
    std::string prefix = field(header, 345, 155);
    if (!prefix.empty())
      entry.name = prefix + "/" + entry.name;
    std::size_t size = octal(header, 124, 12);
    entry.data = bytes.substr(at + 512, size);
    at += 512 + (size + 511) / 512 * 512;
    entries[entry.name] = entry;
  }
  // two zero blocks end it, and nothing follows them
  REQUIRE(bytes.size() == at + 1024);
  CHECK(std::all_of(bytes.begin() + static_cast<long>(at), bytes.end(), [](char c) { return c == '\0'; }));
  return entries;
}

} // namespace

TEST_CASE("template archive: keeps what coder templates push keeps, in ustar") {
  TempDir dir;
  dir.write("main.tf", "resource \"x\" \"y\" {}\n");
  dir.write("scripts/init.sh", "#!/bin/sh\necho hi\n");
  fs::permissions(dir.path / "scripts/init.sh", fs::perms::owner_exec, fs::perm_options::add);
  dir.write(".terraform/providers/p.bin", std::string(2000, 'p'));
  dir.write(".git/HEAD", "ref: refs/heads/main\n");
  dir.write(".terraform.lock.hcl", "lock\n");
  dir.write(".env", "SECRET=1\n");
  dir.write("terraform.tfstate", "{}");
  dir.write("state/terraform.tfstate.backup", "{}");
  dir.write("terraform.tfvars", "a = 1\n");
  dir.write("vars/x.auto.tfvars", "b = 2\n");
  std::string deep = std::string(60, 'd') + "/" + std::string(60, 'e') + "/file.txt"; // > 100: prefix + name
  dir.write(deep, "deep\n");
  fs::create_symlink("main.tf", dir.path / "link.tf");

  auto archive = rollout::make_template_archive(dir.path.string());
  REQUIRE(archive.has_value());
  auto entries = read_ustar(archive->bytes);

  CHECK(entries.at("main.tf").type == '0');
  CHECK(entries.at("main.tf").data == "resource \"x\" \"y\" {}\n");
  CHECK(entries.at("main.tf").mode == 0644);
  CHECK(entries.at("scripts/").type == '5');
  CHECK(entries.at("scripts/init.sh").mode == 0755);
  CHECK(entries.at(".terraform.lock.hcl").data == "lock\n");
  CHECK(entries.at(deep).data == "deep\n");
  CHECK(entries.at("link.tf").type == '2');
  CHECK(entries.at("link.tf").link == "main.tf");
  for (const auto& [name, entry] : entries) {
    CAPTURE(name);
    CHECK_FALSE(name.starts_with(".terraform/"));
    CHECK_FALSE(name.starts_with(".git"));
    CHECK(name != ".env");
    CHECK(name.find(".tfstate") == std::string::npos);
    CHECK(name.find("tfvars") == std::string::npos);
    CHECK_FALSE(name.starts_with("/"));
    CHECK_FALSE(name.starts_with("./"));
  }
  CHECK(archive->variable_files == std::vector<std::string>{"terraform.tfvars", "vars/x.auto.tfvars"});
  CHECK(std::count(archive->files.begin(), archive->files.end(), "main.tf") == 1);
  CHECK(archive->has_terraform());
  // the same directory, the same bytes
  CHECK(rollout::make_template_archive(dir.path.string())->bytes == archive->bytes);
}

TEST_CASE("template archive: bounds and refusals") {
  TempDir dir;
  dir.write("main.tf", "x\n");
  dir.write("big.bin", std::string(3000, 'b'));

  SUBCASE("a file over the per-file bound is left out and named") {
    auto archive = rollout::make_template_archive(dir.path.string(), {.max_file = 2048, .max_total = 1U << 20});
    REQUIRE(archive.has_value());
    CHECK(read_ustar(archive->bytes).count("big.bin") == 0);
    REQUIRE(archive->skipped.size() == 1);
    CHECK(archive->skipped[0].starts_with("big.bin: larger than 2048 bytes"));
  }
  SUBCASE("an archive over the total bound is an error") {
    auto archive = rollout::make_template_archive(dir.path.string(), {.max_file = 1U << 20, .max_total = 4096});
    REQUIRE_FALSE(archive.has_value());
    CHECK(archive.error().find("more than coderd takes") != std::string::npos);
  }
  SUBCASE("no top-level .tf: not a template") {
    fs::remove(dir.path / "main.tf");
    dir.write("modules/m/main.tf", "x\n");
    auto archive = rollout::make_template_archive(dir.path.string());
    REQUIRE_FALSE(archive.has_value());
    CHECK(archive.error().find("no .tf or .tf.json file at its top") != std::string::npos);
  }
  SUBCASE("a path longer than ustar holds is an error naming it") {
    dir.write(std::string(200, 'a') + "/" + std::string(120, 'b'), "x");
    auto archive = rollout::make_template_archive(dir.path.string());
    REQUIRE_FALSE(archive.has_value());
    CHECK(archive.error().find("too long for a tar header") != std::string::npos);
  }
  SUBCASE("not a directory") {
    auto archive = rollout::make_template_archive((dir.path / "main.tf").string());
    REQUIRE_FALSE(archive.has_value());
    CHECK(archive.error().find("expected a template directory") != std::string::npos);
  }
}
