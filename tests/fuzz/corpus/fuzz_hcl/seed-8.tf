data "coder_workspace" "me" {}

data "kubernetes_config_map_v1" "workspace_config" {
  metadata {
    name = "coder-workspace-config"
  }
}

resource "coder_agent" "main" {
  os             = "linux"
  arch           = "amd64"
  startup_script = <<-EOT
    echo "the closing marker is missing"
    exec sleep infinity
}
