# =============================================================================
# Coder workspace template: devcontainer on Kubernetes, built by envbuilder
# =============================================================================
#
# The workspace image is built from the repository's devcontainer.json by
# envbuilder. Layers are cached in the in-cluster registry so a rebuild of an
# unchanged devcontainer takes seconds. Registry addresses come from the
# ConfigMap coder-workspace-config, which Flux deploys with the Coder release.

terraform {
  required_version = ">= 1.5"
  required_providers {
    coder = {
      source  = "coder/coder"
      version = "~> 2.1"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.35"
    }
    envbuilder = {
      source  = "coder/envbuilder"
      version = "~> 1.0"
    }
  }
}

# =============================================================================
# Providers
# =============================================================================

provider "coder" {}

provider "kubernetes" {
  # Workspaces are provisioned from inside the cluster.
  config_path = var.use_kubeconfig ? "~/.kube/config" : null
}

provider "envbuilder" {}

# =============================================================================
# Variables
# =============================================================================

variable "use_kubeconfig" {
  type        = bool
  description = "Use ~/.kube/config instead of the in-cluster service account."
  default     = false
}

variable "namespace" {
  type        = string
  description = "The Kubernetes namespace that workspace pods run in."
  default     = "coder-workspaces"
}

variable "cache_ttl_days" {
  type        = number
  description = "Days to keep envbuilder layer caches."
  default     = 14
}

# =============================================================================
# Workspace data
# =============================================================================

data "coder_provisioner" "me" {}
data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

# =============================================================================
# Parameters
# =============================================================================
data "coder_parameter" "cpu" {
  name         = "cpu"
  display_name = "CPU"
  description  = "The number of CPU cores"
  type         = "number"
  default      = "2"
  mutable      = true
  order        = 1

  option {
    name  = "2"
    value = "2"
  }

  option {
    name  = "4"
    value = "4"
  }

  option {
    name  = "6"
    value = "6"
  }

  option {
    name  = "8"
    value = "8"
  }
}

data "coder_parameter" "memory" {
  name         = "memory"
  display_name = "Memory"
  description  = "The amount of memory in GB"
  type         = "number"
  default      = "4"
  mutable      = true
  order        = 2

  option {
    name  = "2"
    value = "2"
  }

  option {
    name  = "4"
    value = "4"
  }

  option {
    name  = "8"
    value = "8"
  }

  option {
    name  = "16"
    value = "16"
  }
}

data "coder_parameter" "home_disk_size" {
  name         = "home_disk_size"
  display_name = "Home disk size"
  description  = "The size of the home disk in GB"
  type         = "number"
  default      = "20"
  mutable      = true
  order        = 3

  validation {
    min = 1
    max = 200
  }
}

data "coder_parameter" "repo" {
  name         = "repo"
  display_name = "Repository"
  description  = "The Git repository to clone"
  type         = "string"
  default      = "https://github.example.test/platform/setup"
  icon         = "/icon/git.svg"
  mutable      = true
  order        = 4
}

data "coder_parameter" "repo_branch" {
  name         = "repo_branch"
  display_name = "Branch"
  description  = "The branch to check out"
  type         = "string"
  default      = "main"
  icon         = "/icon/git.svg"
  mutable      = true
  order        = 5
}

data "coder_parameter" "devcontainer_dir" {
  name         = "devcontainer_dir"
  display_name = "Devcontainer directory"
  description  = "Where devcontainer.json lives"
  type         = "string"
  default      = ".devcontainer"
  icon         = "/icon/git.svg"
  mutable      = true
  order        = 6
}

data "coder_parameter" "fallback_image" {
  name         = "fallback_image"
  display_name = "Fallback image"
  description  = "Image used when the build fails"
  type         = "string"
  default      = "codercom/enterprise-base:ubuntu"
  icon         = "/icon/git.svg"
  mutable      = true
  order        = 7
}

data "coder_parameter" "dotfiles_uri" {
  name         = "dotfiles_uri"
  display_name = "Dotfiles"
  description  = "A dotfiles repository to install"
  type         = "string"
  default      = ""
  icon         = "/icon/git.svg"
  mutable      = true
  order        = 8
}

data "coder_parameter" "shell" {
  name         = "shell"
  display_name = "Shell"
  description  = "The login shell"
  type         = "string"
  default      = "bash"
  mutable      = true
  order        = 9

  option {
    name  = "bash"
    value = "bash"
  }

  option {
    name  = "zsh"
    value = "zsh"
  }

  option {
    name  = "fish"
    value = "fish"
  }
}

