# A devcontainer template in the envbuilder shape: the init script travels in a locals map, already
# wrapped in replace() for the Docker-gateway case. Written for the coder-dns-doctor tests.
terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
    envbuilder = {
      source = "coder/envbuilder"
    }
  }
}

variable "namespace" {
  type    = string
  default = "coder-workspaces"
}

variable "cache_repo" {
  type    = string
  default = ""
}

data "coder_workspace" "me" {}

data "coder_parameter" "repo" {
  name    = "repo"
  default = "https://github.com/coder/envbuilder-starter-devcontainer"
  mutable = true
}

locals {
  repo_url = data.coder_parameter.repo.value
  envbuilder_env = {
    "CODER_AGENT_TOKEN" : coder_agent.main.token,
    # Docker gateway: the agent inside the build sees the host as host.docker.internal
    "CODER_AGENT_URL" : replace(data.coder_workspace.me.access_url, "/localhost|127\\.0\\.0\\.1/", "host.docker.internal"),
    "ENVBUILDER_GIT_URL" : local.repo_url,
    "ENVBUILDER_INIT_SCRIPT" : replace(coder_agent.main.init_script, "/localhost|127\\.0\\.0\\.1/", "host.docker.internal"),
    "ENVBUILDER_FALLBACK_IMAGE" : "codercom/enterprise-base:ubuntu",
  }
}

resource "coder_agent" "main" {
  arch = "amd64"
  os   = "linux"
  dir  = "/workspaces"
}

resource "envbuilder_cached_image" "cached" {
  count         = var.cache_repo == "" ? 0 : data.coder_workspace.me.start_count
  builder_image = "ghcr.io/coder/envbuilder:latest"
  git_url       = local.repo_url
  cache_repo    = var.cache_repo
  extra_env     = local.envbuilder_env
}

resource "kubernetes_deployment_v1" "main" {
  count = data.coder_workspace.me.start_count
  metadata {
    name      = "coder-${data.coder_workspace.me.id}"
    namespace = var.namespace
  }
  spec {
    template {
      spec {
        container {
          name  = "dev"
          image = "ghcr.io/coder/envbuilder:latest"
          dynamic "env" {
            for_each = nonsensitive(local.envbuilder_env)
            content {
              name  = env.key
              value = env.value
            }
          }
        }
      }
    }
  }
}

module "code-server" {
  source   = "registry.coder.com/coder/code-server/coder"
  agent_id = coder_agent.main.id
  folder   = "/workspaces"
}
