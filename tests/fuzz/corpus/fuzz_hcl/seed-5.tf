data "coder_workspace" "me" {}

data "kubernetes_config_map_v1" "workspace_config" {
  metadata {
    name = "coder-workspace-config"
  }
}

resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"

resource "kubernetes_pod" "main" {
  spec {
    container {
      command = ["sh", "-c", coder_agent.main.init_script]
    }
  }
}