data "coder_parameter" "ide" {
  name         = "ide"
  display_name = "IDE"
  description  = "The editor to start"
  type         = "string"
  default      = "code-server"
  mutable      = true
  order        = 10

  option {
    name  = "code-server"
    value = "code-server"
  }

  option {
    name  = "vscode-web"
    value = "vscode-web"
  }

  option {
    name  = "jetbrains"
    value = "jetbrains"
  }
}

data "coder_parameter" "gpu" {
  name         = "gpu"
  display_name = "GPU"
  description  = "Request a GPU"
  type         = "bool"
  default      = "false"
  mutable      = true
  order        = 11
}

data "coder_parameter" "node_pool" {
  name         = "node_pool"
  display_name = "Node pool"
  description  = "The node pool to schedule on"
  type         = "string"
  default      = "general"
  mutable      = true
  order        = 12

  option {
    name  = "general"
    value = "general"
  }

  option {
    name  = "highmem"
    value = "highmem"
  }
}

data "coder_parameter" "timezone" {
  name         = "timezone"
  display_name = "Time zone"
  description  = "TZ for the workspace"
  type         = "string"
  default      = "Europe/Amsterdam"
  icon         = "/icon/git.svg"
  mutable      = true
  order        = 13
}

data "coder_parameter" "git_user_name" {
  name         = "git_user_name"
  display_name = "Git user name"
  description  = "Override git user.name"
  type         = "string"
  default      = ""
  icon         = "/icon/git.svg"
  mutable      = true
  order        = 14
}

data "coder_parameter" "git_user_email" {
  name         = "git_user_email"
  display_name = "Git user email"
  description  = "Override git user.email"
  type         = "string"
  default      = ""
  icon         = "/icon/git.svg"
  mutable      = true
  order        = 15
}

data "coder_parameter" "extra_packages" {
  name         = "extra_packages"
  display_name = "Extra packages"
  description  = "Space-separated apt packages to add"
  type         = "string"
  default      = ""
  icon         = "/icon/git.svg"
  mutable      = true
  order        = 16
}

data "coder_parameter" "cache_repo_enabled" {
  name         = "cache_repo_enabled"
  display_name = "Use layer cache"
  description  = "Push and pull envbuilder layer caches"
  type         = "bool"
  default      = "true"
  mutable      = true
  order        = 17
}

data "coder_parameter" "docker_in_docker" {
  name         = "docker_in_docker"
  display_name = "Docker in Docker"
  description  = "Run a docker daemon sidecar"
  type         = "bool"
  default      = "false"
  mutable      = true
  order        = 18
}

data "coder_parameter" "ssh_port_forward" {
  name         = "ssh_port_forward"
  display_name = "SSH port forward"
  description  = "Allow coder port-forward"
  type         = "bool"
  default      = "true"
  mutable      = true
  order        = 19
}

data "coder_parameter" "idle_timeout" {
  name         = "idle_timeout"
  display_name = "Idle timeout"
  description  = "Hours before an idle workspace stops"
  type         = "number"
  default      = "8"
  mutable      = true
  order        = 20

  validation {
    min = 1
    max = 200
  }
}

# =============================================================================
# Cluster configuration (ConfigMap deployed by Flux next to Coder)
# =============================================================================

data "kubernetes_config_map_v1" "coder_workspace_config" {
  metadata {
    name      = "coder-workspace-config"
    namespace = "coder"
  }
}

# =============================================================================
# Locals
# =============================================================================

locals {
  deployment_name = "coder-${data.coder_workspace.me.id}"
  # Envbuilder pushes layer caches to the in-cluster registry.
  cache_repo        = "${data.kubernetes_config_map_v1.coder_workspace_config.data["registry_url"]}/envbuilder-cache"
  registry_pull_url = data.kubernetes_config_map_v1.coder_workspace_config.data["registry_pull_url"]

  repo_url       = data.coder_parameter.repo.value
  devcontainer   = data.coder_parameter.devcontainer_dir.value
  fallback_image = data.coder_parameter.fallback_image.value

  labels = {
    "app.kubernetes.io/name"     = "coder-workspace"
    "app.kubernetes.io/instance" = "coder-workspace-${data.coder_workspace.me.id}"
    "app.kubernetes.io/part-of"  = "coder"
    "com.coder.resource"         = "true"
    "com.coder.workspace.id"     = data.coder_workspace.me.id
    "com.coder.workspace.name"   = data.coder_workspace.me.name
    "com.coder.user.id"          = data.coder_workspace_owner.me.id
    "com.coder.user.username"    = data.coder_workspace_owner.me.name
  }

  # Environment for the workspace container, passed through envbuilder.
  workspace_env = {
    "TZ"                  = data.coder_parameter.timezone.value
    "SHELL"               = "/bin/${data.coder_parameter.shell.value}"
    "GIT_AUTHOR_NAME"     = coalesce(data.coder_parameter.git_user_name.value, data.coder_workspace_owner.me.full_name)
    "GIT_AUTHOR_EMAIL"    = coalesce(data.coder_parameter.git_user_email.value, data.coder_workspace_owner.me.email)
    "GIT_COMMITTER_NAME"  = coalesce(data.coder_parameter.git_user_name.value, data.coder_workspace_owner.me.full_name)
    "GIT_COMMITTER_EMAIL" = coalesce(data.coder_parameter.git_user_email.value, data.coder_workspace_owner.me.email)
  }

  # The script that envbuilder runs once the image is built: it starts the agent.
  init_script = coder_agent.main.init_script
}

