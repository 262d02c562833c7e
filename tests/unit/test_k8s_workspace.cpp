// Table tests: which Coder host a workspace agent is started against (init scripts, env, pods).
#include <coder_dns_doctor/k8s/workspace.hpp>

#include "addresses.hpp"

#include <doctest/doctest.h>

using namespace coder_dns_doctor;
using k8s::AgentTarget;
using nlohmann::json;

namespace {

// A script shaped like Coder's Linux bootstrap once the provider substituted the access URL.
std::string bootstrap(const std::string& url) {
  return "#!/usr/bin/env sh\nset -eux\nBINARY_DIR=$(mktemp -d -t coder.XXXXXX)\nBINARY_NAME=coder\n"
         "BINARY_URL=" +
         url +
         "bin/coder-linux-amd64\ncd \"$BINARY_DIR\"\n"
         "curl -fsSL --compressed \"${BINARY_URL}\" -o \"${BINARY_NAME}\"\n"
         "export CODER_AGENT_AUTH=\"token\"\nexport CODER_AGENT_URL=\"" +
         url + "\"\nexec ./${BINARY_NAME} agent\n";
}

} // namespace

TEST_SUITE("k8s::workspace") {
  TEST_CASE("host_of_url_at") {
    struct Case {
      const char* text;
      const char* host; // "" = none
    };
    for (const Case& c :
         {Case{"https://coder.example.test/", "coder.example.test"},
          Case{"https://Coder.Example.Test:18443/bin/coder-linux-amd64", "coder.example.test"},
          Case{"http://coder.coder.svc.cluster.local:80\"", "coder.coder.svc.cluster.local"},
          Case{"https://user:pw@coder.example.test/x", "coder.example.test"},
          Case{"https://[fd00::1]:8443/", "fd00::1"}, Case{"http://127.0.209.202:18080/", "127.0.209.202"},
          Case{"https://coder.example.test.'", "coder.example.test"}, Case{"ftp://coder.example.test/", ""},
          Case{"https://", ""}, Case{"https://[nonsense]/", ""}}) {
      CAPTURE(c.text);
      auto host = k8s::host_of_url_at(c.text);
      if (*c.host == '\0')
        CHECK_FALSE(host);
      else
        CHECK(host.value_or("(none)") == c.host);
    }
  }

  TEST_CASE("agent_host_in_script: quoting, heredocs, replaced scripts") {
    struct Case {
      std::string name;
      std::string script;
      std::string host; // "" = none
    };
    std::vector<Case> cases{
        {"Coder's bootstrap with the external URL", bootstrap("https://coder.example.test:18443/"),
         "coder.example.test"},
        {"a patched bootstrap (replace() put the internal URL in)",
         bootstrap("http://coder.coder.svc.cluster.local:80/"), "coder.coder.svc.cluster.local"},
        {"single quotes", "export CODER_AGENT_URL='https://coder.example.test/'\nexec coder agent",
         "coder.example.test"},
        {"no quotes, no export", "CODER_AGENT_URL=https://coder.example.test/ exec ./coder agent",
         "coder.example.test"},
        {"a default expansion", "export CODER_AGENT_URL=${CODER_AGENT_URL:-https://coder.example.test/}",
         "coder.example.test"},
        {"escaped quotes (a script written by echo)",
         "echo \"export CODER_AGENT_URL=\\\"https://coder.example.test/\\\"\" > /tmp/init.sh && sh /tmp/init.sh",
         "coder.example.test"},
        {"a heredoc that writes the script",
         "cat > /tmp/coder-init.sh <<'EOF'\nset -e\nBINARY_URL=https://coder.example.test/bin/coder-linux-arm64\n"
         "export CODER_AGENT_URL=\"https://coder.example.test/\"\nexec ./coder agent\nEOF\nsh /tmp/coder-init.sh",
         "coder.example.test"},
        {"the last assignment is the one in force",
         "export CODER_AGENT_URL=\"https://coder.example.test/\"\nexport "
         "CODER_AGENT_URL=\"http://coder.coder.svc:80/\"",
         "coder.coder.svc"},
        {"only the download URL",
         "curl -fsSL https://coder.example.test/bin/coder-linux-amd64 -o coder && ./coder agent", "coder.example.test"},
        {"a longer variable name is not the agent's", "MY_CODER_AGENT_URL=https://other.example.test/\n", ""},
        {"an assignment without a URL, then the download URL",
         "CODER_AGENT_URL=$URL\nwget https://coder.example.test/bin/coder-linux-amd64", "coder.example.test"},
        {"unrelated URLs only", "git clone https://git.example.test/alice/dev.git && make", ""},
        {"empty", "", ""},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto host = k8s::agent_host_in_script(c.script);
      if (c.host.empty())
        CHECK_FALSE(host);
      else
        CHECK(host.value_or("(none)") == c.host);
    }
  }

  TEST_CASE("agent_pods: the init script wins over CODER_AGENT_URL; only pods with an agent token") {
    json pods = {
        {"items",
         json::array({
             {{"metadata", {{"namespace", "ws"}, {"name", "half-patched"}}},
              {"spec",
               {{"containers",
                 json::array({{{"name", "dev"},
                               {"env", json::array({{{"name", "CODER_AGENT_TOKEN"}, {"value", "secret-1"}},
                                                    {{"name", "CODER_AGENT_URL"},
                                                     {"value", "http://coder.coder.svc.cluster.local"}},
                                                    {{"name", "ENVBUILDER_INIT_SCRIPT"},
                                                     {"value", bootstrap("https://coder.example.test/")}}})}}})}}},
              {"status", {{"phase", "Running"}}}},
             {{"metadata", {{"namespace", "ws"}, {"name", "patched"}}},
              {"spec",
               {{"containers",
                 json::array({{{"name", "dev"},
                               {"command", json::array({"sh", "-c", bootstrap("http://coder.coder.svc:80/")})},
                               {"env", json::array({{{"name", "CODER_AGENT_TOKEN"},
                                                     {"valueFrom", {{"secretKeyRef", {{"name", "t"}}}}}}})}}})}}}},
             {{"metadata", {{"namespace", "ws"}, {"name", "env-only"}}},
              {"spec",
               {{"containers", json::array({{{"env", json::array({{{"name", "CODER_AGENT_TOKEN"}, {"value", "s"}},
                                                                  {{"name", "CODER_AGENT_URL"},
                                                                   {"value", " https://coder.example.test "}}})}}})}}}},
             {{"metadata", {{"namespace", "ws"}, {"name", "no-url"}}},
              {"spec", {{"containers", json::array({{{"env", json::array({{{"name", "CODER_AGENT_TOKEN"}}})}}})}}}},
             {{"metadata", {{"namespace", "ws"}, {"name", "not-a-workspace"}}},
              {"spec",
               {{"containers", json::array({{{"env", json::array({{{"name", "CODER_AGENT_URL"},
                                                                   {"value", "https://coder.example.test"}}})}}})}}}},
             {{"metadata", {{"namespace", "ws"}, {"name", "finished"}}},
              {"spec", {{"containers", json::array({{{"env", json::array({{{"name", "CODER_AGENT_TOKEN"}}})}}})}}},
              {"status", {{"phase", "Succeeded"}}}},
             "not an object",
         })}};
    auto agents = k8s::agent_pods(pods);
    REQUIRE(agents);
    REQUIRE(agents->size() == 4);
    CHECK((*agents)[0].pod == "ws/env-only");
    CHECK((*agents)[0].host == "coder.example.test");
    CHECK((*agents)[0].origin == "CODER_AGENT_URL");
    CHECK((*agents)[1].pod == "ws/half-patched");
    CHECK((*agents)[1].host == "coder.example.test");
    CHECK((*agents)[1].origin == "ENVBUILDER_INIT_SCRIPT");
    CHECK((*agents)[2].pod == "ws/no-url");
    CHECK((*agents)[2].host.empty());
    CHECK((*agents)[3].pod == "ws/patched");
    CHECK((*agents)[3].host == "coder.coder.svc");
    CHECK((*agents)[3].origin == "command");
    CHECK_FALSE(k8s::agent_pods(json::parse(R"({"kind": "PodList"})")));
  }

  TEST_CASE("classify_agent_host") {
    const std::string external = "coder.example.test";
    const std::string internal = "coder.coder.svc.cluster.local";
    const std::vector<util::IpAddress> ips = test::ips({"127.0.209.202"});
    CHECK(k8s::classify_agent_host("coder.example.test", external, internal, ips) == AgentTarget::external);
    CHECK(k8s::classify_agent_host(internal, external, internal, ips) == AgentTarget::internal);
    CHECK(k8s::classify_agent_host("coder.coder.svc", external, internal, ips) == AgentTarget::internal);
    CHECK(k8s::classify_agent_host("coder.coder", external, internal, ips) == AgentTarget::internal);
    CHECK(k8s::classify_agent_host("coder", external, internal, ips) == AgentTarget::other);
    CHECK(k8s::classify_agent_host("127.0.209.202", external, internal, ips) == AgentTarget::internal);
    CHECK(k8s::classify_agent_host("old.example.test", external, internal, ips) == AgentTarget::other);
    CHECK(k8s::classify_agent_host("", external, internal, ips) == AgentTarget::unknown);
  }
}
