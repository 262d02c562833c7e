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

variable "namespace" {
  type    = string
  default = "coder-workspaces"
}

data "coder_provisioner" "me" {}
provider "coder" {}
data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

data "coder_parameter" "repo" {
  description  = "Select a repository to automatically clone and start working with a devcontainer."
  display_name = "Repository (auto)"
  mutable      = true
  name         = "repo"
  order        = 1
  type         = "string"
}

data "coder_parameter" "fallback_image" {
  default      = "codercom/enterprise-base:ubuntu"
  description  = "This image runs if the devcontainer fails to build."
  display_name = "Fallback Image"
  mutable      = true
  order        = 3
}

data "kubernetes_config_map" "coder_workspace_config" {
  metadata {
    name      = "coder-workspace-config"
    namespace = "coder"
  }
}

locals {
  registry = data.kubernetes_config_map.coder_workspace_config.data["registry_url"]
}

locals {
  deployment_name            = "coder-${lower(data.coder_workspace.me.id)}"
  devcontainer_builder_image = "ghcr.io/coder/envbuilder:latest"
  git_author_name            = coalesce(data.coder_workspace_owner.me.full_name, data.coder_workspace_owner.me.name)
  git_author_email           = data.coder_workspace_owner.me.email
  repo_url                   = data.coder_parameter.repo.value
  # The envbuilder provider requires a key-value map of environment variables.
  envbuilder_env = {
    "CODER_AGENT_TOKEN" : coder_agent.main.token,
    # Use the docker gateway if the access URL is 127.0.0.1
    "CODER_AGENT_URL" : replace(data.coder_workspace.me.access_url, "/localhost|127\\.0\\.0\\.1/", "host.docker.internal"),
    "ENVBUILDER_GIT_URL" : local.repo_url,
    # Use the docker gateway if the access URL is 127.0.0.1
    "ENVBUILDER_INIT_SCRIPT" : replace(coder_agent.main.init_script, "/localhost|127\\.0\\.0\\.1/", "host.docker.internal"),
    "ENVBUILDER_FALLBACK_IMAGE" : data.coder_parameter.fallback_image.value,
    "ENVBUILDER_DOCKER_CONFIG_BASE64" : "",
    "ENVBUILDER_PUSH_IMAGE" : "${local.registry}/cache" != "" ? "true" : "",
    "ENVBUILDER_INSECURE" : "true",
  }
}

resource "envbuilder_cached_image" "cached" {
  count         = data.coder_workspace.me.start_count
  builder_image = local.devcontainer_builder_image
  git_url       = local.repo_url
  cache_repo    = "${local.registry}/cache"
  extra_env     = local.envbuilder_env
  insecure      = true
}

resource "coder_agent" "main" {
  arch           = data.coder_provisioner.me.arch
  os             = "linux"
  startup_script = <<-EOT
    # Start code-server in the background, logging to a file.
    echo "Starting code-server for ${data.coder_workspace_owner.me.name}"
  EOT
  dir            = "/workspaces"

  env = {
    "GIT_AUTHOR_NAME"     = local.git_author_name
    "GIT_AUTHOR_EMAIL"    = local.git_author_email
    "GIT_COMMITTER_NAME"  = local.git_author_name
    "GIT_COMMITTER_EMAIL" = local.git_author_email
  }
}

resource "kubernetes_deployment" "main" {
  count = data.coder_workspace.me.start_count
  metadata {
    name      = local.deployment_name
    namespace = var.namespace
  }
  spec {
    replicas = 1
    selector {
      match_labels = {
        "app.kubernetes.io/name" = "coder-workspace"
      }
    }
    template {
      metadata {
        labels = {
          "app.kubernetes.io/name" = "coder-workspace"
        }
      }
      spec {
        container {
          name  = "dev"
          image = envbuilder_cached_image.cached.0.image
          # When the image is not cached yet, envbuilder builds it and runs the init script itself.
          command = envbuilder_cached_image.cached.0.exists ? ["sh", "-c", <<-EOT
            echo "cached image, starting the agent"
            ${coder_agent.main.init_script}
          EOT
          ] : []

          dynamic "env" {
            for_each = nonsensitive(envbuilder_cached_image.cached.0.env_map)
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