# =============================================================================
# Agent
# =============================================================================

resource "coder_agent" "main" {
  arch           = data.coder_provisioner.me.arch
  os             = "linux"
  dir            = "/workspaces/${basename(local.repo_url)}"
  startup_script = <<-EOT
    set -e
    # Install the requested extra packages (best effort).
    if [ -n "${data.coder_parameter.extra_packages.value}" ]; then
      sudo apt-get update -qq && sudo apt-get install -y -qq ${data.coder_parameter.extra_packages.value} || true
    fi
    # Dotfiles, when configured.
    %{if data.coder_parameter.dotfiles_uri.value != ""~}
    coder dotfiles -y "${data.coder_parameter.dotfiles_uri.value}" || true
    %{endif~}
    echo "workspace ${data.coder_workspace.me.name} ready"
  EOT

  env = {
    GIT_AUTHOR_NAME  = coalesce(data.coder_parameter.git_user_name.value, data.coder_workspace_owner.me.full_name)
    GIT_AUTHOR_EMAIL = coalesce(data.coder_parameter.git_user_email.value, data.coder_workspace_owner.me.email)
  }

  metadata {
    display_name = "CPU Usage"
    key          = "0_cpu_usage"
    script       = "coder stat cpu"
    interval     = 10
    timeout      = 1
  }

  metadata {
    display_name = "RAM Usage"
    key          = "1_ram_usage"
    script       = "coder stat mem"
    interval     = 10
    timeout      = 1
  }

  metadata {
    display_name = "Home Disk"
    key          = "3_home_disk"
    script       = "coder stat disk --path $HOME"
    interval     = 60
    timeout      = 1
  }

  metadata {
    display_name = "Load Average (Host)"
    key          = "6_load_host"
    # Load divided by the number of cores, as a percentage.
    script   = <<-EOT
      echo "`cat /proc/loadavg | awk '{ print $1 }'` `nproc`" | awk '{ printf "%0.2f", $1/$2 }'
    EOT
    interval = 60
    timeout  = 1
  }
}

resource "coder_app" "code_server" {
  agent_id     = coder_agent.main.id
  slug         = "code-server"
  display_name = "code-server"
  url          = "http://localhost:13337/?folder=/workspaces/${basename(local.repo_url)}"
  icon         = "/icon/code.svg"
  subdomain    = false
  share        = "owner"
  count        = data.coder_parameter.ide.value == "code-server" ? 1 : 0

  healthcheck {
    url       = "http://localhost:13337/healthz"
    interval  = 5
    threshold = 6
  }
}

resource "coder_script" "code_server" {
  agent_id     = coder_agent.main.id
  display_name = "code-server"
  icon         = "/icon/code.svg"
  run_on_start = true
  count        = data.coder_parameter.ide.value == "code-server" ? 1 : 0
  script       = <<-EOT
    #!/bin/sh
    curl -fsSL https://code-server.dev/install.sh | sh -s -- --method=standalone --prefix=/tmp/code-server
    /tmp/code-server/bin/code-server --auth none --port 13337 >/tmp/code-server.log 2>&1 &
  EOT
}

# =============================================================================
# Storage
# =============================================================================

resource "kubernetes_persistent_volume_claim_v1" "workspaces" {
  metadata {
    name      = "coder-${data.coder_workspace.me.id}-workspaces"
    namespace = var.namespace
    labels    = local.labels
    annotations = {
      "com.coder.user.email" = data.coder_workspace_owner.me.email
    }
  }
  wait_until_bound = false
  spec {
    access_modes = ["ReadWriteOnce"]
    resources {
      requests = {
        storage = "${data.coder_parameter.home_disk_size.value}Gi"
      }
    }
  }
  lifecycle {
    ignore_changes = all
  }
}

# =============================================================================
# Image: envbuilder cached image
# =============================================================================

