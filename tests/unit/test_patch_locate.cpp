// patch::find_files and patch::display_path: which files of a GitOps checkout `patch` reads, and
// how it names them in messages.
#include <coder_dns_doctor/patch/locate.hpp>
#include <coder_dns_doctor/util/bounded_read.hpp>

#include <doctest/doctest.h>

#include "temp_dir.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace patch = coder_dns_doctor::patch;
namespace fs = std::filesystem;
using coder_dns_doctor::testing::TempDir;

namespace {

// `relative` under `dir`, parent directories made; returns the full path.
fs::path file(const TempDir& dir, const std::string& relative, const std::string& bytes = "kind: ConfigMap\n") {
  fs::create_directories((dir.path / relative).parent_path());
  return dir.write(relative, bytes);
}

// The paths found, relative to the repo, in the order returned.
std::vector<std::string> found(const fs::path& repo, std::initializer_list<std::string_view> extensions) {
  std::vector<std::string> names;
  for (const auto& path : patch::find_files(repo, extensions))
    names.push_back(path.lexically_relative(repo).string());
  return names;
}

using Names = std::vector<std::string>;

} // namespace

TEST_SUITE("patch::find_files") {
  TEST_CASE("finds files of the given extensions at every depth, sorted by path") {
    TempDir dir("cdd-locate");
    file(dir, "z.yaml");
    file(dir, "apps/coder/configmap.yaml");
    file(dir, "apps/coder/kustomization.yml");
    file(dir, "apps/a.yaml");
    file(dir, "templates/k8s/main.tf", "resource \"coder_agent\" \"dev\" {}\n");
    file(dir, "README.md");
    CHECK(found(dir.path, {".yaml", ".yml"}) ==
          Names{"apps/a.yaml", "apps/coder/configmap.yaml", "apps/coder/kustomization.yml", "z.yaml"});
    CHECK(found(dir.path, {".tf"}) == Names{"templates/k8s/main.tf"});
    CHECK(found(dir.path, {".yaml"}) == Names{"apps/a.yaml", "apps/coder/configmap.yaml", "z.yaml"});
    CHECK(found(dir.path, {}).empty());
  }

  TEST_CASE("returned paths start with the repo path as given") {
    TempDir dir("cdd-locate");
    file(dir, "apps/x.yaml");
    auto paths = patch::find_files(dir.path, {".yaml"});
    REQUIRE(paths.size() == 1);
    CHECK(paths[0] == dir.path / "apps" / "x.yaml");
  }

  TEST_CASE("the extension is the last one, matched exactly and case-sensitively") {
    TempDir dir("cdd-locate");
    file(dir, "a.yaml");
    file(dir, "b.yaml.bak");
    file(dir, "c.YAML");
    file(dir, "dyaml");
    file(dir, "e.tf.yaml");
    file(dir, ".yaml"); // a dot file named ".yaml" has no extension
    file(dir, ".hidden.yaml");
    CHECK(found(dir.path, {".yaml"}) == Names{".hidden.yaml", "a.yaml", "e.tf.yaml"});
  }

  TEST_CASE("hidden directories, node_modules and .terraform are not entered; other directories are") {
    TempDir dir("cdd-locate");
    file(dir, ".git/config.yaml");
    file(dir, ".github/workflows/ci.yaml");
    file(dir, "apps/.cache/x.yaml");
    file(dir, "node_modules/pkg/a.yaml");
    file(dir, "tools/node_modules/b.yaml");
    file(dir, "templates/.terraform/modules/m.tf");
    file(dir, "templates/main.tf");
    file(dir, "apps/node_modules.d/ok.yaml");
    file(dir, "apps/x.yaml/inside.yaml"); // a directory named like a manifest is entered, not returned
    CHECK(found(dir.path, {".yaml"}) == Names{"apps/node_modules.d/ok.yaml", "apps/x.yaml/inside.yaml"});
    CHECK(found(dir.path, {".tf"}) == Names{"templates/main.tf"});
  }

  TEST_CASE("a symlink to a file is returned as the link; a symlinked directory is not followed") {
    TempDir dir("cdd-locate");
    fs::path real = file(dir, "apps/real.yaml");
    file(dir, "elsewhere/outside.yaml");
    fs::create_symlink(real, dir.path / "apps" / "link.yaml");
    fs::create_directory_symlink(dir.path / "elsewhere", dir.path / "apps" / "linked-dir");
    fs::create_symlink(dir.path / "missing.yaml", dir.path / "apps" / "broken.yaml");
    auto paths = patch::find_files(dir.path / "apps", {".yaml"});
    REQUIRE(paths.size() == 2);
    CHECK(paths[0] == dir.path / "apps" / "link.yaml");
    CHECK(fs::is_symlink(paths[0]));
    CHECK(paths[1] == dir.path / "apps" / "real.yaml");
  }

  TEST_CASE("a broken symlink does not end the scan early") {
    TempDir dir("cdd-locate");
    for (const char* name : {"a", "m", "z"})
      fs::create_symlink(dir.path / "nowhere", dir.path / (std::string(name) + "-broken.yaml"));
    for (const char* name : {"b.yaml", "n/c.yaml", "y.yaml"})
      file(dir, name);
    CHECK(found(dir.path, {".yaml"}) == Names{"b.yaml", "n/c.yaml", "y.yaml"});
  }

  TEST_CASE("FIFOs, sockets and symlinks to them are never returned") {
    TempDir dir("cdd-locate");
    std::string fifo = dir.fifo("pipe.yaml");
    fs::create_symlink(fifo, dir.path / "to-pipe.yaml");
    int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(sock >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::string sock_path = (dir.path / "sock.yaml").string();
    REQUIRE(sock_path.size() < sizeof address.sun_path);
    std::memcpy(address.sun_path, sock_path.c_str(), sock_path.size() + 1);
    REQUIRE(::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    file(dir, "real.yaml");
    CHECK(found(dir.path, {".yaml"}) == Names{"real.yaml"});
    ::close(sock);
  }

  TEST_CASE("files up to 16 MiB are returned, larger ones are not") {
    TempDir dir("cdd-locate");
    fs::path at_limit = file(dir, "at-limit.yaml", "");
    fs::resize_file(at_limit, coder_dns_doctor::util::k_source_file_limit);
    fs::path over = file(dir, "over.yaml", "");
    fs::resize_file(over, coder_dns_doctor::util::k_source_file_limit + 1);
    file(dir, "empty.yaml", "");
    CHECK(found(dir.path, {".yaml"}) == Names{"at-limit.yaml", "empty.yaml"});
  }

  TEST_CASE("a missing repo, a file as repo and an empty repo give nothing") {
    TempDir dir("cdd-locate");
    CHECK(patch::find_files(dir.path / "missing", {".yaml"}).empty());
    fs::path plain = file(dir, "plain.yaml");
    CHECK(patch::find_files(plain, {".yaml"}).empty());
    fs::create_directory(dir.path / "empty");
    CHECK(patch::find_files(dir.path / "empty", {".yaml"}).empty());
  }

  TEST_CASE("an unreadable directory is skipped, the rest is found (not as root)") {
    if (::geteuid() == 0) {
      MESSAGE("skipped: root reads every directory");
      return;
    }
    TempDir dir("cdd-locate");
    file(dir, "locked/x.yaml");
    file(dir, "open/y.yaml");
    fs::permissions(dir.path / "locked", fs::perms::none);
    Names names = found(dir.path, {".yaml"});
    fs::permissions(dir.path / "locked", fs::perms::owner_all);
    CHECK(names == Names{"open/y.yaml"});
  }
}

TEST_SUITE("patch::display_path") {
  TEST_CASE("under the repo: relative to it, after lexical normalization; elsewhere: as given") {
    struct Case {
      const char* path;
      const char* repo;
      const char* shown;
    };
    for (const Case& c : {Case{"/srv/gitops/apps/coder/cm.yaml", "/srv/gitops", "apps/coder/cm.yaml"},
                          Case{"/srv/gitops/apps/coder/cm.yaml", "/srv/gitops/", "apps/coder/cm.yaml"},
                          Case{"gitops/main.tf", "gitops", "main.tf"}, Case{"./apps/x.yaml", ".", "apps/x.yaml"},
                          // both sides normalized first
                          Case{"/srv/gitops/apps/../templates/./main.tf", "/srv/./gitops", "templates/main.tf"},
                          Case{"/srv//gitops/a.yaml", "/srv/gitops", "a.yaml"},
                          // outside the repo (a sibling with the same prefix, a '..' escape, another root)
                          Case{"/etc/passwd", "/srv/gitops", "/etc/passwd"},
                          Case{"/srv/gitops-old/a.yaml", "/srv/gitops", "/srv/gitops-old/a.yaml"},
                          Case{"/srv/gitops/../x.yaml", "/srv/gitops", "/srv/gitops/../x.yaml"},
                          Case{"relative/a.yaml", "/srv/gitops", "relative/a.yaml"}}) {
      CAPTURE(c.path);
      CAPTURE(c.repo);
      CHECK(patch::display_path(c.path, c.repo) == c.shown);
    }
  }

  TEST_CASE("symlinks are not resolved: the link's own path is shown") {
    TempDir dir("cdd-locate");
    fs::path real = file(dir, "elsewhere/real.yaml");
    fs::create_directories(dir.path / "repo");
    fs::create_symlink(real, dir.path / "repo" / "link.yaml");
    CHECK(patch::display_path(dir.path / "repo" / "link.yaml", dir.path / "repo") == "link.yaml");
  }

  // A regression: every relative path starting with ".." counted as outside the repo.
  TEST_CASE("a file whose name starts with '..' is still inside the repo") {
    CHECK(patch::display_path("/srv/gitops/..hidden.yaml", "/srv/gitops") == "..hidden.yaml");
  }
}
