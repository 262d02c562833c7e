# =============================================================================
# Devcontainer workspaces on Kubernetes, built by envbuilder
# =============================================================================

terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
    kubernetes = {
      source = "hashicorp/kubernetes"
    }
    envbuilder = {
      source = "coder/envbuilder"
    }
  }
}

provider "coder" {}
provider "kubernetes" {}
provider "envbuilder" {}

data "coder_provisioner" "me" {}
data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

data "coder_parameter" "repo" {
  name         = "repo"
  display_name = "Repository"
  default      = "https://git.example.test/platform/setup"
  mutable      = true
}

# =============================================================================
# Cluster configuration
# =============================================================================

data "kubernetes_config_map_v1" "coder_workspace_config" {
  metadata {
    name      = "coder-workspace-config"
    namespace = "coder"
  }
}

locals {
  # Layer caches go to the in-cluster registry.
  cache_repo        = "${data.kubernetes_config_map_v1.coder_workspace_config.data["registry_url"]}/cache"
  registry_pull_url = data.kubernetes_config_map_v1.coder_workspace_config.data["registry_pull_url"]

  labels = {
    "app.kubernetes.io/name"   = "coder-workspace"
    "com.coder.workspace.id"   = data.coder_workspace.me.id
    "com.coder.workspace.name" = data.coder_workspace.me.name
  }
}

# =============================================================================
# Agent and image
# =============================================================================

resource "coder_agent" "main" {
  arch           = data.coder_provisioner.me.arch
  os             = "linux"
  startup_script = <<-EOT
    set -e
    echo "workspace ${data.coder_workspace.me.name} is up"
  EOT
}

resource "envbuilder_cached_image" "workspace" {
  count         = data.coder_workspace.me.start_count
  builder_image = "ghcr.io/coder/envbuilder:latest"
  git_url       = data.coder_parameter.repo.value
  cache_repo    = local.cache_repo

  extra_env = {
    "ENVBUILDER_GIT_URL"     = data.coder_parameter.repo.value
    "ENVBUILDER_INIT_SCRIPT" = coder_agent.main.init_script
    "ENVBUILDER_CACHE_REPO"  = local.cache_repo
    # envbuilder forwards build logs to Coder with these two.
    "CODER_AGENT_TOKEN" = coder_agent.main.token
    "CODER_AGENT_URL"   = data.coder_workspace.me.access_url
  }
}

resource "kubernetes_deployment_v1" "workspace" {
  count            = data.coder_workspace.me.start_count
  wait_for_rollout = false
  metadata {
    name      = "coder-${data.coder_workspace.me.id}"
    namespace = "coder-workspaces"
    labels    = local.labels
  }
  spec {
    replicas = 1
    selector {
      match_labels = local.labels
    }
    template {
      metadata {
        labels = local.labels
      }
      spec {
        container {
          name  = "dev"
          image = envbuilder_cached_image.workspace[0].image
          dynamic "env" {
            for_each = nonsensitive(envbuilder_cached_image.workspace[0].env_map)
            content {
              name  = env.key
              value = env.value
            }
          }
          env {
            name  = "REGISTRY_PULL_URL"
            value = local.registry_pull_url
          }
        }
      }
    }
  }
}