resource "envbuilder_cached_image" "workspace" {
  count         = data.coder_workspace.me.start_count
  builder_image = "ghcr.io/coder/envbuilder:1.1.0"
  git_url       = local.repo_url
  cache_repo    = local.cache_repo
  insecure      = true

  extra_env = {
    "ENVBUILDER_GIT_URL"           = local.repo_url
    "ENVBUILDER_DEVCONTAINER_DIR"  = local.devcontainer
    "ENVBUILDER_FALLBACK_IMAGE"    = local.fallback_image
    "ENVBUILDER_INIT_SCRIPT"       = local.init_script
    "ENVBUILDER_CACHE_REPO"        = local.cache_repo
    "ENVBUILDER_INSECURE"          = "true"
    "ENVBUILDER_PUSH_IMAGE"        = data.coder_parameter.cache_repo_enabled.value
    "ENVBUILDER_CACHE_TTL_DAYS"    = var.cache_ttl_days
    "ENVBUILDER_DOCKER_CONFIG_DIR" = "/.envbuilder/config"
    # The agent reports build logs to Coder while envbuilder runs.
    "CODER_AGENT_TOKEN" = coder_agent.main.token
    "CODER_AGENT_URL"   = data.coder_workspace.me.access_url

    # Git checkout of the workspace repository.
    "ENVBUILDER_GIT_CLONE_SINGLE_BRANCH" = "true"
    "ENVBUILDER_GIT_CLONE_DEPTH"         = "1"
    "ENVBUILDER_REMOTE_REPO_BUILD_MODE"  = "false"
  }
}

# =============================================================================
# Workload
# =============================================================================

resource "kubernetes_deployment_v1" "workspace" {
  count            = data.coder_workspace.me.start_count
  wait_for_rollout = false

  depends_on = [
    kubernetes_persistent_volume_claim_v1.workspaces
  ]

  metadata {
    name      = local.deployment_name
    namespace = var.namespace
    labels    = local.labels
    annotations = {
      "com.coder.user.email" = data.coder_workspace_owner.me.email
    }
  }

  spec {
    replicas = 1
    selector {
      match_labels = {
        "app.kubernetes.io/name"     = "coder-workspace"
        "app.kubernetes.io/instance" = "coder-workspace-${data.coder_workspace.me.id}"
      }
    }
    strategy {
      type = "Recreate"
    }

    template {
      metadata {
        labels = local.labels
      }
      spec {
        security_context {
          fs_group = 1000
        }
        node_selector = {
          "node-pool" = data.coder_parameter.node_pool.value
        }

        container {
          name              = "dev"
          image             = envbuilder_cached_image.workspace[0].image
          image_pull_policy = "Always"
          security_context {
            privileged = data.coder_parameter.docker_in_docker.value
          }

          # Environment computed by envbuilder (cached build or fresh build).
          dynamic "env" {
            for_each = nonsensitive(envbuilder_cached_image.workspace[0].env_map)
            content {
              name  = env.key
              value = env.value
            }
          }

          # Workspace environment on top.
          dynamic "env" {
            for_each = local.workspace_env
            content {
              name  = env.key
              value = env.value
            }
          }

          env {
            name  = "REGISTRY_PULL_URL"
            value = local.registry_pull_url
          }

          resources {
            requests = {
              "cpu"    = "250m"
              "memory" = "512Mi"
            }
            limits = {
              "cpu"    = "${data.coder_parameter.cpu.value}"
              "memory" = "${data.coder_parameter.memory.value}Gi"
            }
          }
          volume_mount {
            mount_path = "/workspaces"
            name       = "workspaces"
            read_only  = false
          }
        }

        volume {
          name = "workspaces"
          persistent_volume_claim {
            claim_name = kubernetes_persistent_volume_claim_v1.workspaces.metadata.0.name
            read_only  = false
          }
        }

        affinity {
          // Spread workspaces across nodes.
          pod_anti_affinity {
            preferred_during_scheduling_ignored_during_execution {
              weight = 1
              pod_affinity_term {
                topology_key = "kubernetes.io/hostname"
                label_selector {
                  match_expressions {
                    key      = "app.kubernetes.io/name"
                    operator = "In"
                    values   = ["coder-workspace"]
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

/*
 * Metadata shown on the workspace page.
 */
resource "coder_metadata" "workspace" {
  count       = data.coder_workspace.me.start_count
  resource_id = kubernetes_deployment_v1.workspace[0].id

  item {
    key   = "image"
    value = envbuilder_cached_image.workspace[0].image
  }
  item {
    key   = "cached"
    value = envbuilder_cached_image.workspace[0].exists ? "yes" : "no"
  }
  item {
    key   = "repository"
    value = local.repo_url
  }
}

output "cache_hits" {
  value = [for image in envbuilder_cached_image.workspace : image.exists if image.exists]
}
