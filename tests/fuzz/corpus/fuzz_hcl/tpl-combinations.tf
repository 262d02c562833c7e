# Two agents, a count-indexed one, an init script passed through a local and one interpolated in a
# heredoc, CODER_AGENT_URL in extra_env and env_map. Written for the coder-dns-doctor tests.
variable "enabled" {
  type    = bool
  default = true
}

data "coder_workspace" "this" {}

resource "coder_agent" "dev" {
  count = var.enabled ? 1 : 0
  os    = "linux"
  arch  = "amd64"
}

resource "coder_agent" "tools" {
  os   = "linux"
  arch = "arm64"
}

locals {
  dev_init = coder_agent.dev[0].init_script
  env_map = {
    CODER_AGENT_URL = data.coder_workspace.this.access_url
    TZ              = "UTC"
  }
}

resource "coder_app" "portal" {
  agent_id = coder_agent.tools.id
  slug     = "portal"
  url      = data.coder_workspace.this.access_url
}

module "links" {
  source     = "./modules/links"
  access_url = data.coder_workspace.this.access_url
}

resource "kubernetes_pod_v1" "dev" {
  count = var.enabled ? data.coder_workspace.this.start_count : 0
  metadata {
    name = "dev-${data.coder_workspace.this.id}"
  }
  spec {
    container {
      name    = "dev"
      image   = "codercom/enterprise-base:ubuntu"
      command = ["sh", "-c", local.dev_init]
    }
    container {
      name  = "tools"
      image = "codercom/enterprise-base:ubuntu"
      args = [<<-EOT
        set -e
        ${coder_agent.tools.init_script}
      EOT
      ]
    }
  }
}

resource "envbuilder_cached_image" "dev" {
  count         = 0
  builder_image = "ghcr.io/coder/envbuilder:latest"
  git_url       = "https://example.com/repo.git"
  extra_env = {
    "CODER_AGENT_URL" = data.coder_workspace.this.access_url
    "ENVBUILDER_INIT_SCRIPT" = coder_agent.tools.init_script
  }
}
