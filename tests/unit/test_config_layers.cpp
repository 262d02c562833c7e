#include <coder_dns_doctor/config/layers.hpp>

#include <CLI/CLI.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

using namespace coder_dns_doctor::config;

namespace {

Schema sample_schema() {
  return {{.name = "interval", .arity = Arity::single, .default_text = "30s", .env = "X_INTERVAL"},
          {.name = "resolver", .arity = Arity::list, .default_text = "", .env = ""},
          {.name = "expect", .arity = Arity::list, .default_text = "", .env = ""},
          {.name = "kube-insecure", .arity = Arity::flag, .default_text = "", .env = ""},
          {.name = "external-url", .arity = Arity::single, .default_text = "", .env = ""}};
}

} // namespace

TEST_SUITE("config::layers") {
  TEST_CASE("a file sets scalars, lists, mapping lists and flags") {
    auto layer =
        parse_file_text("interval: 5s\n"
                        "resolver:\n  - cluster=system\n  - public=127.0.52.53\n"
                        "expect:\n  coder.example.test: [127.0.50.101, 127.0.50.102]\n  other.test: 127.0.0.9\n"
                        "kube_insecure: yes\n",
                        "serve.yaml", sample_schema());
    REQUIRE(layer.has_value());
    CHECK(layer->at("interval").values == std::vector<std::string>{"5s"});
    CHECK(layer->at("interval").origin == "serve.yaml:1");
    CHECK(layer->at("interval").source == Source::file);
    CHECK(layer->at("resolver").values == std::vector<std::string>{"cluster=system", "public=127.0.52.53"});
    CHECK(layer->at("expect").values ==
          std::vector<std::string>{"coder.example.test=127.0.50.101,127.0.50.102", "other.test=127.0.0.9"});
    CHECK(layer->at("kube-insecure").values == std::vector<std::string>{"true"});
    CHECK(layer->at("kube-insecure").origin == "serve.yaml:8");
  }

  TEST_CASE("errors name the file and line") {
    SUBCASE("unknown key, with a suggestion") {
      auto layer = parse_file_text("interval: 5s\nintervall: 6s\n", "serve.yaml", sample_schema());
      REQUIRE_FALSE(layer.has_value());
      CHECK(layer.error() == "serve.yaml:2: unknown option 'intervall' (did you mean 'interval'?)");
    }
    SUBCASE("unknown key, nothing close") {
      auto layer = parse_file_text("\n\nfoo: 1\n", "c.yaml", sample_schema());
      REQUIRE_FALSE(layer.has_value());
      CHECK(layer.error() == "c.yaml:3: unknown option 'foo' (see --help for the options)");
    }
    SUBCASE("given twice, also through the other spelling") {
      auto layer = parse_file_text("kube-insecure: true\nkube_insecure: false\n", "c.yaml", sample_schema());
      REQUIRE_FALSE(layer.has_value());
      CHECK(layer.error() == "c.yaml:2: option 'kube-insecure' is given twice (first at line 1)");
    }
    SUBCASE("a list where one value is expected") {
      auto layer = parse_file_text("interval: [1s, 2s]\n", "c.yaml", sample_schema());
      REQUIRE_FALSE(layer.has_value());
      CHECK(layer.error() == "c.yaml:1: option 'interval' expects one value, not a list");
    }
    SUBCASE("no value") {
      auto layer = parse_file_text("external-url:\n", "c.yaml", sample_schema());
      REQUIRE_FALSE(layer.has_value());
      CHECK(layer.error() == "c.yaml:1: option 'external-url' needs a value");
    }
    SUBCASE("a flag that is not a boolean") {
      auto layer = parse_file_text("kube-insecure: maybe\n", "c.yaml", sample_schema());
      REQUIRE_FALSE(layer.has_value());
      CHECK(layer.error() == "c.yaml:1: option 'kube-insecure' expects true or false");
    }
    SUBCASE("not a mapping") {
      auto layer = parse_file_text("- interval\n", "c.yaml", sample_schema());
      REQUIRE_FALSE(layer.has_value());
      CHECK(layer.error().starts_with("c.yaml:1: expected a mapping"));
    }
    SUBCASE("broken YAML") {
      auto layer = parse_file_text("interval: 5s\nresolver: [a,\n", "c.yaml", sample_schema());
      REQUIRE_FALSE(layer.has_value());
      CHECK(layer.error().starts_with("c.yaml:"));
    }
    SUBCASE("empty list") {
      auto layer = parse_file_text("resolver: []\n", "c.yaml", sample_schema());
      REQUIRE_FALSE(layer.has_value());
      CHECK(layer.error() == "c.yaml:1: 'resolver' needs at least one value");
    }
  }

  TEST_CASE("read_file reads a regular file and refuses a FIFO, a device, a directory or a huge file at once") {
    namespace fs = std::filesystem;
    std::string pattern = (fs::temp_directory_path() / "cdd-config-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    fs::path dir = pattern;
    std::string good = (dir / "serve.yaml").string();
    std::ofstream(good) << "interval: 5s\n";
    std::string fifo = (dir / "fifo.yaml").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::string huge = (dir / "huge.yaml").string();
    std::ofstream(huge) << std::string((4U << 20) + 1, '#');

    auto layer = read_file(good, sample_schema());
    REQUIRE(layer.has_value());
    CHECK(layer->at("interval").origin == good + ":1");
    ::alarm(10); // a blocking read would hang the test binary: end it instead
    auto start = std::chrono::steady_clock::now();
    std::string absent = (dir / "absent.yaml").string();
    for (const std::string& path : {fifo, std::string("/dev/zero"), dir.string(), huge, absent}) {
      CAPTURE(path);
      auto refused = read_file(path, sample_schema());
      REQUIRE_FALSE(refused.has_value());
      CHECK(refused.error().starts_with("cannot read the config file: '" + path + "'"));
      CHECK(refused.error().find('\n') == std::string::npos);
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    ::alarm(0);
    fs::remove_all(dir);
  }

  TEST_CASE("an empty file sets nothing") {
    auto layer = parse_file_text("", "c.yaml", sample_schema());
    REQUIRE(layer.has_value());
    CHECK(layer->empty());
  }

  TEST_CASE("a stronger layer replaces a weaker one per option, lists included") {
    Layer file{{"interval", {.values = {"5s"}, .source = Source::file, .origin = "c.yaml:1"}},
               {"resolver", {.values = {"a=system", "b=127.0.0.1"}, .source = Source::file, .origin = "c.yaml:2"}}};
    Layer flags{{"resolver", {.values = {"c=system"}, .source = Source::flag, .origin = "--resolver"}}};
    Layer merged = merge(file, flags);
    CHECK(merged.at("interval").values == std::vector<std::string>{"5s"});
    CHECK(merged.at("resolver").values == std::vector<std::string>{"c=system"});
    CHECK(merged.at("resolver").source == Source::flag);
    CHECK(to_arguments(merged, sample_schema()) == std::vector<std::string>{"--interval=5s", "--resolver=c=system"});
  }

  TEST_CASE("flags become bare options, false flags disappear") {
    Layer layer{{"kube-insecure", {.values = {"true"}, .source = Source::file, .origin = "c.yaml:1"}}};
    CHECK(to_arguments(layer, sample_schema()) == std::vector<std::string>{"--kube-insecure"});
    layer["kube-insecure"].values = {"false"};
    CHECK(to_arguments(layer, sample_schema()).empty());
  }

  TEST_CASE("show-config names each value's origin") {
    Layer merged{{"interval", {.values = {"5s"}, .source = Source::file, .origin = "c.yaml:1"}},
                 {"resolver", {.values = {"a=system", "b=127.0.0.1"}, .source = Source::env, .origin = "X_RESOLVER"}}};
    std::string text = render(merged, sample_schema());
    CHECK(text.find("interval") != std::string::npos);
    CHECK(text.find("file c.yaml:1") != std::string::npos);
    CHECK(text.find("env X_RESOLVER") != std::string::npos);
    CHECK(text.find("b=127.0.0.1") != std::string::npos);
    CHECK(text.find("kube-insecure  false") != std::string::npos);
  }

  TEST_CASE("an error about a file value names where it came from") {
    Layer merged{{"kube", {.values = {"x"}, .source = Source::file, .origin = "c.yaml:3"}},
                 {"kube-token-file", {.values = {"t"}, .source = Source::file, .origin = "c.yaml:4"}}};
    CHECK(with_origins("--kube 'x': expected auto", merged) == "--kube 'x': expected auto (--kube from c.yaml:3)");
    CHECK(with_origins("--kube-token-file: missing", merged) ==
          "--kube-token-file: missing (--kube-token-file from c.yaml:4)");
    CHECK(with_origins("--timeout: bad", merged) == "--timeout: bad");
  }

  TEST_CASE("the schema and the command-line layer come from a CLI11 command") {
    CLI::App app;
    std::string interval = "30s";
    std::vector<std::string> resolvers;
    bool insecure = false;
    bool show = false;
    app.add_option("--interval", interval)->capture_default_str()->envname("CDD_TEST_INTERVAL_UNSET");
    app.add_option("--resolver", resolvers)->take_all();
    app.add_flag("--kube-insecure", insecure);
    app.add_flag("--show-config", show);
    Schema schema = schema_of(app, {"show-config"});
    REQUIRE(schema.size() == 3);
    CHECK(schema[0].name == "interval");
    CHECK(schema[0].arity == Arity::single);
    CHECK(schema[0].default_text == "30s");
    CHECK(schema[1].arity == Arity::list);
    CHECK(schema[2].arity == Arity::flag);

    app.parse("--resolver a=system --resolver b=127.0.0.1 --show-config", false);
    Layer layer = command_line_layer(app, {"show-config"});
    REQUIRE(layer.contains("resolver"));
    CHECK_FALSE(layer.contains("interval"));
    CHECK_FALSE(layer.contains("show-config"));
    CHECK(layer.at("resolver").values == std::vector<std::string>{"a=system", "b=127.0.0.1"});
    CHECK(layer.at("resolver").source == Source::flag);
  }
}
