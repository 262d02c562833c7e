data "coder_workspace" "me" {}

data "kubernetes_config_map_v1" "workspace_config" {
  metadata {
    name = "coder-workspace-config"
  }
}

resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}

resource "docker_container" "workspace" {
  image = "codercom/enterprise-base:ubuntu"
  # The agent is started by an entrypoint baked into the image.
}
